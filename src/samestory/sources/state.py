"""What ``samestory follow`` remembers, in the index's own SQLite file: per source (last
fetch, ETag, errors in a row, articles found) and per article URL (canonical form, status,
tries, when). Every write is one short transaction, so a ``kill -9`` at any point leaves
each URL either pending (fetched again by the next run) or done.

URL statuses: ``pending`` (found, not yet done), ``retry`` (failed for a passing reason;
tried again from ``next_at``), and the final ``added``, ``exists``, ``skipped``, ``error``.
``run`` is the follow run that last reported the URL, so each run reports each URL once.

Changed pages: a URL keeps the id of its stored version (``article``), when its page was
last answered (``fetched``) with which ETag and Last-Modified, and the latest change date
a source gave for it (``changed``). When a source dates the URL later than both (a feed
item's ``updated``, a sitemap's ``lastmod``), it is pending again, once per change, and
fetched conditionally; what it replaces is ``article``.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from samestory.index.store import transaction
from samestory.ingest.validate import timestamp
from samestory.sources.items import Found

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    url TEXT PRIMARY KEY, parent TEXT, kind TEXT, status TEXT, last_fetch REAL, last_ok REAL,
    etag TEXT, last_modified TEXT, errors_in_row INTEGER NOT NULL DEFAULT 0,
    articles INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, link TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT, article TEXT, story INTEGER, tries INTEGER NOT NULL DEFAULT 0, next_at REAL,
    first_seen REAL NOT NULL, updated REAL NOT NULL, run TEXT, date TEXT, title TEXT,
    fetched REAL, etag TEXT, last_modified TEXT, changed REAL);
CREATE INDEX IF NOT EXISTS urls_todo ON urls (source, status) WHERE status IN ('pending', 'retry');
"""
FINAL = ("added", "exists", "skipped", "error")
#: Columns of ``urls`` added after its first release: an older file gains them.
_ADDED_URL_COLUMNS = {"fetched": "REAL", "etag": "TEXT", "last_modified": "TEXT", "changed": "REAL"}
_DUE_COLS = "url, link, source, date, title, tries, article, story, etag, last_modified"


@dataclass(frozen=True)
class Due:
    """A URL to fetch: its canonical form, the link as found, its top-level source, what the
    source said of it, and how many times it was tried before. For a page fetched again
    because its source says it changed: ``article``, the id of its stored version (what a new
    version replaces), its ``story``, and the ETag and Last-Modified its page was last
    answered with (to ask for it conditionally)."""

    url: str
    link: str
    source: str
    date: str | None
    title: str | None
    tries: int
    article: str | None = None
    story: int | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Done:
    """What became of a fetched URL, as ``FollowState.finish`` stores it: its status, the reason,
    the stored article and its story, when to retry it (or None), and whether a response came
    (``answered``: its time kept) with new ``validators`` (ETag, Last-Modified; None: a 304,
    the stored ones stand)."""

    due: Due
    status: str
    reason: str | None = None
    article: str | None = None
    story: int | None = None
    retry_at: float | None = None
    answered: bool = False
    validators: tuple[str | None, str | None] | None = None


@dataclass(frozen=True)
class Seen:
    """A URL that a source listed again after it was done: reported once per run as skipped."""

    url: str
    source: str
    status: str
    updated: float


class FollowState:
    """The ``sources`` and ``urls`` tables on ``db`` (the corpus's store connection, in
    autocommit mode). Used from one thread."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        with self._tx():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            have = {r[1] for r in self.db.execute("PRAGMA table_info(urls)")}
            for col, kind in _ADDED_URL_COLUMNS.items():
                if col not in have:
                    self.db.execute(f"ALTER TABLE urls ADD COLUMN {col} {kind}")

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db)

    def sources(self) -> dict[str, dict[str, Any]]:
        """Every source's row, by URL."""
        cur = self.db.execute("SELECT * FROM sources")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur}

    def record_source(self, url: str, parent: str, kind: str | None, status: str, error: str | None = None,
                      etag: str | None = None, last_modified: str | None = None, found: int = 0) -> None:
        """One fetch of a source: ``status`` is ``ok``, ``not_modified`` or ``error``; the ETag
        and Last-Modified are kept from the last good fetch."""
        with self._tx() as db:
            self._source(db, url, parent, kind, status, error, etag, last_modified, found, time.time())

    @staticmethod
    def _source(db: sqlite3.Connection, url: str, parent: str, kind: str | None, status: str, error: str | None,
                etag: str | None, last_modified: str | None, found: int, now: float) -> None:
        ok = status != "error"
        db.execute("INSERT OR IGNORE INTO sources (url, parent) VALUES (?, ?)", (url, parent))
        db.execute(
            "UPDATE sources SET kind = COALESCE(?, kind), status = ?, last_fetch = ?, "
            "last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
            "etag = CASE WHEN ? = 'ok' THEN ? ELSE etag END, "
            "last_modified = CASE WHEN ? = 'ok' THEN ? ELSE last_modified END, "
            "errors_in_row = CASE WHEN ? THEN 0 ELSE errors_in_row + 1 END, articles = articles + ?, "
            "last_error = CASE WHEN ? THEN last_error ELSE ? END WHERE url = ?",
            (kind, status, now, ok, now, status, etag, status, last_modified, ok, found, ok, error, url))

    def add_found(self, source: str, parent: str, kind: str, items: Sequence[tuple[str, Found]], run: str,
                  etag: str | None, last_modified: str | None) -> list[Seen]:
        """A source read: its new URLs (canonical, found) stored as pending and its ETag kept,
        in one transaction (so a 304 next time never hides URLs not yet stored). A stored URL
        that the source dates later than its last fetch and its last change (``changed_since``)
        is pending again, to be fetched once more. Returns the URLs it lists that were done
        before and not yet reported in ``run`` (now marked so)."""
        now = time.time()
        seen: list[Seen] = []
        with self._tx() as db:
            new = 0
            for url, found in items:
                row = db.execute("SELECT status, run, updated, article, COALESCE(fetched, updated), changed "
                                 "FROM urls WHERE url = ?", (url,)).fetchone()
                modified = timestamp(found.modified)
                if row is None:
                    db.execute("INSERT INTO urls (url, link, source, status, first_seen, updated, date, title, "
                               "changed) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                               (url, found.url, parent, now, now, found.date, found.title, modified))
                    new += 1
                elif row[0] in FINAL and changed_since(modified, row[3], row[4], row[5]):
                    # (now this source's: the run that follows it fetches the page and reports it)
                    db.execute("UPDATE urls SET status = 'pending', tries = 0, next_at = NULL, changed = ?, "
                               "source = ?, date = COALESCE(?, date), title = COALESCE(?, title) WHERE url = ?",
                               (modified, parent, found.date, found.title, url))
                    log.info("%s: %s says it changed (%s); fetched again", url, parent, found.modified)
                elif row[0] in FINAL and row[1] != run:
                    db.execute("UPDATE urls SET run = ? WHERE url = ?", (run, url))
                    seen.append(Seen(url, parent, row[0], row[2]))
            self._source(db, source, parent, kind, "ok", None, etag, last_modified, new, now)
        return seen

    def due(self, sources: Sequence[str], limit: int, now: float | None = None) -> list[Due]:
        """Pending URLs of ``sources``, then failed ones whose retry time has come, oldest first."""
        now = time.time() if now is None else now
        marks = ",".join("?" * len(sources))
        rows = self.db.execute(
            f"SELECT {_DUE_COLS} FROM urls WHERE source IN ({marks}) AND "
            f"(status = 'pending' OR (status = 'retry' AND next_at <= ?)) ORDER BY status, first_seen LIMIT ?",
            (*sources, now, limit)).fetchall()
        return [Due(*row) for row in rows]

    def leftover(self, sources: Sequence[str], run: str) -> list[Due]:
        """URLs of ``sources`` still to do that ``run`` has not reported (left for a later round
        by ``max_pages``, by a stop, or waiting for a retry), now marked as reported."""
        marks = ",".join("?" * len(sources))
        where = f"source IN ({marks}) AND status IN ('pending', 'retry') AND (run IS NULL OR run != ?)"
        with self._tx() as db:
            rows = db.execute(f"SELECT {_DUE_COLS} FROM urls WHERE {where}",
                              (*sources, run)).fetchall()
            db.execute(f"UPDATE urls SET run = ? WHERE {where}", (run, *sources, run))
        return [Due(*row) for row in rows]

    def known(self, urls: Sequence[str]) -> dict[str, str]:
        """The status of each of ``urls`` already in the table."""
        out: dict[str, str] = {}
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            out.update(self.db.execute(f"SELECT url, status FROM urls WHERE url IN ({','.join('?' * len(chunk))})",
                                       chunk).fetchall())
        return out

    def finish(self, done: Sequence[Done], run: str, aliases: Sequence[tuple[str, Due]] = ()) -> None:
        """Outcomes (``Done``), in one transaction. A URL keeps its stored version (``article``)
        and story through a later fetch that stores nothing. ``aliases``: canonical URLs that
        pages named for themselves, stored as done so a link to them is not fetched again."""
        now = time.time()
        with self._tx() as db:
            db.executemany(
                "UPDATE urls SET status = ?, reason = ?, article = COALESCE(?, article), story = COALESCE(?, story), "
                "tries = tries + 1, next_at = ?, updated = ?, run = ?, fetched = CASE WHEN ? THEN ? ELSE fetched END, "
                "etag = CASE WHEN ? THEN ? ELSE etag END, last_modified = CASE WHEN ? THEN ? ELSE last_modified END "
                "WHERE url = ?",
                [(d.status, d.reason, d.article, d.story, d.retry_at, now, run, d.answered, now,
                  d.validators is not None, (d.validators or (None, None))[0],
                  d.validators is not None, (d.validators or (None, None))[1], d.due.url) for d in done])
            db.executemany(
                "INSERT OR IGNORE INTO urls (url, link, source, status, reason, first_seen, updated, run) "
                "VALUES (?, ?, ?, 'skipped', ?, ?, ?, ?)",
                [(alias, due.link, due.source, f"the canonical URL of {due.url}", now, now, run)
                 for alias, due in aliases])

    def health(self) -> list[dict[str, Any]]:
        """Each source's health (see ``health``)."""
        return health(self.db)


def changed_since(modified: float | None, article: str | None, fetched: float | None, changed: float | None) -> bool:
    """Whether a source's date for a stored URL (``modified``, epoch seconds) says its page
    changed: a URL with a stored version (``article``), dated later than when its page was last
    answered (``fetched``) and than the change it was last fetched again for (``changed``), so
    each change is fetched once, even one dated in the future."""
    if modified is None or article is None:
        return False
    return modified > (fetched or 0.0) and modified > (changed if changed is not None else float("-inf"))


def health(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Each source's row (last fetch, status, ETag, errors in a row, articles found, last error)
    with its URLs counted by status, top-level sources first and each one's feeds after it;
    [] for an index that no follow run has written to."""
    try:
        cur = db.execute("SELECT * FROM sources")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur]
        counts: dict[str, dict[str, int]] = {}
        for source, status, n in db.execute("SELECT source, status, COUNT(*) FROM urls GROUP BY source, status"):
            counts.setdefault(source, {})[status] = n
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    for row in rows:
        row["urls"] = counts.get(row["url"], {})
    return sorted(rows, key=lambda r: (r["parent"] or r["url"], r["url"] != r["parent"], r["url"]))
