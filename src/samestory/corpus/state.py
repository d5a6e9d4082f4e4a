"""The in-memory mirror of a store's hot set: what linking a new article needs at hand.

It is loaded from the store, and changed only by ``apply`` with a batch that the store has
already committed (and by ``forget`` with articles the store has archived or removed), so
memory never runs ahead of the file. A long-lived process compares ``version`` with the
store's ``data_version`` and reloads when another process has written.

Only the hot window is held: the stories still open, and their articles, until a story's
latest article is older than ``hot_days`` before the clock (the newest dated article); then
``evict`` names the story's articles for the cold archive (``index.archive``), and an article
older than twice ``hot_days`` goes even if its story runs on. Everything is packed: vectors
in half precision (usearch), signatures and LSH bands in NumPy arrays (``DuplicateIndex``),
fingerprints as bytes (``PackedPrints``); the story sums and the links that settling reads
stay in the store.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from samestory.index.aliases import follow
from samestory.index.ann import VectorIndex
from samestory.index.hotset import clock, hot_rows
from samestory.index.minhash import DuplicateIndex
from samestory.index.rowmap import RowMap
from samestory.index.rows import BatchDelta, LinkRow, StoryRow
from samestory.index.store import Store
from samestory.stories.cluster import StoryClusterer, StorySettings, StoryState
from samestory.stories.link import DEFAULT_DENSITY, Fingerprint, keywords, name_keys, number_keys, unpack_keywords
from samestory.stories.prints import PackedPrints


def ann_path(store: Store) -> str:
    return f"{store.path}.usearch"


def open_ann(store: Store, dim: int) -> VectorIndex:
    """The store's hot ANN index: its checkpoint file caught up, or rebuilt (``VectorIndex.open``)."""
    return VectorIndex.open(ann_path(store), store.vector_dim() or dim, store)


def strongest(links: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
    """The ``k`` strongest (other article, P) links, ties to the lower rowid: the same set
    whatever order the links came in."""
    return sorted(links, key=lambda link: (-link[1], link[0]))[:k]


def print_of_row(r: LinkRow) -> Fingerprint:
    """A stored article's fingerprint, from its row (derived from its text for rows stored before
    fingerprints were)."""
    text = r.text or ""
    return Fingerprint(
        signature=r.minhash, names=frozenset(r.names.tolist()) if r.names is not None else name_keys(text),
        keywords=unpack_keywords(r.keywords) if r.keywords is not None else keywords(text, r.lang),
        numbers=frozenset(r.numbers.tolist()) if r.numbers is not None else number_keys(text),
        tokens=r.tokens if r.tokens is not None else len(text.split()), lang=r.lang, ts=r.ts,
        dated=r.dated if r.dated is not None else True,
        density=r.density if r.density is not None else DEFAULT_DENSITY)


def story_state(s: StoryRow) -> StoryState:
    return StoryState(None, s.n, s.first, s.last, Counter(s.langs))


@dataclass
class IndexState:
    ann: VectorIndex
    dups: DuplicateIndex
    clusterer: StoryClusterer
    hot_seconds: float = math.inf
    prints: PackedPrints = field(default_factory=PackedPrints)
    story_of: RowMap = field(default_factory=RowMap)          # hot rowid -> its story (as stored)
    dup_root: dict[int, int] = field(default_factory=dict)
    dup_members: dict[int, set[int]] = field(default_factory=dict)   # copy group root -> its members
    alias: dict[int, int] = field(default_factory=dict)
    next_rowid: int = 1
    version: int = 0
    clock: float = -math.inf      # the newest dated article's time (see the module docstring)
    any_dated: bool = False

    @classmethod
    def load(cls, store: Store, dim: int, settings: StorySettings, duplicate_jaccard: float,
             hot_days: float = math.inf) -> IndexState:
        with store.snapshot():
            return cls._load(store, dim, settings, duplicate_jaccard, hot_days)

    @classmethod
    def _load(cls, store: Store, dim: int, settings: StorySettings, duplicate_jaccard: float,
              hot_days: float) -> IndexState:
        version = store.data_version()
        now, dated = clock(store)
        hot_seconds = hot_days * 86400.0
        horizon = -math.inf if now is None else now - hot_seconds
        stories = {s.id: story_state(s) for s in store.live_stories() if s.last >= horizon}
        state = cls(ann=open_ann(store, dim), dups=DuplicateIndex(duplicate_jaccard),
                    clusterer=StoryClusterer(settings, stories, store.max_story_id() + 1), hot_seconds=hot_seconds,
                    alias=store.story_aliases(), version=version, clock=-math.inf if now is None else now, any_dated=dated)
        keys: list[int] = []
        sigs: list[np.ndarray] = []
        for r in hot_rows(store):
            state.prints.add(r.rowid, print_of_row(r))
            if r.story is not None:
                state.story_of[r.rowid] = r.story
            if r.dup_of is not None:
                state._join_copy(r.rowid, r.dup_of)
            keys.append(r.rowid)
            sigs.append(r.minhash)
            if len(keys) == 4096:
                state.dups.add_many(keys, np.stack(sigs))
                keys, sigs = [], []
        if keys:
            state.dups.add_many(keys, np.stack(sigs))
        row = store.db.execute("SELECT MAX(rowid) FROM articles").fetchone()
        state.next_rowid = (row[0] or 0) + 1
        return state

    def fingerprint(self, rowid: int) -> Fingerprint:
        """A hot article's fingerprint. Raises KeyError for another rowid."""
        return self.prints.get(rowid, self.dups.signature(rowid))

    def __contains__(self, rowid: object) -> bool:
        return rowid in self.prints

    def _join_copy(self, rowid: int, root: int) -> None:
        self.dup_root[rowid] = root
        self.dup_members.setdefault(root, set()).add(rowid)

    def _leave_copy(self, rowid: int) -> None:
        old = self.dup_root.pop(rowid, None)
        if old is not None and old in self.dup_members:
            self.dup_members[old].discard(rowid)
            if not self.dup_members[old]:
                del self.dup_members[old]

    @property
    def dup_langs(self) -> dict[int, set[str]]:
        """Copy group root -> its hot members' languages."""
        return {root: {self.prints.lang(m) for m in members if m in self.prints}
                for root, members in self.dup_members.items()}

    def live_story(self, sid: int | None) -> int | None:
        """The story a (maybe merged) story id now lives on as."""
        return None if sid is None else follow(sid, self.alias.get)

    def story(self, rowid: int) -> int | None:
        """The live story of a hot article (None for a cold one)."""
        return self.live_story(self.story_of.get(rowid))

    def apply(self, delta: BatchDelta[Fingerprint]) -> None:
        """Take in a batch the store has committed (the same ``BatchDelta`` it wrote)."""
        self.story_of.update({k: s for k, s in delta.moves.items() if k in self.prints})
        for member, root in delta.copy_moves.items():     # it translates a later article better
            self._leave_copy(member)
            if root is not None:
                self._join_copy(member, root)
        for row, fp in zip(delta.rows, delta.prints, strict=True):
            self.prints.add(row.rowid, fp)
            self.story_of[row.rowid] = row.story
            if row.dup_of is not None:
                self._join_copy(row.rowid, row.dup_of)
            self.next_rowid = max(self.next_rowid, row.rowid + 1)
            if fp.dated or not self.any_dated:
                if fp.dated and not self.any_dated:
                    self.clock, self.any_dated = -math.inf, True     # dated news sets the clock from now on
                self.clock = max(self.clock, fp.ts)
        for old, new in delta.copy_merges.items():      # an article joined two copy groups
            for member in self.dup_members.pop(old, set()):
                self._join_copy(member, new)
            self._join_copy(old, new)
        if delta.rows:
            self.dups.add_many([r.rowid for r in delta.rows], np.stack([r.minhash for r in delta.rows]))
            self.ann.add(np.array([r.rowid for r in delta.rows]), np.stack([r.vec for r in delta.rows]))
        self.alias.update(delta.merged)

    def evict(self) -> list[int]:
        """The hot articles to archive now: those older than the hot window whose story closed
        before it (or that have no story), and any older than twice the window. The stories
        that closed leave the clusterer here; the articles stay until ``forget``."""
        horizon = self.clock - self.hot_seconds
        if not math.isfinite(horizon):
            return []
        closed = {sid for sid, st in self.clusterer.stories.items() if st.last < horizon}
        for sid in closed:
            del self.clusterer.stories[sid]
        out = []
        for rowid in self.prints:
            ts = self.prints.ts(rowid)
            if ts >= horizon:
                continue
            story = self.story(rowid)
            if story is None or story not in self.clusterer.stories or ts < horizon - self.hot_seconds:
                out.append(rowid)
        return out

    def forget(self, rowids: list[int], stories: Sequence[StoryRow] = (), removed_stories: Sequence[int] = (),
               new_roots: dict[int, int | None] | None = None) -> None:
        """Drop articles the store has archived or removed (with, for a removal, the stories it
        changed or emptied and the copy groups' new roots)."""
        gone = set(rowids)
        self.ann.remove(rowids)
        self.dups.remove(rowids)
        for rowid in rowids:
            self.prints.remove(rowid)
            self.story_of.pop(rowid, None)
            self._leave_copy(rowid)
        for root in gone & set(self.dup_members):
            if new_roots is not None:       # a removed root: its members moved (new_roots) below
                del self.dup_members[root]
        for member, new_root in (new_roots or {}).items():
            self._leave_copy(member)
            if new_root is not None and member in self.prints:
                self._join_copy(member, new_root)
        for s in stories:
            if s.id in self.clusterer.stories:
                self.clusterer.stories[s.id] = story_state(s)
        for sid in removed_stories:
            self.clusterer.stories.pop(sid, None)
