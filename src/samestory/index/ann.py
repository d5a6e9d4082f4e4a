"""Approximate nearest neighbours over article vectors (usearch HNSW, cosine).

The index file sits beside the store (``PATH.usearch``). It is derived data: when
it is missing or out of step with the store (a run killed between the store's
commit and the index save), it is rebuilt from the vectors in the store.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


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
        vectors = np.asarray(vectors, np.float32).reshape(len(vectors), -1) if len(vectors) else vectors
        n = len(vectors)
        if len(self._index) == 0 or n == 0:
            return np.full((n, 0), -1, np.int64), np.zeros((n, 0), np.float32)
        k = min(k, len(self._index))
        m = self._index.search(vectors, k)
        # usearch answers one query with Matches (only the hits found) and several with BatchMatches (``counts``).
        counts = np.asarray(m.counts if hasattr(m, "counts") else [len(m.keys)]).reshape(n)
        keys = np.full((n, k), -1, np.int64)
        sims = np.zeros((n, k), np.float32)
        found_keys = np.asarray(m.keys, np.int64).reshape(n, -1)
        keys[:, :found_keys.shape[1]] = found_keys
        sims[:, :found_keys.shape[1]] = 1.0 - np.asarray(m.distances, np.float32).reshape(n, -1)
        keys[np.arange(keys.shape[1])[None, :] >= counts[:, None]] = -1
        return keys, sims

    def save(self, path: str | Path) -> None:
        tmp = f"{path}.tmp"
        self._index.save(tmp)
        os.replace(tmp, path)  # atomic: a reader never sees half a file

    @classmethod
    def open(cls, path: str | Path, dim: int, keys: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        """Load ``path`` if it holds exactly ``keys``; otherwise (missing, truncated,
        damaged or out of step with the store) rebuild from the vectors."""
        index = cls(dim)
        if Path(path).exists():
            try:
                index._index.load(str(path))
                if index._index.ndim == dim and len(index) == len(keys) and (
                        len(keys) == 0 or (index._index.contains(int(keys[0]))
                                           and index._index.contains(int(keys[-1])))):
                    return index
            except Exception as exc:  # noqa: BLE001 - usearch raises plain RuntimeError/ValueError on a bad file
                log.warning("%s: unreadable (%s); rebuilding it from the store", path, exc)
            index = cls(dim)
        index.add(keys, vectors)
        return index
