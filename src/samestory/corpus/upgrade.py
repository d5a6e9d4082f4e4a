"""Re-embed an index built with another encoder (``samestory index upgrade``), in place and resumably.

Every article's vector is what the corpus embeds for it, ``text.opening`` of the stored
(already boilerplate-stripped) article. The new vectors are written batch by batch, one
transaction each, into a staging table (``upgrade_vecs``) while the old ones stay in use, and
the meta key ``upgrade`` = ``{"to": encoder name, "done_upto": rowid}`` records how far the run
got: a run that is killed goes on from there when started again, and no article is embedded
twice. When every article has its new vector, one transaction swaps them in, recomputes the
story sums (``stories.vsum``) from them, empties the cold archive (its ``segments`` rows,
``articles.segment``, ``cold_bands``), bumps the hot epoch and sets the meta ``encoder`` (and
``encoder_spec``); readers see the old index or the new one, never a mix. Then the derived
files made from old vectors (``PATH.usearch`` with its sidecar, and ``PATH.cold/``) are removed:
the next reader or writer rebuilds the ANN index from the store, and the writer's sweep archives
old articles again. Story assignments, copy groups and the stored links are kept.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from samestory.embed import Encoder
from samestory.index.archive import folder
from samestory.index.hotset import bump_hot_epoch
from samestory.index.store import Store
from samestory.text import opening

log = logging.getLogger(__name__)

#: The meta key that holds an unfinished upgrade's target and progress.
PROGRESS_KEY = "upgrade"
_STAGING = "upgrade_vecs"


def pending(store: Store, encoder: Encoder) -> int:
    """How many articles an ``upgrade`` to ``encoder`` still has to embed (0: the index already uses
    it). A run that was started towards another encoder starts again from the first article."""
    if store.get_meta("encoder") == encoder.name and store.get_meta(PROGRESS_KEY) is None:
        return 0
    return store.count() - store.count(upto=_done_upto(store, encoder))


def _done_upto(store: Store, encoder: Encoder) -> int:
    state = store.get_meta(PROGRESS_KEY)
    if isinstance(state, dict) and state.get("to") == encoder.name and isinstance(state.get("done_upto"), int):
        return int(state["done_upto"])
    return 0


def _batches(store: Store, after: int, batch_size: int) -> Iterator[list[tuple[int, str, str]]]:
    """(rowid, content id, text the corpus embeds) of the articles after ``after``, in rowid order."""
    while True:
        rowids = [r[0] for r in store.db.execute("SELECT rowid FROM articles WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                                 (after, batch_size))]
        if not rowids:
            return
        yield [(a.rowid, a.id, opening(a.to_article())) for a in store.articles(rowids)]
        after = rowids[-1]


def upgrade(store: Store, encoder: Encoder, batch_size: int = 256, progress: Callable[[int], object] | None = None,
            spec: str | None = None) -> int:
    """Re-embed every article of ``store`` with ``encoder`` and make it the index's encoder.

    Holds the writer lock for the whole run. Resumable: each batch is committed with its
    progress, so running it again after a crash or a kill goes on where it stopped.

    Args:
        store: a writable index.
        encoder: the new encoder (``load_encoder(corpus.DEFAULT_ENCODER)`` for the current default).
        batch_size: articles embedded and committed together.
        progress: called with the number of articles done after each committed batch.
        spec: the encoder's spec string, stored as meta ``encoder_spec`` so that a ``Corpus``
            opened without an encoder loads it; None removes it (pass the encoder when opening).

    Returns:
        How many articles this run embedded (0 when the index already used ``encoder``).

    Raises:
        StoreBusy, StoreChanged: as ``Store.writer``.
        ValueError: the encoder returned vectors of another shape than ``(n, encoder.dim)``.
    """
    with store.writer():
        if store.get_meta("encoder") == encoder.name and store.get_meta(PROGRESS_KEY) is None:
            log.info("%s already uses encoder %s; nothing to upgrade", store.path, encoder.name)
            return 0
        done_upto = _done_upto(store, encoder)
        with store.batch() as db:
            if done_upto == 0:        # a fresh start (or one towards another encoder): no stale vectors
                db.execute(f"DROP TABLE IF EXISTS {_STAGING}")
            db.execute(f"CREATE TABLE IF NOT EXISTS {_STAGING} (article INTEGER PRIMARY KEY, id TEXT NOT NULL, "
                       "vec BLOB NOT NULL)")
            store.set_meta(PROGRESS_KEY, {"to": encoder.name, "done_upto": done_upto})
        embedded = 0
        for batch in _batches(store, done_upto, batch_size):
            _stage(store, encoder, batch, {"to": encoder.name, "done_upto": batch[-1][0]})
            embedded += len(batch)
            if progress is not None:
                progress(len(batch))
        # Articles whose rowid an earlier, interrupted run staged for another text (the last
        # article deleted and its rowid reused): embedded again, so that no old vector stays.
        stale = [r[0] for r in store.db.execute(
            f"SELECT rowid FROM articles a WHERE NOT EXISTS (SELECT 1 FROM {_STAGING} u "
            "WHERE u.article = a.rowid AND u.id = a.id)")]
        for i in range(0, len(stale), batch_size):
            rows = store.articles(stale[i:i + batch_size])
            _stage(store, encoder, [(a.rowid, a.id, opening(a.to_article())) for a in rows], None)
            embedded += len(rows)
            if progress is not None:
                progress(len(rows))
        _swap(store, encoder, spec)
        _remove_derived(store)
    log.info("%s now uses encoder %s (%d articles embedded in this run)", store.path, encoder.name, embedded)
    return embedded


def _stage(store: Store, encoder: Encoder, batch: list[tuple[int, str, str]], state: dict[str, object] | None) -> None:
    """Embed one batch and store its vectors (and the run's progress ``state``) in one transaction."""
    if not batch:
        return
    vecs = np.asarray(encoder.encode([text for _, _, text in batch]), np.float32)
    if vecs.shape != (len(batch), encoder.dim):
        raise ValueError(f"encoder {encoder.name} returned vectors of shape {vecs.shape} for {len(batch)} texts "
                         f"(expected ({len(batch)}, {encoder.dim}))")
    with store.batch() as db:
        db.executemany(f"INSERT OR REPLACE INTO {_STAGING} (article, id, vec) VALUES (?,?,?)",
                       [(rowid, cid, v.tobytes()) for (rowid, cid, _), v in zip(batch, vecs)])
        if state is not None:
            store.set_meta(PROGRESS_KEY, state)


def _swap(store: Store, encoder: Encoder, spec: str | None) -> None:
    """In one transaction: the staged vectors in, story sums from them, the cold archive emptied,
    the meta set, the staging table gone."""
    with store.batch() as db:
        db.execute(f"UPDATE articles SET vec = (SELECT u.vec FROM {_STAGING} u WHERE u.article = articles.rowid)")
        db.execute("UPDATE stories SET vsum = zeroblob(?) WHERE merged_into IS NULL", (8 * encoder.dim,))
        sums: list[tuple[bytes, int]] = []
        story, acc = None, np.zeros(encoder.dim, np.float64)
        # streamed in story order (articles_story index), a thousand story sums written at a time
        for sid, vec in db.execute("SELECT story, vec FROM articles WHERE story IS NOT NULL ORDER BY story"):
            if sid != story and story is not None:
                sums.append((acc.tobytes(), story))
                acc = np.zeros(encoder.dim, np.float64)
                if len(sums) == 1000:
                    db.executemany("UPDATE stories SET vsum = ? WHERE id = ?", sums)
                    sums = []
            story = sid
            acc += np.frombuffer(vec, np.float32)
        if story is not None:
            sums.append((acc.tobytes(), story))
        db.executemany("UPDATE stories SET vsum = ? WHERE id = ?", sums)
        db.execute("UPDATE articles SET segment = NULL WHERE segment IS NOT NULL")
        db.execute("DELETE FROM segments")
        db.execute("DELETE FROM cold_bands")
        bump_hot_epoch(store)
        store.set_meta("encoder", encoder.name)
        if spec is None:
            db.execute("DELETE FROM meta WHERE key = 'encoder_spec'")
        else:
            store.set_meta("encoder_spec", spec)
        db.execute("DELETE FROM meta WHERE key = ?", (PROGRESS_KEY,))
        db.execute(f"DROP TABLE {_STAGING}")


def _remove_derived(store: Store) -> None:
    """The files made from the old vectors (rebuilt from the store when next needed)."""
    for path in (Path(f"{store.path}.usearch"), Path(f"{store.path}.usearch.json")):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("%s: not removed (%s); it is rebuilt anyway (its hot epoch is out of date)", path, exc)
    if folder(store).is_dir():
        shutil.rmtree(folder(store), ignore_errors=True)
