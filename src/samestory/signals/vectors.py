"""Article vectors: the encoder's view of an article's text units."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from samestory.embed import Encoder
from samestory.text import TextUnits
from samestory.text.units import weight


@dataclass(frozen=True)
class ArticleVectors:
    head: np.ndarray          # (dim,)
    tail: np.ndarray          # (dim,); the head again when the article has no separate tail
    passages: np.ndarray      # (n, dim)


def pool(vectors: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Unit-length weighted mean: the mean-pooled vector of a run of passages,
    each weighing by its length as its tokens would in one window."""
    v = np.average(vectors, axis=0, weights=np.asarray(weights, float))
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def embed_units(units: Sequence[TextUnits], encoder: Encoder) -> list[ArticleVectors]:
    """Encode the passages of many articles in one call, so the encoder batches well;
    head and tail vectors are pooled from them."""
    vecs = encoder.encode([p for u in units for p in u.passages])
    out, start = [], 0
    for u in units:
        own = vecs[start:start + len(u.passages)]
        start += len(u.passages)
        weights = [weight(p) for p in u.passages]
        head = pool(own[:u.head_passages], weights[:u.head_passages])
        tail = pool(own[-u.tail_passages:], weights[-u.tail_passages:]) if u.tail_passages else head
        out.append(ArticleVectors(head=head, tail=tail, passages=own))
    return out
