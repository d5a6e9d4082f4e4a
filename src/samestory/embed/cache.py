"""Vectors cached by content hash, so no text is encoded twice.

One SQLite file (stdlib, safe for concurrent readers and one writer) keyed by
sha1(encoder name + text). Default place: ``$SAMESTORY_CACHE`` or
``~/.cache/samestory``; delete the folder to clear it. A damaged file is set aside
and started anew; one that cannot be written is only read (``CachedEncoder``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import sys
from pathlib import Path

import numpy as np

from samestory.embed.base import Encoder, cache_dir, warn_once

log = logging.getLogger(__name__)


class CachedEncoder:
    """Wraps an encoder; looks vectors up by content hash before encoding.

    The cache never stops encoding: a damaged file is set aside and started anew (once,
    with a warning); a file or folder that cannot be written is read where it can be
    (SQLite ``mode=ro``) and new vectors are kept in memory for the process, with one
    warning saying so."""

    def __init__(self, encoder: Encoder, path: str | Path | None = None, batch_size: int = 32,
                 progress: bool = False):
        self.encoder = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.batch_size = batch_size
        self.progress = progress
        self.path = Path(path) if path else cache_dir() / "vectors.sqlite"
        self._memory: dict[str, np.ndarray] = {}     # new vectors, when the file cannot take them
        self._db: sqlite3.Connection | None = None
        self._writable = False
        self._connect()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
            db.execute("SELECT key, v FROM vec LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _connect(self) -> None:
        """Open the file read-write; set it aside and start anew when damaged; else read-only."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db, self._writable = self._open(), True
            return
        except sqlite3.OperationalError as exc:     # read-only, cannot open, locked, full: not damage
            problem: Exception = exc
        except sqlite3.DatabaseError as exc:        # damaged: derived data, set it aside and start anew
            problem = exc
            try:
                self._set_aside(exc)
                self._db, self._writable = self._open(), True
                return
            except (OSError, sqlite3.DatabaseError) as again:
                problem = again
        except OSError as exc:
            problem = exc
        self._read_only(problem)

    def _set_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged")
        log.warning("vector cache %s is unreadable (%s); moved to %s and started anew", self.path, exc, aside)
        if self._db is not None:
            self._db.close()
            self._db = None
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                os.replace(part, f"{aside}{suffix}")

    def _read_only(self, exc: Exception) -> None:
        """The file as it is, read-only (``mode=ro``; ``immutable=1`` when SQLite cannot
        share a WAL file's index without writing), or none; new vectors go to memory."""
        self._writable = False
        self._db = None
        if self.path.is_file():
            for query in ("mode=ro", "mode=ro&immutable=1"):
                try:
                    db = sqlite3.connect(f"{self.path.resolve().as_uri()}?{query}", uri=True, timeout=60,
                                         check_same_thread=False)
                    db.execute("SELECT key, v FROM vec LIMIT 1").fetchall()
                except sqlite3.DatabaseError:
                    continue
                self._db = db
                break
        cost = ("its vectors are used but new ones are kept only for this run" if self._db is not None else
                "vectors are kept only for this run")
        warn_once(f"read-only:{self.path}", "vector cache %s cannot be written (%s): %s, so every run encodes its "
                  "new texts again; make %s writable or point SAMESTORY_CACHE to a writable folder", self.path, exc,
                  cost, self.path.parent, logger=log)

    def close(self) -> None:
        """Close the file (SQLite folds its write-ahead log into it); vectors already
        encoded stay available from memory only. Idempotent."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._writable = False

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.name}\x00{text}".encode()).hexdigest()

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        found = {k: self._memory[k] for k in keys if k in self._memory}
        keys = [k for k in keys if k not in found]
        try:
            self._select(keys, found)
        except sqlite3.DatabaseError as exc:     # damage found late (a cut-off file): encode, and start anew
            found = {k: self._memory[k] for k in found if k in self._memory}
            self._lost(exc)
        return found

    def _select(self, keys: list[str], found: dict[str, np.ndarray]) -> None:
        db = self._db
        if db is None:
            return
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = db.execute(
                f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            # A blob of the wrong size is damage, not a vector: encode that text again.
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows
                         if isinstance(v, bytes) and len(v) == 4 * self.dim)

    def _lost(self, exc: sqlite3.DatabaseError) -> None:
        """The open file failed mid-run: start anew (damage), else go on read-only, and
        when even reading fails, in memory."""
        if self._writable and not isinstance(exc, sqlite3.OperationalError):
            try:
                self._set_aside(exc)
                self._db = self._open()
                return
            except (OSError, sqlite3.DatabaseError) as again:
                exc = again if isinstance(again, sqlite3.DatabaseError) else exc
        was_writable = self._writable
        self.close()
        if was_writable:
            self._read_only(exc)
        else:
            log.warning("vector cache %s cannot be read (%s): vectors are kept only for this run", self.path, exc)

    def _store(self, rows: list[tuple[str, bytes]]) -> None:
        for _ in range(2):                # a second try in the file started anew after damage
            db = self._db
            if not self._writable or db is None:
                break
            try:
                with db:
                    db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
                return
            except sqlite3.DatabaseError as exc:
                self._lost(exc)
        self._memory.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)

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
            self._store(rows)
            found.update((k, v) for k, (_, v) in zip((r[0] for r in rows), zip(batch, vecs)))
            if bar:
                bar.update(len(batch))
        if bar:
            bar.close()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)
