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
    headline: np.ndarray | None = None   # (dim,): the headline alone (``TextUnits.headline``); None: not encoded


def pool(vectors: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Unit-length weighted mean: the mean-pooled vector of a run of passages,
    each weighing by its length as its tokens would in one window."""
    v = np.average(vectors, axis=0, weights=np.asarray(weights, float))
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def embed_units(units: Sequence[TextUnits], encoder: Encoder) -> list[ArticleVectors]:
    """Encode the passages and headlines of many articles in one call, so the encoder batches
    well; head and tail vectors are pooled from the passages'. A headline that is one of its
    article's passages (a short article) is not encoded twice."""
    own_headline = [bool(u.headline) and u.headline not in u.passages for u in units]
    vecs = encoder.encode([p for u in units for p in u.passages]
                          + [u.headline for u, own in zip(units, own_headline) if own])
    out, start, next_headline = [], 0, sum(len(u.passages) for u in units)
    for u, own in zip(units, own_headline):
        mine = vecs[start:start + len(u.passages)]
        start += len(u.passages)
        weights = [weight(p) for p in u.passages]
        head = pool(mine[:u.head_passages], weights[:u.head_passages])
        tail = pool(mine[-u.tail_passages:], weights[-u.tail_passages:]) if u.tail_passages else head
        if own:
            headline: np.ndarray | None = vecs[next_headline]
            next_headline += 1
        else:
            headline = mine[u.passages.index(u.headline)] if u.headline else None
        out.append(ArticleVectors(head=head, tail=tail, passages=mine, headline=headline))
    return out
