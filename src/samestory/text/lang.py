"""Language identification with py3langid (a maintained langid.py fork: small,
offline, 97 languages)."""
from __future__ import annotations

import dataclasses
import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from samestory.types import Article

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

log = logging.getLogger(__name__)

#: The SemEval-2022 Task 8 languages: the scorer was trained on these.
CORE_LANGUAGES = frozenset("en de es pl tr ar ru zh fr it".split())
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """py3langid's model, restricted to two-letter (ISO 639-1) languages plus 'zxx'
    (no linguistic content): the model's regional varieties (wuu, yue, arz, ...)
    otherwise steal short Chinese and Arabic texts from zh and ar.

    The package ships its model xz-compressed (a second to unpack on every start);
    it is unpacked once into samestory's cache folder as a plain ``.npz`` (unpacked
    again, with a warning, when that file is damaged; kept in memory only when the
    folder cannot be written)."""
    from array import array
    from importlib import metadata

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    from samestory.embed.base import cache_dir, save_derived

    keys = ("ptc", "pc", "classes", "nextmove", "row", "output")
    path = cache_dir() / f"py3langid-{metadata.version('py3langid')}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            model = {k: data[k] for k in keys}
        if model["nextmove"].dtype.itemsize not in (2, 4, 8) or model["row"].dtype.itemsize not in (2, 4, 8):
            raise ValueError("arrays of the wrong type")
    except Exception as exc:  # noqa: BLE001 - absent or damaged (any reader error): derived data, unpack again
        if path.is_file():
            log.warning("cached language model %s is unreadable (%s); unpacking it again", path, exc)
        ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
        model = {"ptc": np.asarray(ptc), "pc": np.asarray(pc), "classes": np.array(classes),
                 "nextmove": np.asarray(nextmove), "row": np.asarray(row), "output": np.asarray(output, np.int32)}
        save_derived(path, lambda tmp: np.savez(tmp, **model),
                     cost="py3langid's model is unpacked on every start (about a second)")

    def stdlib_array(values: np.ndarray) -> array[int]:
        out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
        out.frombytes(np.ascontiguousarray(values).data.cast("B"))
        return out

    identifier = LanguageIdentifier(model["ptc"], model["pc"], model["classes"].tolist(),
                                    stdlib_array(model["nextmove"]), model["output"].tolist(),
                                    norm_probs=True, tk_row=stdlib_array(model["row"]))
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


def ranked(text: str, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` likeliest languages of ``text`` with their probabilities, likeliest first
    (empty when the text has too few letters to say)."""
    sample = text[:3000]
    if sum(ch.isalpha() for ch in sample) < 10:
        return []
    return [(lang, float(p)) for lang, p in _identifier().rank(sample)[:n] if lang != "zxx"]


def same_language(a: str, b: str) -> bool:
    """Whether two articles may be in one language: equal codes, or one unknown (``und``):
    an unknown language is never evidence of a translation."""
    return a == b or "und" in (a, b)


def with_prior(article: Article, prior: dict[str, float], share: float = 0.5) -> Article:
    """An article detection left undecided (``und``: a short headline), given the language of the
    rest of its feed: ``prior`` maps languages to their share of the feed's confident articles.
    The feed's main language (a share of at least ``share``) is taken when it is among the
    text's five likeliest; otherwise the article stays ``und``."""
    if article.lang != "und" or not prior:
        return article
    main, weight = max(prior.items(), key=lambda item: item[1])
    if weight < share:
        return article
    for lang, prob in ranked(article.full_text):
        if lang == main:
            return dataclasses.replace(article, lang=lang, lang_confidence=prob)
    return article


def tag_language(article: Article) -> Article:
    """Detect the language unless the record stated one."""
    if article.lang != "und" and article.lang_confidence >= 1.0:
        return article
    lang, prob = detect(article.full_text)
    return dataclasses.replace(article, lang=lang, lang_confidence=prob)
