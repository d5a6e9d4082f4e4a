"""What the writer's in-memory index is made of, read from the store: the hot articles
(those not yet in the cold archive, ``articles.segment IS NULL``), their vectors and
fingerprint columns, the links of a few articles, and the clock.

The clock is the time of the newest dated article (undated articles are dated when
indexed, and would jump it to today in an index of old news); with no dated article
at all, the newest article's. ``hot_epoch`` counts the changes that take articles out
of the hot set (eviction to the archive, deletion, pruning): a checkpoint of the hot ANN
index written at another epoch is rebuilt rather than caught up.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from samestory.index.rows import LinkRow, as_uint32
from samestory.index.store import Store

_LINK_COLS = ("rowid, ts, lang, story, dup_of, minhash, names, keywords, numbers, tokens, density, dated, "
              "CASE WHEN names IS NULL OR keywords IS NULL OR numbers IS NULL THEN title || '\n' || text END")


def _link_row(r: tuple[Any, ...]) -> LinkRow:
    return LinkRow(r[0], r[1], r[2], r[3], r[4], np.frombuffer(r[5], np.uint32), as_uint32(r[6]), r[7],
                   as_uint32(r[8]), r[9], r[10], None if r[11] is None else bool(r[11]), r[12])


def hot_rows(store: Store) -> Iterator[LinkRow]:
    """Every hot article's fingerprint columns, in rowid order."""
    for r in store.db.execute(f"SELECT {_LINK_COLS} FROM articles WHERE segment IS NULL ORDER BY rowid"):
        yield _link_row(r)


def rows_of(store: Store, rowids: Sequence[int]) -> dict[int, LinkRow]:
    """The fingerprint columns of these articles, hot or cold (absent ones are left out)."""
    return {r[0]: _link_row(r) for r in store.where_in(f"SELECT {_LINK_COLS} FROM articles WHERE rowid IN ({{}})",
                                                        list(rowids))}


def _stack(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return np.array([r[0] for r in rows], np.int64), np.stack([np.frombuffer(r[1], np.float32) for r in rows])


def hot_vectors(store: Store, after: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(rowids, vectors) of the hot articles with a rowid above ``after``, for the ANN index."""
    return _stack(store.db.execute("SELECT rowid, vec FROM articles WHERE rowid > ? AND segment IS NULL "
                                   "ORDER BY rowid", (after,)).fetchall())


def vectors_of(store: Store, rowids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(rowids, vectors) of these articles, in rowid order (absent ones are left out)."""
    return _stack(sorted(store.where_in("SELECT rowid, vec FROM articles WHERE rowid IN ({})", sorted(rowids))))


def links_of(store: Store, keys: Sequence[int]) -> dict[int, list[tuple[int, float]]]:
    """Each key's stored likely links, both directions: key -> [(other article, P)]."""
    out: dict[int, list[tuple[int, float]]] = {}
    for a, b, p in store.where_in("SELECT a, b, p FROM links WHERE a IN ({})", list(keys)):
        out.setdefault(a, []).append((b, p))
    for a, b, p in store.where_in("SELECT a, b, p FROM links WHERE b IN ({})", list(keys)):
        out.setdefault(b, []).append((a, p))
    return out


def clock(store: Store) -> tuple[float | None, bool]:
    """The newest dated article's time (with none dated, the newest article's; None when empty),
    and whether any article is dated."""
    row = store.db.execute("SELECT MAX(ts) FROM articles WHERE dated = 1").fetchone()
    if row[0] is not None:
        return float(row[0]), True
    row = store.db.execute("SELECT MAX(ts) FROM articles").fetchone()
    return (None if row[0] is None else float(row[0])), False


def hot_epoch(store: Store) -> int:
    """How many times articles have left the hot set (see the module docstring)."""
    return int(store.get_meta("hot_epoch") or 0)


def bump_hot_epoch(store: Store) -> None:
    """Count one more change that takes articles out of the hot set (inside the caller's transaction)."""
    store.set_meta("hot_epoch", hot_epoch(store) + 1)
