"""Vectors cached by content hash, so no text is encoded twice.

One SQLite file (stdlib, safe for concurrent readers and one writer) keyed by
sha1(encoder name + text). Default place: ``$SAMESTORY_CACHE`` or
``~/.cache/samestory``; delete the folder to clear it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import sys
from pathlib import Path

import numpy as np

from samestory.embed.base import Encoder, cache_dir

log = logging.getLogger(__name__)


class CachedEncoder:
    """Wraps an encoder; looks vectors up by content hash before encoding."""

    def __init__(self, encoder: Encoder, path: str | Path | None = None, batch_size: int = 32,
                 progress: bool = False):
        self.encoder = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.batch_size = batch_size
        self.progress = progress
        self.path = Path(path) if path else cache_dir() / "vectors.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:   # a damaged cache is derived data: set it aside, start anew
            aside = self.path.with_name(f"{self.path.name}.damaged")
            log.warning("vector cache %s is unreadable (%s); moved to %s and started anew", self.path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{self.path}{suffix}")
                if part.exists():
                    os.replace(part, f"{aside}{suffix}")
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
        db.execute("SELECT key, v FROM vec LIMIT 1").fetchall()
        return db

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.name}\x00{text}".encode()).hexdigest()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._db.execute(
                f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            # A blob of the wrong size is damage, not a vector: encode that text again.
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows
                         if isinstance(v, bytes) and len(v) == 4 * self.dim)
        return found

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found = self._lookup(list(set(keys)))
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
        # Similar lengths together: less padding and better batches for the engine.
        todo.sort(key=len)
        bar = None
        if self.progress and len(todo) > self.batch_size:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc="encoding", unit="text", file=sys.stderr)
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i:i + self.batch_size]
            vecs = self.encoder.encode(batch)
            rows = [(self._key(t), v.astype(np.float32).tobytes()) for t, v in zip(batch, vecs)]
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
            found.update((k, v) for k, (_, v) in zip((r[0] for r in rows), zip(batch, vecs)))
            if bar:
                bar.update(len(batch))
        if bar:
            bar.close()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)
