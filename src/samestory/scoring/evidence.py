"""Evidence: the checkable facts behind a score (shared entities, dates, numbers,
aligned passages, copied share, what cleaning removed)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from samestory.signals.alignment import best_pairs
from samestory.signals.entities import KINDS, countries
from samestory.signals.features import ArticleSignals
from samestory.signals.lexical import copied_share
from samestory.signals.names import extract_entities, pair_up
from samestory.signals.normalize import fold
from samestory.text import CORE_LANGUAGES
from samestory.types import AlignedPassage, Evidence, Mention

_LABEL = {"person": "people", "organisation": "organisations", "place": "places", "other": "other"}
EntityLists = dict[str, list[str]]


def entity_lists(a: Sequence[Mention], b: Sequence[Mention]) -> tuple[EntityLists, EntityLists, EntityLists]:
    """Shared, only-in-A and only-in-B entities by kind ("people", "organisations",
    "places", "other"). Each entity of either article is in exactly one of the three
    (``names.pair_up``); a shared one is listed under its kind in A, by its name
    in A, or "name in A ~ name in B" where the two articles name it differently."""
    pairs = pair_up(list(a), list(b))
    in_pair_a = {ma.key for ma, _ in pairs}
    in_pair_b = {mb.key for _, mb in pairs}
    shared: EntityLists = {label: [] for label in _LABEL.values()}
    for ma, mb in pairs:
        shared[_LABEL[ma.kind]].append(_shared_name(ma, mb))
    only_a = {_LABEL[kind]: [m.text for m in a if m.kind == kind and m.key not in in_pair_a] for kind in KINDS}
    only_b = {_LABEL[kind]: [m.text for m in b if m.kind == kind and m.key not in in_pair_b] for kind in KINDS}
    return shared, only_a, only_b


def _shared_name(ma: Mention, mb: Mention) -> str:
    if fold(ma.text) == fold(mb.text):
        return ma.text
    if ma.key == mb.key and (ma.text in mb.text or mb.text in ma.text):
        return max(ma.text, mb.text, key=len)          # "OSCE" and "Organization ... (OSCE)"
    return f"{ma.text} ~ {mb.text}"


def build_evidence(a: ArticleSignals, b: ArticleSignals, sim: np.ndarray, max_passages: int = 5) -> Evidence:
    # The entities a reader is shown (``names``), not the scorer's noisier mentions (``entities``).
    ents_a = extract_entities(a.article.full_text, a.article.lang)
    ents_b = extract_entities(b.article.full_text, b.article.lang)
    shared, only_a, only_b = entity_lists(ents_a, ents_b)
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
    for side, units in (("a", a.units), ("b", b.units)):  # passages of a long article the encoder did not read
        if units.not_read:
            flags.append(f"{side}: {units.not_read}")
    copy_ab, copy_ba = copied_share(a.article.full_text, b.article.full_text)
    return Evidence(
        languages=(a.article.lang, b.article.lang),
        shared_entities=shared,
        only_a_entities=only_a,
        only_b_entities=only_b,
        countries=(sorted(countries(ents_a)), sorted(countries(ents_b))),
        dates=(list(a.dates), list(b.dates)),
        numbers=(list(a.numbers), list(b.numbers)),
        aligned_passages=aligned,
        copied_share=(round(copy_ab, 4), round(copy_ba, 4)),
        cleaning=(a.article.cleaning, b.article.cleaning),
        flags=flags,
        passages=(list(a.units.passages), list(b.units.passages)),
    )
