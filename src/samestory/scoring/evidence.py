"""Evidence: the checkable facts behind a score (shared entities, dates, numbers,
aligned passages, copied share, what cleaning removed)."""
from __future__ import annotations

import numpy as np

from samestory.signals.alignment import best_pairs
from samestory.signals.entities import KINDS, countries, match
from samestory.signals.features import ArticleSignals
from samestory.signals.lexical import copied_share
from samestory.text import CORE_LANGUAGES
from samestory.types import AlignedPassage, Evidence

_LABEL = {"person": "people", "organisation": "organisations", "place": "places", "other": "other"}


def _entities(a: ArticleSignals, b: ArticleSignals) -> tuple[dict[str, list[str]], dict[str, list[str]],
                                                           dict[str, list[str]]]:
    shared: dict[str, list[str]] = {}
    only_a: dict[str, list[str]] = {}
    only_b: dict[str, list[str]] = {}
    pairs = match(list(a.mentions), list(b.mentions))
    matched_a = {ma.key for ma, _ in pairs}
    matched_b = {mb.key for _, mb in pairs}
    for kind in KINDS:
        label = _LABEL[kind]
        seen: set[str] = set()
        shared[label] = []
        for ma, mb in pairs:
            if ma.kind == kind and ma.key not in seen:
                seen.add(ma.key)
                shared[label].append(ma.text if ma.key == mb.key else f"{ma.text} ~ {mb.text}")
        only_a[label] = [m.text for m in a.mentions if m.kind == kind and m.key not in matched_a]
        only_b[label] = [m.text for m in b.mentions if m.kind == kind and m.key not in matched_b]
    return shared, only_a, only_b


def build_evidence(a: ArticleSignals, b: ArticleSignals, sim: np.ndarray, max_passages: int = 5) -> Evidence:
    shared, only_a, only_b = _entities(a, b)
    aligned = [
        AlignedPassage(a=a.units.passages[i], b=b.units.passages[j], similarity=round(s, 4),
                       a_index=i, b_index=j)
        for i, j, s in best_pairs(sim, k=max_passages)
    ]
    flags = []
    for side, art in (("a", a.article), ("b", b.article)):
        if art.lang == "und":
            flags.append(f"{side}: language unknown; scored with the multilingual model anyway")
        elif art.lang not in CORE_LANGUAGES:
            flags.append(f"{side}: language '{art.lang}' is outside the 10 the scorer was trained on")
        if art.cleaning.not_article:
            flags.append(f"{side}: not an article ({art.cleaning.not_article}); the scores are the "
                         "model's prior, not a judgement")
        if art.cleaning.truncated_bytes:
            flags.append(f"{side}: input over the size limit; {art.cleaning.truncated_bytes:,} bytes not read")
    copy_ab, copy_ba = copied_share(a.article.full_text, b.article.full_text)
    return Evidence(
        languages=(a.article.lang, b.article.lang),
        shared_entities=shared,
        only_a_entities=only_a,
        only_b_entities=only_b,
        countries=(sorted(countries(a.mentions)), sorted(countries(b.mentions))),
        dates=(list(a.dates), list(b.dates)),
        numbers=(list(a.numbers), list(b.numbers)),
        aligned_passages=aligned,
        copied_share=(round(copy_ab, 4), round(copy_ba, 4)),
        cleaning=(a.article.cleaning, b.article.cleaning),
        flags=flags,
        passages=(list(a.units.passages), list(b.units.passages)),
    )
