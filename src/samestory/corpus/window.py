"""The hot window: moving articles whose stories have closed out of the writer's memory and
into the cold archive, as the clock (the newest dated article) advances.

``Sweeper.due`` is asked after every batch; a sweep runs when the clock has moved a twelfth
of the window since the last one (6 hours of news for a 3-day window), and on the first
batch of a run (an index written by a release without a window, or by a run with a wider
one, is brought down to size). A sweep archives (``index.archive.archive``: one segment
file, one transaction), drops the same articles from memory (``IndexState.forget``),
merges segments of like size (``index.archive.compact``), and writes the hot ANN checkpoint at the new
epoch, so that a restart reads it instead of rebuilding it. Then the C allocator is asked to
give the freed memory back to the system (``release_memory``): without that, a process that
drops a hundred thousand small objects a day keeps their pages.
"""
from __future__ import annotations

import ctypes
import logging
import math
from dataclasses import dataclass

from samestory.corpus.state import IndexState, ann_path
from samestory.index.archive import archive, compact, remove_orphans
from samestory.index.hotset import hot_epoch
from samestory.index.store import Store

log = logging.getLogger(__name__)


@dataclass
class Sweeper:
    """When to sweep. ``hot_days``: the window (``inf``: never)."""

    hot_days: float
    last: float = -math.inf       # the clock at the last sweep

    def due(self, state: IndexState) -> bool:
        if not math.isfinite(self.hot_days) or not math.isfinite(state.clock):
            return False
        return state.clock - self.last >= max(3600.0, self.hot_days * 86400.0 / 12)

    def sweep(self, state: IndexState, store: Store) -> int:
        """Archive what has left the window (the caller holds the writer lock). Returns how many
        articles left memory.

        Raises:
            OSError: a segment could not be written; nothing was archived (the state must be reloaded).
        """
        self.last = state.clock
        if not math.isfinite(self.last - self.hot_days * 86400.0):
            return 0
        remove_orphans(store)
        rowids = state.evict()
        if rowids:
            archive(store, rowids, state.ann.dim)
            state.forget(rowids)
            compact(store, state.ann.dim)
            state.ann.save(ann_path(store), store.store_id(), hot_epoch(store))
            log.info("%d articles left memory for the cold archive (%d stay hot)", len(rowids), len(state.prints))
            release_memory()
        return len(rowids)


def release_memory() -> None:
    """Ask glibc's allocator to return free pages to the system (``malloc_trim``); a no-op
    where there is no glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
