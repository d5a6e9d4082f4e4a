"""Approximate nearest neighbours over article vectors (usearch HNSW, cosine, half precision).

The hot articles' index file sits beside the store (``PATH.usearch``) with a small JSON
sidecar (``PATH.usearch.json``: the store's id, the hot set's epoch, the number of keys
and the largest key). It is derived data and a checkpoint: opening it adds what the store
committed after it (rowids only grow), and it is rebuilt from the store's hot vectors when
it is missing, damaged, written at another hot epoch (articles have left the hot set
since: ``index.hotset``), or belongs to another store (a database copied over another one
keeps the old ``.usearch`` beside it). The cold archive's segments are indexes of the same
kind, opened as memory-mapped views (``view``).
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from samestory.index.hotset import hot_epoch, hot_vectors

if TYPE_CHECKING:
    from samestory.index.store import Store

log = logging.getLogger(__name__)


class VectorIndex:
    def __init__(self, dim: int):
        from usearch.index import Index

        self.dim = dim
        self.max_key = 0
        self.unsaved = 0            # keys added since the file was written
        self.saved_at = -math.inf   # when the file was last written or read (never: the first checkpoint writes)
        self._index = Index(ndim=dim, metric="cos", dtype="f16", connectivity=16,
                            expansion_add=128, expansion_search=64)

    def __len__(self) -> int:
        return len(self._index)

    @classmethod
    def view(cls, path: str | Path) -> VectorIndex:
        """A saved index, memory-mapped read-only (the cold archive's segments): nothing is loaded
        into memory but what searches touch. Raises OSError or RuntimeError for a bad file."""
        from usearch.index import Index

        index = cls.__new__(cls)
        restored = Index.restore(str(path), view=True)
        if restored is None:
            raise OSError(f"{path}: not a usearch index")
        index._index = restored
        index.dim, index.unsaved, index.saved_at = int(index._index.ndim), 0, time.monotonic()
        index.max_key = 0
        return index

    @classmethod
    def read(cls, path: str | Path, dim: int) -> VectorIndex:
        """A saved index read into memory, to be added to and saved again (an archive segment
        that grows). Raises OSError, RuntimeError or ValueError for a bad file or another ``dim``."""
        index = cls(dim)
        index._index.load(str(path))
        if index._index.ndim != dim:
            raise ValueError(f"{path}: vectors of {index._index.ndim} dimensions, not {dim}")
        index.saved_at = time.monotonic()
        return index

    def remove(self, keys: list[int]) -> None:
        """Forget these keys (absent ones are ignored); usearch reuses their slots."""
        if keys and len(self._index):
            self._index.remove(np.asarray(keys, np.uint64))
            self.unsaved += len(keys)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under their keys (store rowids, which only grow)."""
        if len(keys):
            self._index.add(np.asarray(keys, np.uint64), np.asarray(vectors, np.float32))
            self.max_key = max(self.max_key, int(np.max(keys)))
            self.unsaved += len(keys)

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

    def save(self, path: str | Path, store_id: str | None, epoch: int = 0, strict: bool = False) -> bool:
        """Write the index and its sidecar, each atomically (a reader never sees half a file).

        Returns:
            Whether it was written. A failure (a full disk) is logged, not raised: the file is
            derived data, and the next open catches up from the store.

        Raises:
            OSError: the write failed and ``strict`` (an archive segment must exist before the
                store says so).
        """
        sidecar = Path(f"{path}.json")
        tmp, sidecar_tmp = Path(f"{path}.tmp"), Path(f"{path}.json.tmp")
        try:
            self._index.save(str(tmp))
            sidecar_tmp.write_text(json.dumps({"store_id": store_id, "epoch": epoch, "keys": len(self),
                                               "max_key": self.max_key}))
            os.replace(tmp, path)
            os.replace(sidecar_tmp, sidecar)
        except (OSError, RuntimeError) as exc:   # usearch raises RuntimeError when its write fails
            for leftover in (tmp, sidecar_tmp):
                try:
                    leftover.unlink(missing_ok=True)
                except OSError:
                    pass
            if strict:
                raise OSError(f"{path}: not written ({exc})") from exc
            log.warning("%s: not written (%s); it is caught up from the store when next opened", path, exc)
            return False
        self.unsaved, self.saved_at = 0, time.monotonic()
        return True

    @classmethod
    def open(cls, path: str | Path, dim: int, store: Store) -> VectorIndex:
        """``path`` caught up with ``store`` when it is that store's checkpoint at its hot epoch;
        otherwise (missing, damaged, another store's, another epoch's, or out of step) rebuilt
        from the hot vectors in the store."""
        index = cls(dim)
        epoch = hot_epoch(store)
        meta = _sidecar(Path(f"{path}.json"))
        store_id = store.store_id()
        if Path(path).exists() and meta is not None and store_id is not None and meta.get("store_id") == store_id \
                and meta.get("epoch", 0) == epoch:
            try:
                index._index.load(str(path))
                keys, max_key = int(meta["keys"]), int(meta["max_key"])
                newest = store.db.execute("SELECT MAX(rowid) FROM articles").fetchone()[0] or 0
                if index._index.ndim == dim and len(index) == keys and max_key <= newest and (
                        keys == 0 or index._index.contains(max_key)):
                    index.max_key = max_key
                    index.add(*hot_vectors(store, after=max_key))     # what was committed after the checkpoint
                    index.saved_at = time.monotonic()
                    return index
                log.warning("%s is out of step with %s; rebuilding it from the store", path, store.path)
            except Exception as exc:  # noqa: BLE001 - usearch raises plain RuntimeError/ValueError on a bad file
                log.warning("%s: unreadable (%s); rebuilding it from the store", path, exc)
            index = cls(dim)
        elif Path(path).exists() and meta is not None and meta.get("store_id") == store_id:
            log.info("%s was written before articles left memory; rebuilding it from the store", path)
        elif Path(path).exists():
            log.warning("%s does not belong to %s (copied or replaced); rebuilding it from the store", path, store.path)
        keys_all, vectors = hot_vectors(store)
        index.add(keys_all, vectors)
        return index


def _sidecar(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None
