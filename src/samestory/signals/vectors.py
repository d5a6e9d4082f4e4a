"""Article vectors: the encoder's view of an article's text units."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from samestory.embed import Encoder
from samestory.text import TextUnits


@dataclass(frozen=True)
class ArticleVectors:
    head: np.ndarray          # (dim,)
    tail: np.ndarray          # (dim,); the head again when the article has no separate tail
    passages: np.ndarray      # (n, dim)


def embed_units(units: Sequence[TextUnits], encoder: Encoder) -> list[ArticleVectors]:
    """Encode the units of many articles in one call, so the encoder batches well."""
    texts: list[str] = []
    spans = []
    for u in units:
        start = len(texts)
        texts.append(u.head)
        if u.tail:
            texts.append(u.tail)
        texts.extend(u.passages)
        spans.append((start, bool(u.tail), len(u.passages)))
    vecs = encoder.encode(texts)
    out = []
    for start, has_tail, n in spans:
        head = vecs[start]
        tail = vecs[start + 1] if has_tail else head
        p0 = start + 1 + int(has_tail)
        out.append(ArticleVectors(head=head, tail=tail, passages=vecs[p0:p0 + n]))
    return out
