"""Deleting and pruning through the corpus: the store removes the articles (``index.retention``,
one transaction per call or per chunk), then the in-memory index forgets the same articles
and takes the same story and copy-group changes (``IndexState.forget``), so the two cannot
drift; the hot ANN checkpoint is written again and the archive's thinned segments compacted.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from samestory.corpus.state import IndexState
from samestory.index import retention
from samestory.index.archive import compact
from samestory.index.store import Store
from samestory.types import RemovalReport

log = logging.getLogger(__name__)


def _apply(state: IndexState | None, removal: retention.Removal) -> None:
    if state is not None:
        state.forget(removal.rowids, removal.stories, removal.removed_stories, removal.new_roots)


def delete(store: Store, state: IndexState | None, keys: Sequence[str]) -> RemovalReport:
    """Remove the articles named by ``keys`` (samestory's id, the record's own id, or any record
    id that carried the text); the caller holds the writer lock."""
    found, missing = retention.resolve(store, keys)
    removal = retention.remove(store, sorted(set(found.values())))
    _apply(state, removal)
    return RemovalReport(removal.ids, missing, len(removal.stories), removal.removed_stories,
                         len(removal.new_roots))


def prune(store: Store, state: IndexState | None, older_than_ts: float, keep_text: bool, dim: int,
          progress: Callable[[int], None] | None = None) -> RemovalReport:
    """Remove every article dated before ``older_than_ts`` (keeping its text aside with
    ``keep_text``), chunk by chunk, then compact the archive and give the space back."""
    ids: list[str] = []
    changed: set[int] = set()
    emptied: list[int] = []
    moved = 0
    for removal in retention.prune(store, older_than_ts, keep_text=keep_text):
        _apply(state, removal)
        ids += removal.ids
        changed |= {s.id for s in removal.stories}
        emptied += removal.removed_stories
        moved += len(removal.new_roots)
        if progress is not None:
            progress(len(removal.ids))
    if ids:
        compact(store, dim)
    reclaimed = retention.reclaim(store) if ids else 0
    return RemovalReport(ids, [], len(changed - set(emptied)), emptied, moved, reclaimed)
