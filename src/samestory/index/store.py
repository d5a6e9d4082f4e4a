"""The embedded store: one SQLite file holds articles, vectors, MinHash
signatures, stories and the input ledger.

SQLite in WAL mode: one writer at a time (a lock file makes that explicit for
the whole ``add`` run, since the ANN file is written too) and readers that only
ever see whole batches, because each batch is one transaction. Re-adding an
article is a no-op: articles are keyed by the hash of their cleaned content.
"""
from __future__ import annotations

import fcntl
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from samestory.types import Article

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,          -- content hash: the same article is stored once
    title TEXT, text TEXT, lang TEXT, date TEXT, ts REAL, url TEXT, source TEXT,
    story INTEGER, dup_of INTEGER, copied REAL,
    vec BLOB NOT NULL, minhash BLOB NOT NULL, added REAL
);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story);
CREATE INDEX IF NOT EXISTS articles_ts ON articles(ts);
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    vsum BLOB NOT NULL, n INTEGER NOT NULL, tsum REAL NOT NULL,
    first REAL, last REAL, label TEXT, langs TEXT, merged_into INTEGER
);
CREATE TABLE IF NOT EXISTS inputs (
    source TEXT NOT NULL, line INTEGER NOT NULL, article TEXT, error TEXT,
    PRIMARY KEY (source, line)
);
"""


@dataclass
class StoredArticle:
    rowid: int
    id: str
    title: str
    text: str
    lang: str
    date: str | None
    ts: float
    url: str | None
    story: int | None
    dup_of: int | None
    copied: float | None

    def to_article(self) -> Article:
        """The stored article as the pair scorer reads it (language as stored)."""
        return Article(text=self.text, title=self.title, lang=self.lang, date=self.date, lang_confidence=1.0)


class Store:
    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise FileNotFoundError(f"{path}: no such index (create it with 'samestory index add')")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if not readonly:
            self.db.executescript(SCHEMA)

    # -- writing -------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator["Store"]:
        """Hold the single-writer lock for a whole run."""
        with open(str(self.path) + ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RuntimeError(f"{self.path} is being written by another process") from None
            yield self

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """One transaction: readers see all of it or none of it."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def get_meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # -- reading -------------------------------------------------------------
    def known_ids(self, ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i:i + 500])
            q = f"SELECT id, rowid FROM articles WHERE id IN ({','.join('?' * len(chunk))})"
            out.update(self.db.execute(q, chunk).fetchall())
        return out

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rowids, vectors, timestamps) of every article, for rebuilding the ANN index."""
        rows = self.db.execute("SELECT rowid, vec, ts FROM articles ORDER BY rowid").fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0)
        keys = np.array([r[0] for r in rows], np.int64)
        vecs = np.stack([np.frombuffer(r[1], np.float32) for r in rows])
        return keys, vecs, np.array([r[2] for r in rows], float)

    def minhashes(self) -> Iterable[tuple[int, bytes]]:
        return self.db.execute("SELECT rowid, minhash FROM articles")

    def article(self, key: int | str) -> StoredArticle | None:
        col = "rowid" if isinstance(key, int) else "id"
        row = self.db.execute(
            f"SELECT rowid, id, title, text, lang, date, ts, url, story, dup_of, copied FROM articles WHERE {col}=?",
            (key,)).fetchone()
        return StoredArticle(*row) if row else None

    def articles(self, rowids: Sequence[int]) -> list[StoredArticle]:
        found = {}
        for i in range(0, len(rowids), 500):
            chunk = list(rowids[i:i + 500])
            q = (f"SELECT rowid, id, title, text, lang, date, ts, url, story, dup_of, copied FROM articles "
                 f"WHERE rowid IN ({','.join('?' * len(chunk))})")
            found.update((r[0], StoredArticle(*r)) for r in self.db.execute(q, chunk))
        return [found[r] for r in rowids if r in found]

    def vector(self, rowid: int) -> np.ndarray:
        return np.frombuffer(self.db.execute("SELECT vec FROM articles WHERE rowid=?", (rowid,)).fetchone()[0],
                             np.float32)


def now() -> float:
    return time.time()
