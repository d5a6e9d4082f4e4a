"""The cold archive: articles that left the writer's memory, still answerable from disk.

When an article's story has closed and it is older than the hot window, the writer moves
it out of its in-memory indexes (``corpus.state.IndexState.evict``) and into the archive,
which is:

- **segments**: usearch indexes of the archived articles' vectors (``PATH.cold/seg-*.usearch``),
  listed in the ``segments`` table; ``articles.segment`` says which segment holds an article.
  Readers open them as memory-mapped views (``ColdArchive``), so ``similar`` searches the
  whole index while the writer holds only the hot part. A sweep appends what left memory to
  the newest segment while that stays within ``MAX_SEGMENT`` articles (it is read into
  memory, added to, and written as a new file under the same segment id), and starts a new
  segment after that. So each archived article goes into an HNSW graph once, a sweep costs the
  same on the tenth day as on the fourth, the writer never holds more than ``MAX_SEGMENT``
  archived vectors, and segments number one per ``MAX_SEGMENT`` archived. ``compact``
  merges by size tiers, as log-structured stores do (segments left small, e.g. by a prune):
  once ``MERGE_FACTOR`` segments of like size (the same power of ``MERGE_FACTOR`` in
  articles) are there, they become one, unless that one would hold more than
  ``MAX_SEGMENT`` articles. A segment that deletions have thinned by a quarter is rewritten
  (a deleted article stays in a segment file until then; readers skip it, as they skip any
  key the store no longer has).
- **cold bands** (``cold_bands``): ``COLD_BANDS`` LSH band hashes of ``COLD_ROWS`` MinHash
  rows per archived article, about 0.2 KB of disk each, so a re-run of a months-old wire
  story is still found as a copy. Fewer and longer bands than the in-memory LSH: a pair at
  Jaccard 0.8 shares one with probability 0.985, at 0.6 with 0.67, at 0.5 with 0.40; the
  in-memory index finds looser copies within the hot window.

A segment file is written (under a new name) before the transaction that records it, so a
crash leaves at worst a file no row names, which the next writer removes (``remove_orphans``);
the file it replaces is removed after the commit (a reader that has it open keeps its view).
"""
from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from samestory.index.ann import VectorIndex
from samestory.index.hotset import bump_hot_epoch, vectors_of
from samestory.index.minhash import band_hashes
from samestory.index.store import Store

log = logging.getLogger(__name__)

COLD_BANDS, COLD_ROWS = 8, 4
MERGE_FACTOR = 4
MAX_SEGMENT = 200_000       # articles: a merge's vectors, in half precision, take at most about 0.2 GB
_CHUNK = 8192               # vectors read from the store at a time while a segment is built


def folder(store: Store) -> Path:
    return Path(f"{store.path}.cold")


def segments(store: Store) -> list[tuple[int, str, int]]:
    """(id, file name, articles when written) of every segment, oldest first."""
    return [(int(i), str(f), int(n)) for i, f, n in store.db.execute("SELECT id, file, n FROM segments ORDER BY id")]


def _file_name(sid: int) -> str:
    """A new file name for segment ``sid`` (never one a row names: a rewrite replaces the file)."""
    return f"seg-{sid:06d}-{secrets.token_hex(4)}.usearch"


def _write_segment(store: Store, sid: int, rowids: Sequence[int], dim: int,
                   index: VectorIndex | None = None) -> tuple[str, int]:
    """A new file for segment ``sid``: ``index`` (or an empty one) with these articles' vectors
    added, read from the store a chunk at a time; not yet recorded in the store. Returns the
    file's name and how many vectors it holds."""
    name = _file_name(sid)
    folder(store).mkdir(parents=True, exist_ok=True)
    index = index if index is not None else VectorIndex(dim)
    rowids = sorted(rowids)
    for i in range(0, len(rowids), _CHUNK):
        keys, vecs = vectors_of(store, rowids[i:i + _CHUNK])
        if len(keys):
            index.add(keys, vecs)
    index.save(folder(store) / name, store.store_id(), strict=True)
    return name, len(index)


def _next_id(store: Store) -> int:
    row = store.db.execute("SELECT MAX(id) FROM segments").fetchone()
    return int(row[0] or 0) + 1


def _open_segment(store: Store, adding: int) -> tuple[int, str, int] | None:
    """The newest segment, when ``adding`` more articles keep it within ``MAX_SEGMENT``."""
    row = store.db.execute("SELECT id, file, n FROM segments ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1]), int(row[2])) if row is not None and row[2] + adding <= MAX_SEGMENT else None


def archive(store: Store, rowids: Sequence[int], dim: int) -> int | None:
    """Move these hot articles into the archive, appended to the newest segment while it has
    room (``MAX_SEGMENT``) or else in a new one, and index their cold bands, in one transaction
    (the caller holds the writer lock). Returns the segment's id, or None when there was
    nothing to move.

    Raises:
        OSError: the segment file could not be written (nothing was recorded).
    """
    rowids = sorted(rowids)
    if not rowids:
        return None
    grown = _open_segment(store, len(rowids))
    if grown is None:
        sid, base = _next_id(store), None
    else:
        sid, base = grown[0], _read(store, grown[0], grown[1], dim)
    name, n = _write_segment(store, sid, rowids, dim, base)
    del base
    sigs = dict(store.where_in("SELECT rowid, minhash FROM articles WHERE rowid IN ({})", rowids))
    keys = sorted(sigs)
    bands = band_hashes(np.stack([np.frombuffer(sigs[k], np.uint32) for k in keys]), COLD_BANDS, COLD_ROWS) \
        if keys else np.zeros((0, COLD_BANDS), np.int64)
    with store.batch() as db:
        if grown is None:
            db.execute("INSERT INTO segments VALUES (?,?,?,?)", (sid, name, n, time.time()))
        else:
            db.execute("UPDATE segments SET file=?, n=? WHERE id=?", (name, n, sid))
        for i in range(0, len(rowids), 500):
            chunk = rowids[i:i + 500]
            db.execute(f"UPDATE articles SET segment=? WHERE rowid IN ({','.join('?' * len(chunk))})", (sid, *chunk))
        db.executemany("INSERT OR IGNORE INTO cold_bands VALUES (?,?)",
                       [(int(h), key) for key, hs in zip(keys, bands.tolist()) for h in hs])
        bump_hot_epoch(store)
    if grown is not None:
        _unlink(folder(store) / grown[1])
    return sid


def _read(store: Store, sid: int, name: str, dim: int) -> VectorIndex:
    """A segment read into memory to be added to: its file, or (unreadable) its articles'
    vectors from the store."""
    try:
        return VectorIndex.read(folder(store) / name, dim)
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("%s: unreadable (%s); building it again from the store", folder(store) / name, exc)
        return _from_store(store, sid)


def tier(n: int) -> int:
    """A segment's size tier: how many times ``MERGE_FACTOR`` goes into its article count."""
    return 0 if n < MERGE_FACTOR else int(math.log(n, MERGE_FACTOR))


def merge_plan(sizes: dict[int, int]) -> list[list[int]]:
    """Which segments to merge, given each one's live articles: groups of ``MERGE_FACTOR`` of
    one tier (the smallest first), then the same again on the merged sizes, none reaching over
    ``MAX_SEGMENT``."""
    sizes = dict(sizes)
    plan: dict[int, list[int]] = {}         # a planned segment (its first member's id) -> members
    while True:
        tiers: dict[int, list[int]] = {}
        for sid, n in sorted(sizes.items(), key=lambda kv: (kv[1], kv[0])):
            tiers.setdefault(tier(n), []).append(sid)
        group = next((ids[:MERGE_FACTOR] for _, ids in sorted(tiers.items()) if len(ids) >= MERGE_FACTOR
                      and sum(sizes[i] for i in ids[:MERGE_FACTOR]) <= MAX_SEGMENT), None)
        if group is None:
            return [sorted(plan[k]) for k in sorted(plan)]
        head = min(group)
        plan[head] = [m for g in group for m in plan.pop(g, [g])]
        sizes[head] = sum(sizes.pop(g) for g in group)


def compact(store: Store, dim: int) -> int:
    """Merge segments by size tier (``merge_plan``), and rewrite any that deletions thinned by a
    quarter. Returns how many segment files were written. Old files are removed after the
    commit: a reader that has one open keeps its view."""
    written = 0
    live = dict(store.db.execute("SELECT segment, COUNT(*) FROM articles WHERE segment IS NOT NULL GROUP BY segment"))
    known = segments(store)
    by_id = {s[0]: s for s in known}
    groups = merge_plan({s[0]: live.get(s[0], 0) for s in known})
    merged = {m for g in groups for m in g}
    groups += [[s[0]] for s in known if s[0] not in merged and live.get(s[0], 0) < 0.75 * s[2]]
    for ids in groups:
        rowids = [r[0] for r in store.where_in("SELECT rowid FROM articles WHERE segment IN ({})", ids)]
        sid = _next_id(store)
        name, n = _write_segment(store, sid, rowids, dim) if rowids else ("", 0)
        with store.batch() as db:
            marks = ",".join("?" * len(ids))
            if rowids:
                db.execute("INSERT INTO segments VALUES (?,?,?,?)", (sid, name, n, time.time()))
                db.execute(f"UPDATE articles SET segment=? WHERE segment IN ({marks})", (sid, *ids))
            db.execute(f"DELETE FROM segments WHERE id IN ({marks})", ids)
        written += bool(rowids)
        for i in ids:
            _unlink(folder(store) / by_id[i][1])
    return written


def version(store: Store) -> tuple[str, ...]:
    """The archive's segment files now: it has changed when this has."""
    return tuple(f for _, f, _ in segments(store))


def _from_store(store: Store, sid: int) -> VectorIndex:
    """A segment's index built in memory from the store's vectors."""
    keys, vecs = vectors_of(store, [r[0] for r in store.db.execute("SELECT rowid FROM articles WHERE segment=?",
                                                                   (sid,))])
    index = VectorIndex(vecs.shape[1] if len(vecs) else (store.vector_dim() or 1))
    index.add(keys, vecs)
    return index


def remove_orphans(store: Store) -> None:
    """Remove segment files no row names (a crash between writing one and recording it), and write
    again those a row names that are missing or unreadable (a restored backup has none)."""
    for sid, name, _ in segments(store):
        path = folder(store) / name
        try:
            VectorIndex.view(path)
        except (OSError, RuntimeError, ValueError):
            log.warning("%s: missing or unreadable; writing it again from the store", path)
            folder(store).mkdir(parents=True, exist_ok=True)
            _from_store(store, sid).save(path, store.store_id(), strict=True)
    named = {f for _, f, _ in segments(store)}
    if folder(store).is_dir():
        for path in folder(store).glob("seg-*.usearch*"):
            if path.name.removesuffix(".json") not in named:
                _unlink(path)


def _unlink(path: Path) -> None:
    for p in (path, Path(f"{path}.json")):
        try:
            p.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("%s: not removed (%s)", p, exc)


def cold_copies(store: Store, sigs: np.ndarray, threshold: float) -> list[list[tuple[int, float]]]:
    """For each signature, the archived articles sharing a cold band with it whose estimated
    Jaccard reaches ``threshold``: (rowid, estimate), best first."""
    if not len(sigs) or store.db.execute("SELECT 1 FROM segments LIMIT 1").fetchone() is None:
        return [[] for _ in range(len(sigs))]
    bands = band_hashes(sigs, COLD_BANDS, COLD_ROWS)
    holders: dict[int, list[int]] = {}
    for h, article in store.where_in("SELECT h, article FROM cold_bands WHERE h IN ({})",
                                     sorted(set(bands.ravel().tolist()))):
        holders.setdefault(h, []).append(article)
    found = [{a for h in hs for a in holders.get(h, ())} for hs in bands.tolist()]
    stored = {k: np.frombuffer(m, np.uint32) for k, m in store.where_in(
        "SELECT rowid, minhash FROM articles WHERE rowid IN ({})", sorted(set().union(*found)))}
    out = []
    for sig, keys in zip(sigs, found):
        hits = [(k, float(np.mean(stored[k] == sig))) for k in keys if k in stored]
        out.append(sorted((h for h in hits if h[1] >= threshold), key=lambda h: (-h[1], h[0])))
    return out


class ColdArchive:
    """The archive's segments as a reader sees them: memory-mapped, searched together.
    ``version`` names the segment files it holds (reopen when ``version(store)`` differs)."""

    def __init__(self, store: Store):
        self.version = version(store)
        self._views: list[VectorIndex] = []
        for sid, name, _ in segments(store):
            try:
                self._views.append(VectorIndex.view(folder(store) / name))
            except (OSError, RuntimeError, ValueError) as exc:     # e.g. a backup restored without PATH.cold/
                log.warning("%s: unreadable (%s); searching its articles from the store's vectors (the next "
                            "writer writes it again)", folder(store) / name, exc)
                self._views.append(_from_store(store, sid))

    def __len__(self) -> int:
        return sum(len(v) for v in self._views)

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [v.search_many(vectors, k) for v in self._views if len(v)]
        return merge_hits(parts, len(vectors), k)


def merge_hits(parts: list[tuple[np.ndarray, np.ndarray]], n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of several (keys, similarities) answers to the same ``n`` queries (key -1: none)."""
    parts = [p for p in parts if p[0].shape[1]]
    if not parts:
        return np.full((n, 0), -1, np.int64), np.zeros((n, 0), np.float32)
    keys = np.concatenate([p[0] for p in parts], axis=1)
    sims = np.concatenate([p[1] for p in parts], axis=1)
    sims = np.where(keys < 0, -np.inf, sims)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    keys, sims = np.take_along_axis(keys, order, 1), np.take_along_axis(sims, order, 1)
    return keys, np.where(keys < 0, 0.0, sims).astype(np.float32)


class Layered:
    """The hot index and the cold archive answering as one (``search``/``search_many`` as
    ``VectorIndex``)."""

    def __init__(self, hot: VectorIndex, cold: ColdArchive | None):
        self.hot, self.cold = hot, cold

    def __len__(self) -> int:
        return len(self.hot) + (len(self.cold) if self.cold is not None else 0)

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        vectors = np.asarray(vectors, np.float32).reshape(len(vectors), -1) if len(vectors) else vectors
        parts = [self.hot.search_many(vectors, k)]
        if self.cold is not None:
            parts.append(self.cold.search_many(vectors, k))
        return merge_hits(parts, len(vectors), k)

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        keys, sims = self.search_many(np.asarray(vector, np.float32).reshape(1, -1), k)
        ok = keys[0] >= 0
        return keys[0][ok], sims[0][ok]
