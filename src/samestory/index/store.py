"""The embedded store: one SQLite file holds articles, vectors, MinHash
signatures, the linker's per-article fingerprints, stories and the input ledger.
All of samestory's SQL lives here and beside it (``schema``, ``repair``).

SQLite in WAL mode: one writer at a time (a lock file makes that explicit for
the whole ``add`` run, since the ANN file is written too) and readers that only
ever see whole batches, because each batch is one transaction. Re-adding an
article is a no-op: articles are keyed by the hash of their cleaned content.
``data_version`` tells a long-lived reader that another process has committed.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np

from samestory.index.aliases import follow
from samestory.index.migrate import readable, upgrade
from samestory.index.rows import BatchDelta, StoredArticle, StoryRow, pack_langs, unpack_langs
from samestory.types import InputError, StoreBusy, StoreChanged

log = logging.getLogger(__name__)

_ARTICLE_COLS = "rowid, id, title, text, lang, date, ts, url, story, dup_of, copied"


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``db`` (opened with ``isolation_level=None``): committed when the
    block ends, rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Store:
    """One index file, opened for writing (the default) or for reading only.

    Args:
        path: the SQLite file (created, with its folder, when writing).
        readonly: open without ever writing: also works on read-only storage.
        lock_timeout: how long ``writer`` waits for another process's writer lock, in seconds.

    Raises:
        InputError: ``readonly`` and there is no such file; or the file is not a samestory index,
            or is damaged.
    """

    def __init__(self, path: str | Path, readonly: bool = False, lock_timeout: float = 30.0):
        self.path = Path(path)
        self.readonly = readonly
        self.lock_timeout = lock_timeout
        self._writing = 0
        if readonly and not self.path.exists():
            raise InputError(f"{path}: no such index (create it with 'samestory index add')")
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._connect()
        try:
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                upgrade(self.db)
            has = readable(self.db)     # an older file opened read-only may have no record ids to show
            self._has_ext_id = has.record_id_column
            self._cols = (f"{_ARTICLE_COLS}, {'ext_id' if has.record_id_column else 'NULL'}, "
                          f"{'replaces' if has.replaces_column else 'NULL'}")
            self._record_ids = has.record_ids_table
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if not readonly and "readonly" in str(exc):
                raise InputError(f"{self.path}: the index is on read-only storage; it can be read "
                                 "(stories, similar, duplicates) but not written") from None
            raise InputError(f"not a samestory index (or damaged): {self.path}") from None
        if not {"articles", "stories", "meta"} <= tables:
            self.db.close()
            raise InputError(f"not a samestory index: {self.path}")
        self._identity = self._stat()

    def _connect(self) -> sqlite3.Connection:
        """A connection; a reader asks SQLite for read-only access, and on read-only storage (where
        not even WAL's shared-memory file can be made) reads the file as immutable."""
        if not self.readonly:
            return sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.DatabaseError as exc:
            db.close()
            if not isinstance(exc, sqlite3.OperationalError) or not ("unable to open" in str(exc)
                                                                        or "readonly" in str(exc)):
                raise InputError(f"not a samestory index (or damaged): {self.path}") from None
            log.warning("%s is on read-only storage: read without locks (a writer elsewhere is not seen)", self.path)
            return sqlite3.connect(f"{uri}&immutable=1", uri=True, isolation_level=None, check_same_thread=False)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def store_id(self) -> str | None:
        """The identifier derived files carry (None in an older file opened read-only)."""
        value = self.get_meta("store_id")
        return str(value) if value else None

    def check_identity(self) -> None:
        """Raise ``StoreChanged`` if the file this store opened was deleted or replaced since."""
        now = self._stat()
        if now is None:
            raise StoreChanged(f"{self.path} was deleted while samestory had it open; it stopped writing "
                               "(restart it to create or open the index anew)")
        if now != self._identity:
            raise StoreChanged(f"{self.path} was replaced by another file while samestory had it open; "
                               "it stopped writing (restart it to use the new file)")

    # -- writing -------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[Store]:
        """Hold the single-writer lock (a run, or a request); nested use holds it once.

        Waits up to ``lock_timeout`` seconds for another process's writer to finish.

        Raises:
            StoreBusy: the lock was still held when the wait ran out.
            StoreChanged: the file was deleted or replaced since it was opened.
        """
        if self._writing:
            self._writing += 1
            try:
                yield self
            finally:
                self._writing -= 1
            return
        self.check_identity()
        with open(str(self.path) + ".lock", "w") as lock:
            deadline = time.monotonic() + max(0.0, self.lock_timeout)
            pause = 0.02
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(f"{self.path} is being written by another process (waited "
                                        f"{self.lock_timeout:g} s; --lock-timeout sets the wait); try again later",
                                        retry_after=5.0) from None
                    time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                    pause = min(pause * 2, 0.5)
            self.check_identity()     # replaced while we waited
            self._writing = 1
            try:
                yield self
            finally:
                self._writing = 0

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction: readers see all of it or none of it."""
        return transaction(self.db)

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Several reads that see one committed state (a read transaction, in WAL mode)."""
        self.db.execute("BEGIN")
        try:
            yield self
        finally:
            self.db.execute("COMMIT")

    def write_batch(self, delta: BatchDelta[Any]) -> None:
        """A batch's articles, the stories it changed, merges, stored articles that moved story,
        its likely links, copy groups merged into others, stored articles that moved to another
        copy group and its input outcomes (``BatchDelta``), in one transaction."""
        rows, moves, copy_moves, copy_merges = delta.rows, delta.moves, delta.copy_moves, delta.copy_merges
        with self.batch() as db:
            db.executemany(
                "INSERT INTO articles (rowid, id, title, text, lang, date, ts, url, source, story, dup_of, copied, "
                "vec, minhash, added, names, keywords, numbers, tokens, density, dated, ext_id, replaces) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(r.rowid, r.id, r.article.title, r.article.text, r.article.lang, r.article.date, r.ts,
                  r.article.url, r.source, r.story, r.dup_of, r.copied, r.vec.astype(np.float32).tobytes(),
                  r.minhash.astype(np.uint32).tobytes(), r.added, np.asarray(sorted(r.names), np.uint32).tobytes(),
                  r.keywords, np.asarray(sorted(r.numbers), np.uint32).tobytes(), r.tokens, r.density, int(r.dated),
                  r.article.id, r.replaces) for r in rows])
            db.executemany("UPDATE articles SET story=? WHERE rowid=?", [(s, r) for r, s in moves.items()])
            db.executemany("INSERT OR REPLACE INTO links VALUES (?,?,?)", delta.links)
            db.executemany("UPDATE articles SET dup_of=?, copied=NULL WHERE rowid=?",
                           [(root, member) for member, root in copy_moves.items()])
            # a merged group's members now copy the new root, whose share of them was never measured
            db.executemany("UPDATE articles SET dup_of=?, copied=NULL WHERE dup_of=? OR rowid=?",
                           [(new, old, old) for old, new in copy_merges.items()])
            for drop, keep in delta.merged.items():
                db.execute("UPDATE articles SET story=? WHERE story=?", (keep, drop))
                db.execute("INSERT INTO stories (id, vsum, n, tsum, merged_into) VALUES (?, x'', 0, 0, ?) "
                           "ON CONFLICT(id) DO UPDATE SET merged_into=excluded.merged_into, n=0", (drop, keep))
            db.executemany(
                "INSERT OR REPLACE INTO stories (id, vsum, n, tsum, first, last, langs) VALUES (?,?,?,0,?,?,?)",  # tsum: unread
                [(s.id, s.vsum.astype(np.float64).tobytes(), s.n, s.first, s.last, pack_langs(s.langs))
                 for s in delta.stories])
            db.executemany("INSERT OR REPLACE INTO inputs (source, line, article, error) VALUES (?,?,?,?)",
                           [i[:4] for i in delta.inputs])
            db.executemany("INSERT OR IGNORE INTO record_ids VALUES (?,?)",      # (a lone surrogate, escaped)
                           [(article, record_id.encode("utf-8", "backslashreplace").decode())
                            for _, _, article, _, record_id in delta.inputs if article and record_id])
            db.executemany("INSERT INTO line_counts VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1",
                           [(k,) for r in rows for k in r.line_keys])

    def update_metadata(self, rowid: int, date: str | None, ts: float, dated: bool, url: str | None,
                        record_id: str | None) -> None:
        """Correct a stored article's date (with its time ``ts`` and whether that time is the
        record's own, ``dated``), URL and the record's own id, and recompute its story's first and
        last times from the story's members, in one transaction (``index add --update``)."""
        with self.batch() as db:
            db.execute("UPDATE articles SET date=?, ts=?, dated=?, url=?, ext_id=? WHERE rowid=?",
                       (date, ts, int(dated), url, record_id, rowid))
            row = db.execute("SELECT id, story FROM articles WHERE rowid=?", (rowid,)).fetchone()
            if row is None:
                return
            if record_id and self._record_ids:
                db.execute("INSERT OR IGNORE INTO record_ids VALUES (?,?)",
                           (row[0], record_id.encode("utf-8", "backslashreplace").decode()))
            if row[1] is not None:
                db.execute("UPDATE stories SET first=(SELECT MIN(ts) FROM articles WHERE story=:s), "
                           "last=(SELECT MAX(ts) FROM articles WHERE story=:s) WHERE id=:s", {"s": row[1]})

    def line_counts(self, keys: Sequence[int]) -> dict[int, int]:
        """How many stored articles had each of these sentences (absent: none)."""
        return dict(self.where_in("SELECT key, n FROM line_counts WHERE key IN ({})", keys))

    def where_in(self, sql: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of ``sql`` (with ``IN ({})``) for any number of values, 500 at a time (SQLite's limit)."""
        for i in range(0, len(values), 500):
            chunk = list(values[i:i + 500])
            yield from self.db.execute(sql.format(",".join("?" * len(chunk))), chunk)

    def get_meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # -- the in-memory index's source ----------------------------------------
    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def vector_dim(self) -> int | None:
        """The stored vectors' dimension (None while the store is empty)."""
        row = self.db.execute("SELECT length(vec) FROM articles LIMIT 1").fetchone()
        return int(row[0]) // 4 if row else None

    def live_stories(self) -> list[StoryRow]:
        return self._story_rows(self.db.execute(
            "SELECT id, vsum, n, first, last, langs FROM stories WHERE merged_into IS NULL AND n > 0"))

    def story_aliases(self) -> dict[int, int]:
        return dict(self.db.execute("SELECT id, merged_into FROM stories WHERE merged_into IS NOT NULL"))

    def max_story_id(self) -> int:
        return self.db.execute("SELECT MAX(id) FROM stories").fetchone()[0] or 0

    # -- reading -------------------------------------------------------------
    def all_ids(self) -> list[str]:
        """Every stored article's content id (what a distributed run need not compute again)."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles")]

    def known_ids(self, ids: Sequence[str]) -> dict[str, int]:
        return dict(self.where_in("SELECT id, rowid FROM articles WHERE id IN ({})", ids))

    def count(self, upto: int | None = None, dated: bool = False) -> int:
        """Stored articles (with a rowid up to ``upto``; with ``dated``, only those that carry a date)."""
        where = [*(["rowid <= ?"] if upto is not None else []), *(["date IS NOT NULL"] if dated else [])]
        sql = "SELECT COUNT(*) FROM articles" + (f" WHERE {' AND '.join(where)}" if where else "")
        return cast(int, self.db.execute(sql, () if upto is None else (upto,)).fetchone()[0])

    def article(self, key: int | str) -> StoredArticle | None:
        """By rowid, by samestory's id (content hash) or else by the record's own id."""
        col = "rowid" if isinstance(key, int) else "id"
        row = self.db.execute(f"SELECT {self._cols} FROM articles WHERE {col}=?", (key,)).fetchone()
        if row is None and isinstance(key, str) and self._has_ext_id:
            row = self.db.execute(f"SELECT {self._cols} FROM articles WHERE ext_id=? ORDER BY rowid LIMIT 1",
                                  (key,)).fetchone()
        if row is None and isinstance(key, str) and self._record_ids:   # a later record of a stored text
            row = self.db.execute(f"SELECT {self._cols} FROM articles WHERE id = (SELECT article FROM record_ids "
                                  "WHERE user_id=? ORDER BY rowid LIMIT 1)", (key,)).fetchone()
        return StoredArticle(*row) if row else None

    def texts_of_several_records(self) -> list[int]:
        """The stored articles whose text also came in under a record id other than the one
        they are stored under."""
        sql = ("SELECT rowid FROM articles a WHERE EXISTS (SELECT 1 FROM record_ids r WHERE r.article = a.id "
               "AND r.user_id IS NOT a.ext_id) ORDER BY ts, rowid")
        return [r[0] for r in self.db.execute(sql)] if self._record_ids else []

    def other_record_ids(self, articles: Sequence[StoredArticle]) -> dict[str, list[str]]:
        """Article id -> the ids of the other records that carried the very same text (it is
        stored once, under the first record's id), in the order they came."""
        out: dict[str, list[str]] = {}
        first = {a.id: a.record_id for a in articles}
        sql = "SELECT article, user_id FROM record_ids WHERE article IN ({}) ORDER BY rowid"
        for article, record_id in self.where_in(sql, list(first) if self._record_ids else []):
            if record_id != first[article]:
                out.setdefault(article, []).append(record_id)
        return out

    def articles(self, rowids: Sequence[int]) -> list[StoredArticle]:
        found = {r[0]: StoredArticle(*r)
                 for r in self.where_in(f"SELECT {self._cols} FROM articles WHERE rowid IN ({{}})", rowids)}
        return [found[r] for r in rowids if r in found]

    def vector(self, rowid: int) -> np.ndarray:
        return np.frombuffer(self.db.execute("SELECT vec FROM articles WHERE rowid=?", (rowid,)).fetchone()[0],
                             np.float32)

    def stories(self, since: float | None = None, limit: int | None = None,
                story_id: int | None = None) -> list[StoryRow]:
        """Live stories, latest first."""
        q = "SELECT id, vsum, n, first, last, langs FROM stories WHERE merged_into IS NULL AND n > 0"
        args: list[Any] = []
        if story_id is not None:
            q += " AND id = ?"
            args.append(story_id)
        if since is not None:
            q += " AND last >= ?"
            args.append(since)
        q += " ORDER BY last DESC, id"
        if limit:
            q += " LIMIT ?"
            args.append(int(limit))
        return self._story_rows(self.db.execute(q, args).fetchall())

    @staticmethod
    def _story_rows(rows: Iterable[tuple[Any, ...]]) -> list[StoryRow]:
        """Stories as stored; a row that does not decode is skipped with a warning, never an error."""
        out = []
        for sid, vsum, n, first, last, langs in rows:
            try:
                out.append(StoryRow(sid, np.frombuffer(vsum, np.float64).copy(), int(n), float(first), float(last),
                                    unpack_langs(langs)))
            except (TypeError, ValueError) as exc:
                log.warning("story %s does not read (%s); skipped (samestory index check --repair)", sid, exc)
        return out

    def story_members(self, story: int) -> list[tuple[StoredArticle, np.ndarray]]:
        """A story's articles in time order, each with its vector."""
        rows = self.db.execute(f"SELECT {self._cols}, vec FROM articles WHERE story=? ORDER BY ts, rowid",
                               (story,)).fetchall()
        return [(StoredArticle(*r[:-1]), np.frombuffer(r[-1], np.float32)) for r in rows]

    def resolve_story(self, story: int) -> int | None:
        """A merged story's id leads to the story it joined; None if there is no such story."""
        if self.db.execute("SELECT 1 FROM stories WHERE id=?", (story,)).fetchone() is None:
            return None

        def joined(sid: int) -> int | None:
            row = self.db.execute("SELECT merged_into FROM stories WHERE id=?", (sid,)).fetchone()
            return row[0] if row else None

        return follow(story, joined)

    def copies(self) -> list[tuple[int, int, float | None]]:
        """(rowid, rowid of its source, copied share) of every copy, earliest first."""
        return self.db.execute(
            "SELECT rowid, dup_of, copied FROM articles WHERE dup_of IS NOT NULL ORDER BY ts").fetchall()
