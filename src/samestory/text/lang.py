"""Language identification with py3langid (a maintained langid.py fork: small,
offline, 97 languages)."""
from __future__ import annotations

import dataclasses
from functools import lru_cache

from samestory.types import Article

#: The SemEval-2022 Task 8 languages: the scorer was trained on these.
CORE_LANGUAGES = frozenset("en de es pl tr ar ru zh fr it".split())
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # Two-letter (ISO 639-1) languages only, plus 'zxx' (no linguistic content):
    # the model's regional varieties (wuu, yue, arz, ...) otherwise steal short
    # Chinese and Arabic texts from zh and ar.
    identifier.set_languages([l for l in identifier.labels if len(l) == 2 or l == "zxx"])
    return identifier


def detect(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability); ``und`` when the text is too short or unclear."""
    sample = text[:3000]
    if sum(ch.isalpha() for ch in sample) < 10:
        return "und", 0.0
    lang, prob = _identifier().classify(sample)
    prob = float(prob)
    if lang == "zxx" or prob < MIN_CONFIDENCE:
        return "und", prob
    return lang, prob


def tag_language(article: Article) -> Article:
    """Detect the language unless the record stated one."""
    if article.lang != "und" and article.lang_confidence >= 1.0:
        return article
    lang, prob = detect(article.full_text)
    return dataclasses.replace(article, lang=lang, lang_confidence=prob)
