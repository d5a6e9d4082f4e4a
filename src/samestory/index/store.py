"""The embedded store: one SQLite file holds articles, vectors, MinHash
signatures, the linker's per-article fingerprints, stories and the input ledger.
All of samestory's SQL lives here.

SQLite in WAL mode: one writer at a time (a lock file makes that explicit for
the whole ``add`` run, since the ANN file is written too) and readers that only
ever see whole batches, because each batch is one transaction. Re-adding an
article is a no-op: articles are keyed by the hash of their cleaned content.
``data_version`` tells a long-lived reader that another process has committed.
"""
from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from samestory.types import Article, InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,          -- content hash: the same article is stored once
    title TEXT, text TEXT, lang TEXT, date TEXT, ts REAL, url TEXT, source TEXT,
    story INTEGER, dup_of INTEGER, copied REAL,
    vec BLOB NOT NULL, minhash BLOB NOT NULL, added REAL,
    names BLOB, keywords BLOB, numbers BLOB, tokens INTEGER, density REAL, dated INTEGER
);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story);
CREATE INDEX IF NOT EXISTS articles_ts ON articles(ts);
CREATE INDEX IF NOT EXISTS articles_dup ON articles(dup_of) WHERE dup_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    vsum BLOB NOT NULL, n INTEGER NOT NULL, tsum REAL NOT NULL DEFAULT 0,   -- unused since 0.2 (kept for old files)
    first REAL, last REAL, label TEXT, langs TEXT, merged_into INTEGER
);
CREATE TABLE IF NOT EXISTS line_counts (      -- how many stored articles had each line (boilerplate)
    key INTEGER PRIMARY KEY, n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS links (           -- likely same-story pairs (newer a, older b): what settling reads
    a INTEGER NOT NULL, b INTEGER NOT NULL, p REAL NOT NULL, PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_b ON links(b);
CREATE TABLE IF NOT EXISTS inputs (
    source TEXT NOT NULL, line INTEGER NOT NULL, article TEXT, error TEXT,
    PRIMARY KEY (source, line)
);
CREATE TABLE IF NOT EXISTS record_ids (      -- every record's own id that carried a stored text, as they came
    article TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (article, user_id)
);
CREATE INDEX IF NOT EXISTS record_ids_user ON record_ids (user_id);
"""
# Columns added after the first release: an older file gains them on open (NULL
# for old rows; the corpus derives those from the stored text).
_ADDED_COLUMNS = {"names": "BLOB", "keywords": "BLOB", "numbers": "BLOB", "tokens": "INTEGER", "density": "REAL",
                  "dated": "INTEGER", "ext_id": "TEXT"}
_ARTICLE_COLS = "rowid, id, title, text, lang, date, ts, url, story, dup_of, copied"


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
    user_id: str | None = None      # the record's own id (``--id-col``, ``id``), as first stored

    def to_article(self) -> Article:
        """The stored article as the pair scorer reads it (language as stored)."""
        return Article(text=self.text, title=self.title, lang=self.lang, date=self.date, lang_confidence=1.0)


@dataclass(frozen=True)
class ArticleRow:
    """One new article as it is written."""

    rowid: int
    id: str
    article: Article
    ts: float
    source: str
    story: int
    dup_of: int | None
    copied: float | None
    vec: np.ndarray
    minhash: np.ndarray
    names: Sequence[int]
    keywords: bytes
    numbers: Sequence[int]
    tokens: int
    density: float
    dated: bool
    added: float
    line_keys: Sequence[int] = ()      # its lines, counted for boilerplate detection


@dataclass(frozen=True)
class StoryRow:
    id: int
    vsum: np.ndarray
    n: int
    first: float
    last: float
    langs: dict[str, int]       # members per language


def _pack_langs(langs: dict[str, int]) -> str:
    return ",".join(f"{lang}:{n}" for lang, n in sorted(langs.items()) if n > 0)


def _unpack_langs(text: str | None) -> dict[str, int]:
    """``"de:1,en:3"``; files from before moves kept only the names (``"de,en"``): one each."""
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        if item:
            lang, _, n = item.partition(":")
            out[lang] = int(n) if n.isdigit() else 1
    return out


@dataclass(frozen=True)
class LinkRow:
    """What the in-memory index keeps of a stored article."""

    rowid: int
    ts: float
    lang: str
    story: int | None
    dup_of: int | None
    minhash: np.ndarray
    names: np.ndarray | None     # None for rows written before fingerprints were stored
    keywords: bytes | None
    numbers: np.ndarray | None
    tokens: int | None
    density: float | None
    dated: bool | None
    text: str | None             # only where names or keywords are missing


def _uint32(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, np.uint32)


class Store:
    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise FileNotFoundError(f"{path}: no such index (create it with 'samestory index add')")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if not readonly:
                self.db.executescript(SCHEMA)
                have = {r[1] for r in self.db.execute("PRAGMA table_info(articles)")}
                for col, kind in _ADDED_COLUMNS.items():
                    if col not in have:
                        self.db.execute(f"ALTER TABLE articles ADD COLUMN {col} {kind}")
                self.db.execute("CREATE INDEX IF NOT EXISTS articles_ext_id ON articles (ext_id)")
            have = {r[1] for r in self.db.execute("PRAGMA table_info(articles)")}
            # an older file opened read-only has no user ids to show
            self._cols = f"{_ARTICLE_COLS}, {'ext_id' if 'ext_id' in have else 'NULL'}"
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            self._record_ids = "record_ids" in tables      # not in an older file opened read-only
        except sqlite3.DatabaseError:
            self.db.close()
            raise InputError(f"not a samestory index (or damaged): {self.path}") from None
        if not {"articles", "stories", "meta"} <= tables:
            self.db.close()
            raise InputError(f"not a samestory index: {self.path}")

    # -- writing -------------------------------------------------------------
    @contextmanager
    def writer(self) -> Iterator[Store]:
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

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Several reads that see one committed state (a read transaction, in WAL mode)."""
        self.db.execute("BEGIN")
        try:
            yield self
        finally:
            self.db.execute("COMMIT")

    def write_batch(self, rows: Sequence[ArticleRow], stories: Sequence[StoryRow], merged: dict[int, int],
                    inputs: Sequence[tuple[str, int, str | None, str | None, str | None]],
                    links: Sequence[tuple[int, int, float]] = (), moves: dict[int, int] | None = None,
                    copy_merges: dict[int, int] | None = None, copy_moves: dict[int, int | None] | None = None
                    ) -> None:
        """A batch's articles, the stories it changed, merges, stored articles that moved
        story, the batch's likely links, copy groups merged into others (old root -> new
        root), stored articles that moved to another copy group (rowid -> new root, None for
        a root) and input outcomes (source, line, article, error, the record's own id), in one
        transaction."""
        with self.batch() as db:
            db.executemany(
                "INSERT INTO articles (rowid, id, title, text, lang, date, ts, url, source, story, dup_of, copied, "
                "vec, minhash, added, names, keywords, numbers, tokens, density, dated, ext_id) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(r.rowid, r.id, r.article.title, r.article.text, r.article.lang, r.article.date, r.ts,
                  r.article.url, r.source, r.story, r.dup_of, r.copied, r.vec.astype(np.float32).tobytes(),
                  r.minhash.astype(np.uint32).tobytes(), r.added, np.asarray(sorted(r.names), np.uint32).tobytes(),
                  r.keywords, np.asarray(sorted(r.numbers), np.uint32).tobytes(), r.tokens, r.density, int(r.dated),
                  r.article.id) for r in rows])
            db.executemany("UPDATE articles SET story=? WHERE rowid=?", [(s, r) for r, s in (moves or {}).items()])
            db.executemany("INSERT OR REPLACE INTO links VALUES (?,?,?)", links)
            db.executemany("UPDATE articles SET dup_of=?, copied=NULL WHERE rowid=?",
                           [(root, member) for member, root in (copy_moves or {}).items()])
            # a merged group's members now copy the new root, whose share of them was never measured
            db.executemany("UPDATE articles SET dup_of=?, copied=NULL WHERE dup_of=? OR rowid=?",
                           [(new, old, old) for old, new in (copy_merges or {}).items()])
            for drop, keep in merged.items():
                db.execute("UPDATE articles SET story=? WHERE story=?", (keep, drop))
                db.execute("INSERT INTO stories (id, vsum, n, tsum, merged_into) VALUES (?, x'', 0, 0, ?) "
                           "ON CONFLICT(id) DO UPDATE SET merged_into=excluded.merged_into, n=0", (drop, keep))
            db.executemany(
                "INSERT OR REPLACE INTO stories (id, vsum, n, tsum, first, last, langs) VALUES (?,?,?,0,?,?,?)",
                [(s.id, s.vsum.astype(np.float64).tobytes(), s.n, s.first, s.last, _pack_langs(s.langs))
                 for s in stories])
            db.executemany("INSERT OR REPLACE INTO inputs (source, line, article, error) VALUES (?,?,?,?)",
                           [i[:4] for i in inputs])
            db.executemany("INSERT OR IGNORE INTO record_ids VALUES (?,?)",      # (a lone surrogate, escaped)
                           [(article, user_id.encode("utf-8", "backslashreplace").decode())
                            for _, _, article, _, user_id in inputs if article and user_id])
            db.executemany("INSERT INTO line_counts VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1",
                           [(k,) for r in rows for k in r.line_keys])

    def line_counts(self, keys: Sequence[int]) -> dict[int, int]:
        """How many stored articles had each of these sentences (absent: none)."""
        return dict(self._where_in("SELECT key, n FROM line_counts WHERE key IN ({})", keys))

    def _where_in(self, sql: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
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

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(rowids, vectors) of every article, for rebuilding the ANN index."""
        rows = self.db.execute("SELECT rowid, vec FROM articles ORDER BY rowid").fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return np.array([r[0] for r in rows], np.int64), np.stack([np.frombuffer(r[1], np.float32) for r in rows])

    def link_rows(self) -> Iterator[LinkRow]:
        for r in self.db.execute("SELECT rowid, ts, lang, story, dup_of, minhash, names, keywords, numbers, tokens, "
                                 "density, dated, CASE WHEN names IS NULL OR keywords IS NULL OR numbers IS NULL "
                                 "THEN title || '\n' || text END FROM articles"):
            yield LinkRow(r[0], r[1], r[2], r[3], r[4], np.frombuffer(r[5], np.uint32), _uint32(r[6]), r[7],
                          _uint32(r[8]), r[9], r[10], None if r[11] is None else bool(r[11]), r[12])

    def links(self) -> Iterator[tuple[int, int, float]]:
        yield from self.db.execute("SELECT a, b, p FROM links")

    def live_stories(self) -> list[StoryRow]:
        return [StoryRow(sid, np.frombuffer(vsum, np.float64).copy(), n, first, last, _unpack_langs(langs))
                for sid, vsum, n, first, last, langs in self.db.execute(
                    "SELECT id, vsum, n, first, last, langs FROM stories WHERE merged_into IS NULL AND n > 0")]

    def story_aliases(self) -> dict[int, int]:
        return dict(self.db.execute("SELECT id, merged_into FROM stories WHERE merged_into IS NOT NULL"))

    def max_story_id(self) -> int:
        return self.db.execute("SELECT MAX(id) FROM stories").fetchone()[0] or 0

    # -- reading -------------------------------------------------------------
    def all_ids(self) -> list[str]:
        """Every stored article's content id (what a distributed run need not compute again)."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles")]

    def known_ids(self, ids: Sequence[str]) -> dict[str, int]:
        return dict(self._where_in("SELECT id, rowid FROM articles WHERE id IN ({})", ids))

    def count(self) -> int:
        return cast(int, self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def article(self, key: int | str) -> StoredArticle | None:
        """By rowid, by samestory's id (content hash) or else by the record's own id."""
        col = "rowid" if isinstance(key, int) else "id"
        row = self.db.execute(f"SELECT {self._cols} FROM articles WHERE {col}=?", (key,)).fetchone()
        if row is None and isinstance(key, str) and not self._cols.endswith("NULL"):
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

    def other_user_ids(self, articles: Sequence[StoredArticle]) -> dict[str, list[str]]:
        """Article id -> the ids of the other records that carried the very same text (it is
        stored once, under the first record's id), in the order they came."""
        out: dict[str, list[str]] = {}
        first = {a.id: a.user_id for a in articles}
        sql = "SELECT article, user_id FROM record_ids WHERE article IN ({}) ORDER BY rowid"
        for article, user_id in self._where_in(sql, list(first) if self._record_ids else []):
            if user_id != first[article]:
                out.setdefault(article, []).append(user_id)
        return out

    def articles(self, rowids: Sequence[int]) -> list[StoredArticle]:
        found = {r[0]: StoredArticle(*r)
                 for r in self._where_in(f"SELECT {self._cols} FROM articles WHERE rowid IN ({{}})", rowids)}
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
        return [StoryRow(sid, np.frombuffer(vsum, np.float64), n, first, last, _unpack_langs(langs))
                for sid, vsum, n, first, last, langs in self.db.execute(q, args).fetchall()]

    def story_members(self, story: int) -> list[tuple[StoredArticle, np.ndarray]]:
        """A story's articles in time order, each with its vector."""
        rows = self.db.execute(f"SELECT {self._cols}, vec FROM articles WHERE story=? ORDER BY ts, rowid",
                               (story,)).fetchall()
        return [(StoredArticle(*r[:-1]), np.frombuffer(r[-1], np.float32)) for r in rows]

    def resolve_story(self, story: int) -> int | None:
        """A merged story's id leads to the story it joined; None if there is no such story."""
        for _ in range(10_000):
            row = self.db.execute("SELECT merged_into FROM stories WHERE id=?", (story,)).fetchone()
            if row is None:
                return None
            if row[0] is None:
                return story
            story = row[0]
        return None

    def copies(self) -> list[tuple[int, int, float | None]]:
        """(rowid, rowid of its source, copied share) of every copy, earliest first."""
        return self.db.execute(
            "SELECT rowid, dup_of, copied FROM articles WHERE dup_of IS NOT NULL ORDER BY ts").fetchall()
