"""Approximate nearest neighbours over article vectors (usearch HNSW, cosine).

The index file sits beside the store (``PATH.usearch``). It is derived data: when
it is missing or out of step with the store (a run killed between the store's
commit and the index save), it is rebuilt from the vectors in the store.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class VectorIndex:
    def __init__(self, dim: int):
        from usearch.index import Index

        self.dim = dim
        self._index = Index(ndim=dim, metric="cos", dtype="f16", connectivity=16,
                            expansion_add=128, expansion_search=64)

    def __len__(self) -> int:
        return len(self._index)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys):
            self._index.add(np.asarray(keys, np.uint64), np.asarray(vectors, np.float32))

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys, cosine similarities), most similar first."""
        if len(self._index) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        m = self._index.search(np.asarray(vector, np.float32), min(k, len(self._index)))
        return np.asarray(m.keys, np.int64), 1.0 - np.asarray(m.distances, np.float32)

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Batched ``search``: (n, k) keys and similarities; missing slots have key -1."""
        n = len(vectors)
        if len(self._index) == 0 or n == 0:
            return np.full((n, 0), -1, np.int64), np.zeros((n, 0), np.float32)
        k = min(k, len(self._index))
        m = self._index.search(np.asarray(vectors, np.float32), k)
        keys = np.asarray(m.keys, np.int64).reshape(n, k)
        sims = 1.0 - np.asarray(m.distances, np.float32).reshape(n, k)
        counts = np.asarray(m.counts).reshape(n)
        keys[np.arange(k)[None, :] >= counts[:, None]] = -1
        return keys, sims

    def save(self, path: str | Path) -> None:
        tmp = f"{path}.tmp"
        self._index.save(tmp)
        os.replace(tmp, path)  # atomic: a reader never sees half a file

    @classmethod
    def open(cls, path: str | Path, dim: int, keys: np.ndarray, vectors: np.ndarray) -> "VectorIndex":
        """Load ``path`` if it holds exactly ``keys``; otherwise rebuild from the vectors."""
        index = cls(dim)
        if Path(path).exists():
            index._index.load(str(path))
            if len(index) == len(keys) and (len(keys) == 0 or index._index.contains(int(keys[-1]))):
                return index
            index = cls(dim)
        index.add(keys, vectors)
        return index
