"""Language identification with py3langid (a maintained langid.py fork: small,
offline, 97 languages)."""
from __future__ import annotations

import dataclasses
import os
from functools import lru_cache
from typing import TYPE_CHECKING

from samestory.types import Article

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

#: The SemEval-2022 Task 8 languages: the scorer was trained on these.
CORE_LANGUAGES = frozenset("en de es pl tr ar ru zh fr it".split())
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    """py3langid's model, restricted to two-letter (ISO 639-1) languages plus 'zxx'
    (no linguistic content): the model's regional varieties (wuu, yue, arz, ...)
    otherwise steal short Chinese and Arabic texts from zh and ar.

    The package ships its model xz-compressed (a second to unpack on every start);
    it is unpacked once into samestory's cache folder as a plain ``.npz``."""
    from array import array
    from importlib import metadata

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    from samestory.embed.base import cache_dir

    path = cache_dir() / f"py3langid-{metadata.version('py3langid')}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            model = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):     # absent or damaged: derived data, unpack again
        ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
        model = {"ptc": np.asarray(ptc), "pc": np.asarray(pc), "classes": np.array(classes),
                 "nextmove": np.asarray(nextmove), "row": np.asarray(row), "output": np.asarray(output, np.int32)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **model)
        os.replace(tmp, path)

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


def tag_language(article: Article) -> Article:
    """Detect the language unless the record stated one."""
    if article.lang != "und" and article.lang_confidence >= 1.0:
        return article
    lang, prob = detect(article.full_text)
    return dataclasses.replace(article, lang=lang, lang_confidence=prob)
