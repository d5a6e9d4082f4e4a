"""Cut an article into the units the encoder reads.

What the encoder reads (the README repeats this): up to ``max_passages``
*passages* of a few sentences each (about 100 tokens), each encoded once: all of
them for ordinary articles; for long ones the opening, the closing passages and
an even sample of the middle, so the end of a long story is read too. The
article's *head* (title plus opening, about 400 tokens) and *tail* (the last
~200 tokens, only for articles longer than the head) are runs of those passages,
so their vectors are pooled from the passages' and cost no second encoding.
Short windows also keep attention, quadratic in length, cheap.
Lexical, entity, date and number signals read the whole cleaned text.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from samestory.types import Article

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?…»\"”])\s+(?=[\"“«„(\[]?[A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁΑ-Ω0-9\u0600-\u06ff])"  # . Next
    r"|(?<=[。！？])"                                                        # CJK full stops
    r"|(?<=[؟.!])\s+(?=[\u0600-\u06ff])"                                    # Arabic
    r"|\s{2,}|\n+"                                                          # layout breaks
)


@dataclass(frozen=True)
class UnitSettings:
    head_weight: int = 1600
    tail_weight: int = 800
    passage_weight: int = 400
    max_passages: int = 24


@dataclass(frozen=True)
class TextUnits:
    passages: tuple[str, ...]
    head_passages: int        # the first n passages make the head
    tail_passages: int        # the last n passages make the tail; 0: no separate tail

    @property
    def head(self) -> str:
        return " ".join(self.passages[:self.head_passages])

    @property
    def tail(self) -> str | None:
        return " ".join(self.passages[-self.tail_passages:]) if self.tail_passages else None


def weight(text: str) -> int:
    """Rough size in characters of Latin text: a CJK character counts as three,
    since it costs the tokenizer about as much as three Latin letters."""
    return len(text) + 2 * len(_CJK.findall(text))


def sentences(text: str) -> list[str]:
    parts = (p.strip() for p in _SENTENCE_BREAK.split(unicodedata.normalize("NFC", text)))
    return [p for p in parts if p and any(ch.isalnum() for ch in p)]


def cut(text: str, budget: int, from_end: bool = False) -> str:
    """Longest prefix (or suffix) within ``budget`` weight, on a word boundary."""
    if weight(text) <= budget:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters: weight is monotone
        mid = (lo + hi + 1) // 2
        piece = text[-mid:] if from_end else text[:mid]
        lo, hi = (mid, hi) if weight(piece) <= budget else (lo, mid - 1)
    piece = text[-lo:] if from_end else text[:lo]
    if " " in piece.strip():
        piece = piece.split(" ", 1)[1] if from_end else piece.rsplit(" ", 1)[0]
    return piece.strip()


def passages(text: str, settings: UnitSettings = UnitSettings()) -> list[str]:
    """Greedy runs of whole sentences up to ``passage_weight`` each."""
    out: list[str] = []
    current = ""
    for sent in sentences(text):
        sent = cut(sent, settings.passage_weight)
        if current and weight(current) + weight(sent) + 1 > settings.passage_weight:
            out.append(current)
            current = sent
        else:
            current = f"{current} {sent}".strip()
    if current:
        out.append(current)
    return out


def _run(weights: list[int], budget: int) -> int:
    """How many of the leading items fit in ``budget`` (at least one)."""
    total, n = 0, 0
    for w in weights:
        total += w
        if n and total > budget:
            break
        n += 1
    return n


def _sample(items: list[str], k: int, keep_last: int) -> list[str]:
    """The first two thirds of ``k``, the last ``keep_last`` and an even sample between."""
    if len(items) <= k:
        return items
    lead = (2 * k) // 3
    middle = items[lead:len(items) - keep_last]
    step = len(middle) / (k - lead - keep_last)
    picked = [middle[int(i * step)] for i in range(k - lead - keep_last)]
    return items[:lead] + picked + items[len(items) - keep_last:]


def opening(article: Article, settings: UnitSettings = UnitSettings()) -> str:
    """Title plus the opening, about 400 tokens, as one text: what the corpus
    embeds for story candidates (its thresholds were tuned on exactly this text)."""
    return cut(article.full_text, settings.head_weight)


def text_units(article: Article, settings: UnitSettings = UnitSettings()) -> TextUnits:
    found = passages(article.full_text, settings) or [cut(article.full_text, settings.passage_weight)]
    weights = [weight(p) for p in found]
    k, lead = settings.max_passages, (2 * settings.max_passages) // 3
    n_head = min(_run(weights, settings.head_weight), lead)
    n_tail = 0
    if sum(weights) > settings.head_weight + settings.tail_weight // 2:
        n_tail = min(_run(weights[::-1], settings.tail_weight), len(found) - n_head, k - lead - 1)
    return TextUnits(passages=tuple(_sample(found, k, n_tail)), head_passages=n_head, tail_passages=n_tail)
