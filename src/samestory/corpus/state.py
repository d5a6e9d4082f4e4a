"""The in-memory mirror of a store: what linking a new article needs at hand.

It is loaded from the store, and changed only by ``apply`` with a batch that the
store has already committed, so memory never runs ahead of the file. A
long-lived process compares ``version`` with the store's ``data_version`` and
reloads when another process has written.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from samestory.index.aliases import follow
from samestory.index.ann import VectorIndex
from samestory.index.minhash import DuplicateIndex
from samestory.index.rows import BatchDelta
from samestory.index.store import Store
from samestory.stories.cluster import StoryClusterer, StorySettings, StoryState
from samestory.stories.link import DEFAULT_DENSITY, Fingerprint, keywords, name_keys, number_keys, unpack_keywords


def ann_path(store: Store) -> str:
    return f"{store.path}.usearch"


def open_ann(store: Store, dim: int) -> VectorIndex:
    """The store's ANN index: its checkpoint file caught up, or rebuilt (``VectorIndex.open``)."""
    return VectorIndex.open(ann_path(store), store.vector_dim() or dim, store)


def strongest(links: Iterable[tuple[int, float]], k: int) -> list[tuple[int, float]]:
    """The ``k`` strongest (other article, P) links, ties to the lower rowid: the same set
    whatever order the links came in."""
    return sorted(links, key=lambda link: (-link[1], link[0]))[:k]


@dataclass
class IndexState:
    ann: VectorIndex
    dups: DuplicateIndex
    clusterer: StoryClusterer
    fingerprints: dict[int, Fingerprint] = field(default_factory=dict)
    story_of: dict[int, int] = field(default_factory=dict)
    dup_root: dict[int, int] = field(default_factory=dict)
    dup_members: dict[int, set[int]] = field(default_factory=dict)   # copy group root -> its members
    alias: dict[int, int] = field(default_factory=dict)
    links: dict[int, list[tuple[int, float]]] = field(default_factory=dict)   # both directions
    next_rowid: int = 1
    version: int = 0

    @classmethod
    def load(cls, store: Store, dim: int, settings: StorySettings, duplicate_jaccard: float) -> IndexState:
        with store.snapshot():
            return cls._load(store, dim, settings, duplicate_jaccard)

    @classmethod
    def _load(cls, store: Store, dim: int, settings: StorySettings, duplicate_jaccard: float) -> IndexState:
        version = store.data_version()
        stories = {s.id: StoryState(s.vsum, s.n, s.first, s.last, Counter(s.langs)) for s in store.live_stories()}
        state = cls(ann=open_ann(store, dim), dups=DuplicateIndex(duplicate_jaccard),
                    clusterer=StoryClusterer(settings, stories, store.max_story_id() + 1),
                    alias=store.story_aliases(), version=version)
        for r in store.link_rows():
            text = r.text or ""        # only for rows stored before fingerprints were
            state.fingerprints[r.rowid] = Fingerprint(
                signature=r.minhash, names=frozenset(r.names.tolist()) if r.names is not None else name_keys(text),
                keywords=unpack_keywords(r.keywords) if r.keywords is not None else keywords(text, r.lang),
                numbers=frozenset(r.numbers.tolist()) if r.numbers is not None else number_keys(text),
                tokens=r.tokens if r.tokens is not None else len(text.split()), lang=r.lang, ts=r.ts,
                dated=r.dated if r.dated is not None else True,
                density=r.density if r.density is not None else DEFAULT_DENSITY)
            if r.story is not None:
                state.story_of[r.rowid] = r.story
            if r.dup_of is not None:
                state._join_copy(r.rowid, r.dup_of)
            state.dups.add(r.rowid, r.minhash)
            state.next_rowid = max(state.next_rowid, r.rowid + 1)
        state.add_links(store.links())
        return state

    def add_links(self, links: Iterable[tuple[int, int, float]]) -> None:
        """Each article keeps its ``clusterer.settings.neighbours`` strongest links (ties: lower
        rowid), whatever order they came in: an article that every later copy links to would
        otherwise make settling, and memory, grow with the corpus."""
        keep = self.clusterer.settings.neighbours
        for a, b, p in links:
            for x, y in ((a, b), (b, a)):
                mine = self.links.setdefault(x, [])
                mine.append((y, p))
                if len(mine) > 2 * keep:
                    mine[:] = strongest(mine, keep)

    def _join_copy(self, rowid: int, root: int) -> None:
        self.dup_root[rowid] = root
        self.dup_members.setdefault(root, set()).add(rowid)

    @property
    def dup_langs(self) -> dict[int, set[str]]:
        """Copy group root -> its members' languages."""
        return {root: {self.fingerprints[m].lang for m in members} for root, members in self.dup_members.items()}

    def live_story(self, sid: int | None) -> int | None:
        """The story a (maybe merged) story id now lives on as."""
        return None if sid is None else follow(sid, self.alias.get)

    def story(self, rowid: int) -> int | None:
        """The live story of a stored article."""
        return self.live_story(self.story_of.get(rowid))

    def apply(self, delta: BatchDelta[Fingerprint]) -> None:
        """Take in a batch the store has committed (the same ``BatchDelta`` it wrote)."""
        self.story_of.update(delta.moves)
        self.add_links(delta.links)
        for member, root in delta.copy_moves.items():     # it translates a later article better
            old = self.dup_root.pop(member, None)
            if old is not None:
                self.dup_members[old].discard(member)
                if not self.dup_members[old]:
                    del self.dup_members[old]
            if root is not None:
                self._join_copy(member, root)
        for row, fp in zip(delta.rows, delta.prints, strict=True):
            self.fingerprints[row.rowid] = fp
            self.story_of[row.rowid] = row.story
            if row.dup_of is not None:
                self._join_copy(row.rowid, row.dup_of)
            self.dups.add(row.rowid, row.minhash)
            self.next_rowid = max(self.next_rowid, row.rowid + 1)
        for old, new in delta.copy_merges.items():      # an article joined two copy groups
            for member in self.dup_members.pop(old, set()):
                self._join_copy(member, new)
            self._join_copy(old, new)
        if delta.rows:
            self.ann.add(np.array([r.rowid for r in delta.rows]), np.stack([r.vec for r in delta.rows]))
        self.alias.update(delta.merged)
