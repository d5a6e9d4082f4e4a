"""Taking articles out of an index and keeping the file small and safe: delete articles
(``remove``), find them by any of their ids (``resolve``), prune by age (``prune_candidates``,
``prune``), give freed pages back to the file system (``reclaim``) and copy a live index
(``backup``).

Every change is one transaction (``Store.batch``): a reader, and a writer killed part-way,
see an article whole or gone, never half-removed. The caller holds ``store.writer()`` for the
writes (``remove``, ``prune``, ``reclaim``), and applies the returned ``Removal`` to its
in-memory index, so the two cannot drift.

What a removal leaves behind, by design:

- The input ledger (``inputs``) keeps every line it ever read: a line whose article is removed
  keeps its ``article`` (the content id it was stored as) and gets ``error`` = ``"deleted"``
  (``remove``) or ``"pruned"`` (``prune``), so the ledger still says each line's fate: "stored
  as X, later deleted". No other row points to a removed article.
- ``keep_text`` (a prune that keeps the text) copies the article's text and metadata to the
  table ``pruned_texts`` (created here when first needed) in the same transaction, before the
  row goes: ``pruned_text`` finds it by content id or record id. Readers of ``articles`` never
  see a pruned article, so none of them must learn to skip one.
- A story left without members keeps its row with ``n = 0`` (what every reader of live stories
  already skips); an id merged into it still leads to it, and finds no story.
- Removing a hot article (not in the cold archive) counts one more ``hot_epoch``, so a saved hot
  ANN index that still holds its vector is rebuilt. A cold article's vector stays in its
  archive segment's file, where its rowid no longer leads to an article.
- ``line_counts`` (boilerplate counts) are counts of lines ever seen; a removal leaves them.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samestory.index.hotset import bump_hot_epoch
from samestory.index.rows import StoryRow, pack_langs
from samestory.index.store import Store
from samestory.types import InputError

log = logging.getLogger(__name__)

#: A prune's transaction size: the oldest this many articles at a time.
PRUNE_CHUNK = 1000

PRUNED_SCHEMA = """
CREATE TABLE IF NOT EXISTS pruned_texts (    -- what a prune with keep_text kept of each article
    id TEXT PRIMARY KEY, title TEXT, text TEXT, lang TEXT, date TEXT, ts REAL, url TEXT, source TEXT,
    ext_id TEXT, replaces TEXT, pruned REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pruned_texts_ext_id ON pruned_texts (ext_id);
"""
_GONE = "temp.retention_gone"


@dataclass(frozen=True)
class Removal:
    """What one ``remove`` changed, for the in-memory index to apply the same change.

    Attributes:
        rowids: the articles removed (rowids that were not stored are left out), ascending.
        stories: the stories that lost members and kept some, as they now are.
        removed_stories: the stories that lost their last member (stored with ``n = 0``).
        new_roots: copy-group members whose root was removed: member rowid -> its new root,
            ``None`` for the member that became the new root (the earliest remaining one).
        ids: the removed articles' content ids, in the order of ``rowids``.
    """

    rowids: list[int]
    stories: list[StoryRow]
    removed_stories: list[int]
    new_roots: dict[int, int | None]
    ids: list[str]


@dataclass(frozen=True)
class PrunedText:
    """What a prune with ``keep_text`` kept of an article."""

    id: str
    title: str
    text: str
    lang: str
    date: str | None
    ts: float
    url: str | None
    source: str | None
    record_id: str | None
    replaces: str | None
    pruned: float


def remove(store: Store, rowids: Iterable[int], *, keep_text: bool = False, reason: str = "deleted") -> Removal:
    """Delete these articles in one transaction (the caller holds ``store.writer()``).

    Goes with each article: its row, its likely links (either side), its record ids, its cold
    LSH bands. Its input lines stay, marked ``error = reason``. Its story is recomputed from the
    remaining members (n, first, last, languages and the vector sum, float64 over the members'
    float32 vectors); a story left empty gets ``n = 0``. A removed copy-group root hands the group
    to its earliest remaining member (by time, then rowid): that one becomes the root (no
    ``dup_of``, no ``copied``) and the others point at it with ``copied`` NULL (never measured
    against it). A removed member just leaves its group.

    Args:
        store: an index opened for writing.
        rowids: the articles; rowids not stored are ignored.
        keep_text: first copy each article's text and metadata to ``pruned_texts``.
        reason: what the input ledger says of the removed articles' lines.

    Returns:
        The change, for the in-memory index (``Removal``); empty when nothing was stored.
    """
    wanted = sorted({int(r) for r in rowids})
    with store.batch() as db:
        found = sorted(store.where_in("SELECT rowid, id, story, dup_of, segment FROM articles WHERE rowid IN ({})",
                                      wanted))
        if not found:
            return Removal([], [], [], {}, [])
        db.execute(f"CREATE TABLE IF NOT EXISTS {_GONE} (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL)")
        db.execute(f"DELETE FROM {_GONE}")
        db.executemany(f"INSERT INTO {_GONE} VALUES (?, ?)", [(r[0], r[1]) for r in found])
        gone_rows, gone_ids = f"(SELECT rowid FROM {_GONE})", f"(SELECT id FROM {_GONE})"
        if keep_text:
            for statement in PRUNED_SCHEMA.split(";"):     # one by one: executescript would commit
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT OR REPLACE INTO pruned_texts (id, title, text, lang, date, ts, url, source, ext_id, "
                       "replaces, pruned) SELECT id, title, text, lang, date, ts, url, source, ext_id, replaces, ? "
                       f"FROM articles WHERE rowid IN {gone_rows}", (time.time(),))
        new_roots = _new_roots(db, gone_rows)
        db.executemany("UPDATE articles SET dup_of=?, copied=NULL WHERE rowid=?",
                       [(root, member) for member, root in new_roots.items()])
        db.execute(f"DELETE FROM links WHERE a IN {gone_rows}")
        db.execute(f"DELETE FROM links WHERE b IN {gone_rows}")
        db.execute(f"DELETE FROM record_ids WHERE article IN {gone_ids}")
        db.execute(f"DELETE FROM cold_bands WHERE article IN {gone_rows}")
        db.execute(f"UPDATE inputs SET error=? WHERE article IN {gone_ids}", (reason,))
        db.execute(f"DELETE FROM articles WHERE rowid IN {gone_rows}")
        db.execute(f"DELETE FROM {_GONE}")
        if any(r[4] is None for r in found):
            bump_hot_epoch(store)       # a checkpoint of the hot ANN index that holds them is rebuilt
        changed, emptied = _recount(db, sorted({r[2] for r in found if r[2] is not None}))
    removal = Removal([r[0] for r in found], changed, emptied, new_roots, [r[1] for r in found])
    log.info("%s: removed %d articles (%s); %d stories changed, %d left empty, %d copies moved to a new root",
             store.path, len(found), reason, len(changed), len(emptied), len(new_roots))
    return removal


def _new_roots(db: sqlite3.Connection, gone_rows: str) -> dict[int, int | None]:
    """The copy groups whose root goes: each remaining member -> its new root (None: the new root)."""
    out: dict[int, int | None] = {}
    root_of: dict[int, int] = {}
    for rowid, old in db.execute(f"SELECT rowid, dup_of FROM articles WHERE dup_of IN {gone_rows} "
                                 f"AND rowid NOT IN {gone_rows} ORDER BY dup_of, ts, rowid"):
        if old in root_of:
            out[rowid] = root_of[old]
        else:
            root_of[old], out[rowid] = rowid, None
    return out


def _recount(db: sqlite3.Connection, story_ids: Sequence[int]) -> tuple[list[StoryRow], list[int]]:
    """Recompute these stories from their members: (the stories that kept members, those left empty)."""
    changed: list[StoryRow] = []
    emptied: list[int] = []
    for sid in story_ids:
        if db.execute("SELECT 1 FROM stories WHERE id=?", (sid,)).fetchone() is None:
            continue
        members = db.execute("SELECT lang, ts, vec FROM articles WHERE story=? ORDER BY ts, rowid", (sid,)).fetchall()
        if not members:
            db.execute("UPDATE stories SET n=0, vsum=zeroblob(length(vsum)), langs='' WHERE id=?", (sid,))
            emptied.append(sid)
            continue
        vsum = np.sum([np.frombuffer(v, np.float32).astype(np.float64) for _, _, v in members], axis=0)
        times = [float(t) for _, t, _ in members]
        langs = dict(Counter(str(lang) for lang, _, _ in members))
        row = StoryRow(sid, vsum, len(members), min(times), max(times), langs)
        db.execute("UPDATE stories SET vsum=?, n=?, first=?, last=?, langs=? WHERE id=?",
                   (vsum.tobytes(), row.n, row.first, row.last, pack_langs(langs), sid))
        changed.append(row)
    return changed, emptied


def resolve(store: Store, keys: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Each key -> the rowid of the article it names: samestory's content id, else the record's
    own id as stored (``ext_id``), else any record id that carried the same text (``record_ids``).

    Returns:
        (key -> rowid for the keys found, the keys not found in the order given, each once).
    """
    found: dict[str, int] = {}
    missing: list[str] = []
    for key in keys:
        key = str(key)
        if key in found or key in missing:
            continue
        article = store.article(key)
        if article is None:
            missing.append(key)
        else:
            found[key] = article.rowid
    return found, missing


def prune_candidates(store: Store, older_than_ts: float, limit: int) -> list[int]:
    """The rowids of articles dated before ``older_than_ts`` (epoch seconds), oldest first (by
    time, then rowid), at most ``limit``: one chunk of a prune.

    Raises:
        InputError: ``limit`` is not positive.
    """
    if limit <= 0:
        raise InputError(f"a prune chunk must hold at least one article, not {limit}")
    rows = store.db.execute("SELECT rowid FROM articles WHERE ts < ? ORDER BY ts, rowid LIMIT ?",
                            (float(older_than_ts), int(limit)))
    return [r[0] for r in rows]


def prune(store: Store, older_than_ts: float, *, keep_text: bool = False, chunk: int = PRUNE_CHUNK) -> Iterator[Removal]:
    """Remove every article dated before ``older_than_ts``, oldest first, ``chunk`` articles per
    transaction, yielding each chunk's ``Removal`` once it is committed (apply it before asking
    for the next). A prune killed part-way leaves whole chunks: running it again finishes it.
    The caller holds ``store.writer()``; ``reclaim`` afterwards gives the space back."""
    while batch := prune_candidates(store, older_than_ts, chunk):
        yield remove(store, batch, keep_text=keep_text, reason="pruned")


def pruned_text(store: Store, key: str) -> PrunedText | None:
    """What a prune with ``keep_text`` kept of an article, by content id or else the record's own
    id; None when no such text was kept (or the index never pruned with ``keep_text``)."""
    if store.db.execute("SELECT 1 FROM sqlite_master WHERE name='pruned_texts'").fetchone() is None:
        return None
    cols = "id, title, text, lang, date, ts, url, source, ext_id, replaces, pruned"
    row = store.db.execute(f"SELECT {cols} FROM pruned_texts WHERE id=?", (key,)).fetchone() or \
        store.db.execute(f"SELECT {cols} FROM pruned_texts WHERE ext_id=? ORDER BY ts LIMIT 1", (key,)).fetchone()
    return PrunedText(*row) if row else None


def _pragma(db: sqlite3.Connection, name: str) -> int:
    return int(db.execute(f"PRAGMA {name}").fetchone()[0])


def reclaim(store: Store) -> int:
    """Give the pages a removal freed back to the file system; the caller holds ``store.writer()``
    and no transaction is open on ``store.db``.

    A file made with incremental auto-vacuum (``PRAGMA auto_vacuum`` = 2, what new files get)
    gives back every free page at once (``PRAGMA incremental_vacuum``). Any other file is
    rewritten whole (``VACUUM``), and only when free pages are over a quarter of it: that needs
    as much free disk as the file takes, and turns incremental auto-vacuum on so the next time
    is cheap. The WAL is then checkpointed so the file itself shrinks (unless a reader holds it).

    Returns:
        The bytes the file gave back (0 when there was nothing worth it).

    Raises:
        RuntimeError: a transaction is open on ``store.db``.
    """
    db = store.db
    if db.in_transaction:
        raise RuntimeError("reclaim cannot run inside a transaction (VACUUM and incremental_vacuum cannot)")
    page, before = _pragma(db, "page_size"), _pragma(db, "page_count")
    mode, free = _pragma(db, "auto_vacuum"), _pragma(db, "freelist_count")
    if mode == 2 and free:
        db.executescript("PRAGMA incremental_vacuum")    # stepped to the end (execute frees one page per call)
    elif mode == 0 and free * 4 > before:
        log.info("%s: rewriting the file to give back %d free pages of %d (VACUUM)", store.path, free, before)
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("VACUUM")
    else:
        return 0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    given = max(0, before - _pragma(db, "page_count")) * page
    log.info("%s: gave back %d bytes", store.path, given)
    return given


def backup(store: Store, dest: str | Path) -> None:
    """A consistent copy of the index at ``dest``, taken while other processes keep writing.

    SQLite's online backup copies one committed state (a read transaction, in one step) to
    ``dest + '.tmp'`` (a leftover of an interrupted backup is replaced), which is then renamed
    to ``dest``: ``dest`` is whole or absent. The copy is in WAL mode and gets a new ``store_id``,
    so derived files (``PATH.usearch``) are rebuilt for it rather than shared with the original.

    Raises:
        InputError: ``dest`` exists already, or its folder does not.
    """
    dest = Path(dest)
    if dest.exists() or dest.is_symlink():
        raise InputError(f"{dest} exists already; a backup never overwrites a file (choose a new name)")
    if not dest.parent.is_dir():
        raise InputError(f"{dest.parent}: no such folder for the backup (create it first)")
    tmp = dest.with_name(dest.name + ".tmp")
    _unlink(tmp)
    src = sqlite3.connect(f"file:{urllib.parse.quote(str(store.path.resolve()))}?mode=ro", uri=True, timeout=60)
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst, pages=-1)       # one step: one read transaction, one committed state
            dst.execute("PRAGMA journal_mode=WAL")
            dst.execute("INSERT OR REPLACE INTO meta VALUES ('store_id', ?)", (json.dumps(uuid.uuid4().hex),))
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            dst.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except BaseException:
        _unlink(tmp)
        raise
    finally:
        src.close()
    log.info("%s: backed up to %s", store.path, dest)


def _unlink(path: Path) -> None:
    """A database file and the files SQLite keeps beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
