"""Surface overlap: shared character n-grams, shared words, and copied text.

Copying is measured on word 5-gram shingles (CJK: character 5-grams): the share
of one article's shingles that also occur in the other, in each direction, is
what a reader means by "how much of B was copied from A".
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterator
from collections.abc import Set as AbstractSet

import numpy as np

from samestory.signals.normalize import fold, tokens


def _char_ngrams(text: str, low: int = 3, high: int = 5) -> Iterator[str]:
    """Character n-grams inside word boundaries, each word padded with a space
    (scikit-learn's ``analyzer="char_wb"``; a word shorter than ``n`` counts once)."""
    for word in text.lower().split():
        word = f" {word} "
        for n in range(low, high + 1):
            if len(word) <= n:
                yield word
                break
            for i in range(len(word) - n + 1):
                yield word[i:i + n]


def char_profiles(texts: list[str]) -> list[dict[str, float]]:
    """Character 3-5-gram profiles of the transliterated texts (unit length), made
    once per article so that any pair's cosine is one sparse dot product."""
    out = []
    for text in texts:
        counts = Counter(_char_ngrams(fold(text)))
        norm = math.sqrt(sum(c * c for c in counts.values())) or 1.0
        out.append({gram: c / norm for gram, c in counts.items()})
    return out


def profile_cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return float(sum(w * b.get(gram, 0.0) for gram, w in a.items()))


def shingles(text: str, n: int = 5) -> set[int]:
    words = tokens(text)
    return {hash(tuple(words[i:i + n])) for i in range(max(0, len(words) - n + 1))}


def containment(a: AbstractSet[Hashable], b: AbstractSet[Hashable]) -> float:
    """Share of ``a`` found in ``b``."""
    return len(a & b) / len(a) if a else 0.0


def jaccard(a: AbstractSet[Hashable], b: AbstractSet[Hashable]) -> float:
    return len(a & b) / len(a | b) if (a or b) else 0.0


def copied_share(a: str, b: str) -> tuple[float, float]:
    """(share of A's text found in B, share of B's text found in A)."""
    sa, sb = shingles(a), shingles(b)
    return containment(sa, sb), containment(sb, sa)


def word_jaccard(a: str, b: str) -> float:
    return jaccard(set(tokens(a)), set(tokens(b)))


def length_features(a: str, b: str) -> tuple[float, float, float]:
    la, lb = np.log1p(len(a)), np.log1p(len(b))
    return float(min(la, lb)), float(max(la, lb)), float(abs(la - lb))
