"""Cut an article into the units the encoder reads.

What the encoder reads (docs/design.md repeats this): up to ``max_passages``
*passages* of a few sentences each (about 100 tokens), each encoded once: all of
them for ordinary articles; for long ones the opening, the closing passages and
an even sample of the middle, so the end of a long story is read too. The
article's *head* (title plus opening, about 400 tokens) and *tail* (the last
~200 tokens, only for articles longer than the head) are runs of those passages,
so their vectors are pooled from the passages' and cost no second encoding. The
*headline* (``headline``: the title, or else the first sentence) is the one text encoded
again, on its own: a short window.
Short windows also keep attention, quadratic in length, cheap.
A "sentence" longer than a passage (a scrape that lost its full stops) is, with
``UnitSettings.split_long_sentences``, split at clause boundaries, or failing those
between words, so that every word of an ordinary article is read; by default it is
still cut at the passage's weight, as the shipped pair scorer was trained (its
retraining on split passages goes with the next scorer). Only the middle of a long
article is sampled; ``TextUnits.not_read`` says how much was left out, cut or sampled.
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
# Where an over-long sentence may break, strongest first; a match's start is the break (the
# text before it is one piece): after ; : or a dash, after a comma, before a conjunction.
_CLAUSE_BREAKS = (
    re.compile(r"(?<=[;:؛])\s|(?<=\s[—–-])\s|(?<=\w[—–])\s|(?<=[；：])"),
    re.compile(r"(?<=[,،])\s|(?<=[，、])"),
    re.compile(r"\s(?=(?:and|but|or|while|whereas|because|although|though|which|who|whom|whose|where|when|"
               r"that|saying|adding|after|before|since|until|unless|und|aber|oder|weil|dass|denn|sondern|"
               r"et|mais|ou|que|qui|car|donc|y|pero|porque|e|ma|che|perché|mentre|ale|że|oraz|"
               r"и|но|что|а|или|когда)\s)"),
)
_WORD_BREAK = re.compile(r"\s|(?<=[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])"
                         r"(?=[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])")


@dataclass(frozen=True)
class UnitSettings:
    head_weight: int = 1600
    tail_weight: int = 800
    passage_weight: int = 400
    max_passages: int = 24
    headline_weight: int = 200            # the headline's own vector reads at most this much (0: none)
    split_long_sentences: bool = False    # see the module docstring


@dataclass(frozen=True)
class TextUnits:
    passages: tuple[str, ...]
    head_passages: int        # the first n passages make the head
    tail_passages: int        # the last n passages make the tail; 0: no separate tail
    skipped_passages: int = 0  # passages of the middle of a long article that the sample left out
    skipped_weight: int = 0    # their weight (about characters)
    cut_weight: int = 0        # the weight cut off over-long sentences (not split_long_sentences)
    headline: str = ""         # the title, else the first sentence (``headline``): encoded on its own

    @property
    def not_read(self) -> str | None:
        """What the encoder did not read, in plain words; None when it read every word."""
        notes = []
        if self.skipped_passages:
            total = len(self.passages) + self.skipped_passages
            notes.append(f"long article: the encoder read {len(self.passages)} of its {total} passages (the "
                         f"opening, the end and an even sample of the middle); {self.skipped_passages} passages, "
                         f"about {self.skipped_weight:,} characters, were not embedded")
        if self.cut_weight:
            notes.append(f"sentences without full stops ran past a passage: about {self.cut_weight:,} characters "
                         "at their ends were not embedded")
        if not notes:
            return None
        return "; ".join(notes) + " (words, names, dates and numbers were read in full)"

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


def _fit(text: str, budget: int, from_end: bool = False) -> int:
    """How many characters of the start (or end) of ``text`` fit in ``budget`` weight."""
    lo, hi = 0, len(text)
    while lo < hi:  # binary search on characters: weight is monotone
        mid = (lo + hi + 1) // 2
        piece = text[-mid:] if from_end else text[:mid]
        lo, hi = (mid, hi) if weight(piece) <= budget else (lo, mid - 1)
    return lo


def cut(text: str, budget: int, from_end: bool = False) -> str:
    """Longest prefix (or suffix) within ``budget`` weight, on a word boundary."""
    if weight(text) <= budget:
        return text
    lo = _fit(text, budget, from_end)
    piece = text[-lo:] if from_end else text[:lo]
    if " " in piece.strip():
        piece = piece.split(" ", 1)[1] if from_end else piece.rsplit(" ", 1)[0]
    return piece.strip()


def _break_at(text: str, n: int) -> int:
    """Where to end the piece of ``text`` whose first ``n`` characters fit: the latest clause
    boundary of the strongest kind in the second half of those, else the last word boundary."""
    window = text[:n + 1]           # a break may fall on the character just past the fit
    for pattern in _CLAUSE_BREAKS:
        found = [m.start() for m in pattern.finditer(window) if n // 2 <= m.start() <= n]
        if found:
            return found[-1]
    found = [m.start() for m in _WORD_BREAK.finditer(window) if 0 < m.start() <= n]
    return found[-1] if found else n  # n: one "word" longer than the limit (a URL, a hash)


def split_long(sentence: str, limit: int) -> list[str]:
    """``sentence`` as pieces of at most ``limit`` weight that together hold every word in order.

    A sentence within the limit comes back whole. A longer one (a scrape that lost its full
    stops) is split at clause boundaries (; : dashes, then commas, then before a conjunction),
    or failing those between words; only a single word longer than the limit is cut inside.
    """
    text = sentence.strip()
    if weight(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    pos = 0
    while pos < len(text):
        window = text[pos:pos + limit + 1]    # weight >= length: no more than this can fit (linear time)
        if pos + len(window) == len(text) and weight(window) <= limit:
            at = len(window)
        else:
            at = _break_at(window, max(_fit(window, limit), 1))
        piece = window[:at].strip()
        if piece:
            pieces.append(piece)
        pos += at
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return pieces


def passages(text: str, settings: UnitSettings = UnitSettings()) -> list[str]:
    """Greedy runs of whole sentences up to ``passage_weight`` each; a sentence over that is
    split into clauses (``split_long``), so every word lands in some passage, with
    ``split_long_sentences``, and else cut at that weight."""
    out: list[str] = []
    current = ""
    limit = settings.passage_weight
    pieces = ((piece for whole in sentences(text) for piece in split_long(whole, limit))
              if settings.split_long_sentences else (cut(whole, limit) for whole in sentences(text)))
    for sent in pieces:
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


def headline(article: Article, settings: UnitSettings = UnitSettings()) -> str:
    """The article's headline: its title, or else its first sentence (a plain text that opens
    with its headline on a line of its own gets the title from cleaning; one that runs headline
    and lead together gives both), cut at ``headline_weight``; "" when that is 0 (no headline
    vector: the headline features fall back to the head's)."""
    if settings.headline_weight <= 0:
        return ""
    if article.title.strip():
        return cut(article.title.strip(), settings.headline_weight)
    # the first sentence is in the opening (weight >= characters): no need to split the whole text
    text = article.full_text
    first = next(iter(sentences(text[:2 * settings.headline_weight + 2])), "") or next(iter(sentences(text)), "")
    return cut(first, settings.headline_weight)


def text_units(article: Article, settings: UnitSettings = UnitSettings()) -> TextUnits:
    found = passages(article.full_text, settings) or [cut(article.full_text, settings.passage_weight)]
    weights = [weight(p) for p in found]
    k, lead = settings.max_passages, (2 * settings.max_passages) // 3
    n_head = min(_run(weights, settings.head_weight), lead)
    n_tail = 0
    if sum(weights) > settings.head_weight + settings.tail_weight // 2:
        n_tail = min(_run(weights[::-1], settings.tail_weight), len(found) - n_head, k - lead - 1)
    kept = _sample(found, k, n_tail)
    cut_off = 0 if settings.split_long_sentences else sum(
        weight(whole) - weight(cut(whole, settings.passage_weight)) for whole in sentences(article.full_text)
        if weight(whole) > settings.passage_weight)
    return TextUnits(passages=tuple(kept), head_passages=n_head, tail_passages=n_tail,
                     skipped_passages=len(found) - len(kept), skipped_weight=sum(weights) - sum(map(weight, kept)),
                     cut_weight=cut_off, headline=headline(article, settings))
