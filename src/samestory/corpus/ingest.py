"""The write path: records -> clean -> embed -> fingerprint -> link -> assign -> store.

One batch at a time: ``prepare`` (per record), ``assign.link_and_assign`` (the batch's
stories and copies), then ``add_batch`` writes the batch's ``BatchDelta`` in one SQLite
transaction, and only after it commits does the in-memory index (``IndexState``) take the
same delta: a batch that fails leaves no trace anywhere. ``PATH.usearch`` is a checkpoint
the corpus writes now and then (``Corpus``), caught up from the store when opened.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from samestory.corpus.assign import Linked, LinkSettings, Signer, link_and_assign
from samestory.corpus.prepare import Prepared, record_id_of
from samestory.corpus.state import IndexState
from samestory.embed import Encoder
from samestory.index.minhash import signatures
from samestory.index.rows import BatchDelta, StoryRow
from samestory.index.store import Store
from samestory.stories.cluster import StoryClusterer
from samestory.stories.link import Fingerprint, StoryLinker, fingerprint
from samestory.types import AddOutcome


@dataclass
class BatchResult:
    """What became of a batch: one outcome per record, and how many stories it created and merged."""

    outcomes: list[AddOutcome]
    created: int
    merged: int


def add_batch(prepared: list[Prepared], state: IndexState, store: Store, encoder: Encoder, linker: StoryLinker,
              settings: LinkSettings, sign: Signer = signatures, print_of: Callable[..., Fingerprint] = fingerprint
              ) -> BatchResult:
    """Add one batch: every record of ``prepared`` gets one outcome (added, exists or error).

    ``sign`` and ``print_of`` stand in for ``signatures`` and ``fingerprint`` where they were
    computed ahead (``scale.embedded``: on Ray workers or by ``samestory index embed``), as ``encoder``
    may answer from precomputed vectors: each must give what the real function would.

    Raises:
        Whatever writing the store raises, with nothing changed in memory or on disk; an
        exception after the commit leaves ``state.version = -1`` (reload before the next use).
    """
    ok = [p for p in prepared if p.article is not None]
    known = store.known_ids([p.id for p in ok])
    new: dict[str, Prepared] = {}
    for p in ok:
        if p.id not in known and p.id not in new:
            new[p.id] = p
    fresh = sorted(new.values(), key=lambda p: p.ts)
    clusterer = state.clusterer
    stories_before = clusterer.next_id
    linked = Linked([], [], [], {})
    if fresh:
        try:
            linked = link_and_assign(fresh, state, store, encoder, linker, settings, sign, print_of)
        except BaseException:
            clusterer.rollback()
            raise
    rows = linked.rows
    merged = dict(clusterer.merged)
    outcomes = []
    assigned = {r.id: r for r in rows}
    for p in prepared:
        record_id = record_id_of(p)
        if p.article is None:
            outcomes.append(AddOutcome(p.item.source, p.item.line, "error", error=p.error, record_id=record_id))
        elif p.id in assigned and new.get(p.id) is p:
            outcomes.append(AddOutcome(p.item.source, p.item.line, "added", p.id, assigned[p.id].story,
                                       record_id=record_id, notes=p.article.cleaning.notes))
        else:
            rowid = known.get(p.id) or assigned[p.id].rowid
            story = assigned[p.id].story if p.id in assigned else state.story(rowid)
            outcomes.append(AddOutcome(p.item.source, p.item.line, "exists", p.id, story, record_id=record_id,
                                       notes=p.article.cleaning.notes))
    live = [s for s in clusterer.touched if s in clusterer.stories]
    story_rows = [StoryRow(s, vsum, st.n, st.first, st.last, dict(st.langs))
                  for s, vsum in story_sums(store, clusterer, live, encoder.dim).items()
                  for st in [clusterer.stories[s]]]
    delta = BatchDelta(rows=rows, prints=linked.prints, stories=story_rows, merged=merged,
                       inputs=[(o.source, o.line, o.article, o.error, o.record_id) for o in outcomes],
                       links=linked.links, moves=linked.moves, copy_merges=linked.copy_merges,
                       copy_moves=linked.copy_moves)
    try:
        store.write_batch(delta)
    except BaseException:
        clusterer.rollback()
        raise
    created = clusterer.next_id - stories_before
    clusterer.commit()
    try:
        state.apply(delta)
    except BaseException:
        state.version = -1      # memory is behind the committed store: reload before the next use
        raise
    return BatchResult(outcomes, created, len(merged))


def story_sums(store: Store, clusterer: StoryClusterer, live: list[int], dim: int) -> dict[int, np.ndarray]:
    """The sums of the members' vectors of these live stories after the batch: the stored sums
    (of each story, and of the stories merged into it) plus what the batch changed."""
    wanted = sorted({*live, *(a for s in live for a in clusterer.stories[s].absorbed)})
    stored = {sid: np.frombuffer(v, np.float64) for sid, v in
              store.where_in("SELECT id, vsum FROM stories WHERE id IN ({})", wanted) if v and len(v) == 8 * dim}
    out = {}
    for s in live:
        st = clusterer.stories[s]
        total = np.zeros(dim, np.float64)
        for sid in (s, *st.absorbed):
            if sid in stored:
                total += stored[sid]
        if st.vsum is not None:
            total += st.vsum
        out[s] = total
    return out


def update_stored(store: Store, prepared: list[Prepared], outcomes: list[AddOutcome]) -> list[AddOutcome]:
    """``index add --update``: each ``exists`` outcome whose record gives another date, URL or
    record id than the stored article: the stored article corrected (``Store.update_metadata``)
    and the outcome ``updated``, noting what changed. The caller reloads its in-memory index
    when anything changed (the result differs from ``outcomes``)."""
    out = []
    for p, o in zip(prepared, outcomes, strict=True):
        stored = store.article(p.id) if o.status == "exists" and p.article is not None else None
        if stored is None or p.article is None:
            out.append(o)
            continue
        date, url, record_id = stored.date, stored.url, stored.record_id
        changes = []
        if p.dated and p.article.date != stored.date:
            changes.append(f"date: {stored.date} -> {p.article.date}")
            date = p.article.date
        if p.article.url and p.article.url != stored.url:
            changes.append(f"url: {stored.url} -> {p.article.url}")
            url = p.article.url
        new_id = record_id_of(p)
        if new_id and new_id != stored.record_id:
            changes.append(f"record id: {stored.record_id} -> {new_id}")
            record_id = new_id
        if not changes:
            out.append(o)
            continue
        moved = date != stored.date
        store.update_metadata(stored.rowid, date, p.ts if moved else stored.ts, date is not None, url, record_id)
        out.append(replace(o, status="updated", record_id=record_id, notes=(*o.notes, *changes)))
    return out
