"""Surface overlap: shared character n-grams, shared words, and copied text.

Copying is measured on word 5-gram shingles (CJK: character 5-grams): the share
of one article's shingles that also occur in the other, in each direction, is
what a reader means by "how much of B was copied from A".
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from samestory.signals.normalize import fold, tokens


@lru_cache(maxsize=1)
def _char_vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2**20,
                             alternate_sign=False, norm="l2")


def char_profiles(texts: list[str]):
    """Character 3-5-gram profiles of the transliterated texts (sparse rows, unit
    length), made once per article so that any pair's cosine is one dot product."""
    return _char_vectorizer().transform([fold(t) for t in texts])


def profile_cosine(a, b) -> float:
    return float(a.multiply(b).sum())


def shingles(text: str, n: int = 5) -> set[int]:
    words = tokens(text)
    return {hash(tuple(words[i:i + n])) for i in range(max(0, len(words) - n + 1))}


def containment(a: set, b: set) -> float:
    """Share of ``a`` found in ``b``."""
    return len(a & b) / len(a) if a else 0.0


def jaccard(a: set, b: set) -> float:
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
