"""Cut an article into the units the encoder reads.

What is read (the README repeats this): the *head* (title plus the opening,
about 400 tokens), the *tail* (the last ~200 tokens, only for articles longer
than the head) and up to ``max_passages`` *passages* of a few sentences each: all
of them for ordinary articles, and for long ones the first ``max_passages * 2/3``
plus an even sample of the rest, so the end of a long story is read too.
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
    head: str
    tail: str | None
    passages: tuple[str, ...]


def weight(text: str) -> int:
    """Rough size in characters of Latin text: a CJK character counts as three,
    since it costs the tokenizer about as much as three Latin letters."""
    return len(text) + 2 * len(_CJK.findall(text))


def sentences(text: str) -> list[str]:
    parts = (p.strip() for p in _SENTENCE_BREAK.split(unicodedata.normalize("NFC", text)))
    return [p for p in parts if p and any(ch.isalnum() for ch in p)]


def _cut(text: str, budget: int, from_end: bool = False) -> str:
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
        sent = _cut(sent, settings.passage_weight)
        if current and weight(current) + weight(sent) + 1 > settings.passage_weight:
            out.append(current)
            current = sent
        else:
            current = f"{current} {sent}".strip()
    if current:
        out.append(current)
    return out


def _sample(items: list[str], k: int) -> list[str]:
    if len(items) <= k:
        return items
    lead = (2 * k) // 3
    rest = items[lead:]
    step = len(rest) / (k - lead)
    return items[:lead] + [rest[int(i * step)] for i in range(k - lead)]


def text_units(article: Article, settings: UnitSettings = UnitSettings()) -> TextUnits:
    body = article.text
    head = _cut(article.full_text, settings.head_weight)
    tail = None
    if weight(article.full_text) > settings.head_weight + settings.tail_weight // 2:
        tail = _cut(body, settings.tail_weight, from_end=True)
    found = passages(article.full_text, settings) or [head]
    return TextUnits(head=head, tail=tail, passages=tuple(_sample(found, settings.max_passages)))
