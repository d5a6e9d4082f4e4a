"""Incremental story clustering: average linkage over same-story probabilities.

Each new article arrives with its candidate neighbours (ANN and LSH) and, for
each, the ``StoryLinker``'s probability that the two report the same story. A
candidate story's score is the mean of its best ``top_links`` probabilities,
counting a story's missing members as zero (``sum / min(size, top_links)``):
average linkage for a small story, and for a large one the agreement of its
closest members, so a story of 80 headlines is not diluted by the 75 that
happen not to be among the article's neighbours. The article joins the best
story that reaches ``link_threshold``, or opens a new one.

Time follows the story as it runs: a story stays open while it keeps receiving
articles (``window_hours`` counted from its *latest* article), and within the
window time is evidence the linker weighs (``days_apart``), not a cliff.

Later articles are evidence about earlier ones. Each batch ends by settling: the
batch's articles, and the articles they link to, are weighed again against every
story their links reach, in both directions (an early article of a story had
nothing to join when it arrived), and move where they now score best. An article
moves only to a story that reaches ``link_threshold`` and beats its own story
(scored without itself); a story whose last member leaves is recorded as merged
into where that member went. Links of probability ``keep_link`` or more are what
the settling reads; the store keeps them.

With ``merge_threshold`` set, an article that reaches it with two stories
bridges them and they merge (the larger keeps its id); off by default (it chains
unrelated stories through one ambiguous article). Story ids never change
otherwise, and nothing is re-clustered from scratch. How each setting was chosen,
with its figures: training/LOG.md.

Changes are staged: ``rollback`` restores every story touched since the last
``commit``, so a batch that fails to reach the store leaves nothing behind.
"""
from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class StorySettings:
    window_hours: float = 72.0
    link_threshold: float = 0.55
    merge_threshold: float | None = None
    top_links: int = 5
    neighbours: int = 30
    settle: bool = True
    keep_link: float = 0.3

    @property
    def window(self) -> float:
        return self.window_hours * 3600.0


@dataclass(slots=True)
class StoryState:
    """A live story as linking sees it. ``vsum`` is what the batch changed in the sum of the
    members' vectors (None: nothing yet; the store keeps the sum, which labels the story by its
    most central member), and ``absorbed`` the stories merged into it in this batch, whose
    stored sums join its own when the batch is written: the writer holds no sum per story."""

    vsum: np.ndarray | None
    n: int
    first: float
    last: float
    langs: Counter[str] = field(default_factory=Counter)     # members per language
    absorbed: list[int] = field(default_factory=list)


def _plus(vsum: np.ndarray | None, vec: np.ndarray | None) -> np.ndarray | None:
    """``vsum + vec`` in single precision, either maybe None (no change)."""
    if vec is None:
        return vsum
    out: np.ndarray = np.asarray(vec, np.float32) if vsum is None else vsum + np.asarray(vec, np.float32)
    return out


class StoryClusterer:
    """Holds the live stories; ``assign`` changes them, ``commit``/``rollback`` end a batch."""

    def __init__(self, settings: StorySettings = StorySettings(), stories: dict[int, StoryState] | None = None,
                 next_id: int = 1):
        self.settings = settings
        self.stories: dict[int, StoryState] = stories or {}
        self.next_id = max([next_id, *[s + 1 for s in self.stories]])
        self.touched: set[int] = set()
        self.merged: dict[int, int] = {}
        self._backup: dict[int, StoryState | None] = {}
        self._next_id_at_commit = self.next_id

    def is_open(self, story: int, ts: float) -> bool:
        st = self.stories.get(story)
        return st is not None and ts - st.last <= self.settings.window

    def scores(self, links: Iterable[tuple[int, float]]) -> dict[int, float]:
        """Story -> linkage, from (story of a neighbour, P(same story)) pairs."""
        per: dict[int, list[float]] = {}
        for story, p in links:
            per.setdefault(story, []).append(p)
        return {s: self._linkage(ps, self.stories[s].n) for s, ps in per.items()}

    def _linkage(self, probs: list[float], size: int) -> float:
        """Mean of the best ``top_links`` probabilities, a story's missing members counting 0."""
        m = self.settings.top_links
        return sum(sorted(probs)[-m:]) / min(size, m) if size > 0 else 0.0

    def assign(self, vec: np.ndarray, ts: float, lang: str, links: Iterable[tuple[int, float]]) -> int:
        """The story this article joins (maybe a new one); ``links`` name open stories only."""
        scores = self.scores(links)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if ranked and ranked[0][1] >= self.settings.link_threshold:
            best = ranked[0][0]
            merge_at = self.settings.merge_threshold
            bridged = [s for s, sc in ranked[1:] if merge_at is not None and sc >= merge_at]
        else:
            best, bridged = self.next_id, []
            self.next_id += 1
            self._touch(best)
            self.stories[best] = StoryState(None, 0, ts, ts)
        for other in bridged:
            best = self._merge(best, other)
        self._touch(best)
        st = self.stories[best]
        st.vsum = _plus(st.vsum, vec)
        st.n += 1
        st.first, st.last = min(st.first, ts), max(st.last, ts)
        st.langs[lang] += 1
        return best

    def best_move(self, current: int, ts: float, links: Iterable[tuple[int, float]]) -> int | None:
        """The story an article of ``current`` should move to, given all its links
        (story of the other article, P(same story)), or None to stay."""
        per: dict[int, list[float]] = {}
        for story, p in links:
            if story == current or self.is_open(story, ts):
                per.setdefault(story, []).append(p)

        def score(story: int) -> float:
            return self._linkage(per[story], self.stories[story].n - (story == current))

        scored = sorted(((score(s), -s) for s in per if s != current), reverse=True)
        if not scored or scored[0][0] < self.settings.link_threshold:
            return None
        stay = score(current) if current in per else 0.0
        return -scored[0][1] if scored[0][0] > stay else None

    def move(self, old: int, new: int, vec: np.ndarray, lang: str, ts: float) -> None:
        """One article leaves ``old`` for ``new``; an emptied story counts as merged into ``new``."""
        self._touch(old)
        self._touch(new)
        src, dst = self.stories[old], self.stories[new]
        src.vsum, src.n = _plus(src.vsum, -np.asarray(vec, np.float32)), src.n - 1
        src.langs[lang] -= 1
        src.langs = +src.langs
        dst.vsum, dst.n = _plus(dst.vsum, vec), dst.n + 1
        dst.langs[lang] += 1
        dst.first, dst.last = min(dst.first, ts), max(dst.last, ts)
        if src.n <= 0:
            del self.stories[old]
            self.merged[old] = new
            for before, after in self.merged.items():
                if after == old:
                    self.merged[before] = new

    def _touch(self, story: int) -> None:
        if story not in self._backup:
            self._backup[story] = copy.deepcopy(self.stories.get(story))
        self.touched.add(story)

    def _merge(self, a: int, b: int) -> int:
        """Merge two stories; the larger (then the older) keeps its id. Returns it."""
        keep, drop = (a, b) if (self.stories[a].n, -a) >= (self.stories[b].n, -b) else (b, a)
        self._touch(keep)
        self._touch(drop)
        k, d = self.stories[keep], self.stories.pop(drop)
        k.vsum, k.n = _plus(k.vsum, d.vsum), k.n + d.n
        k.absorbed = [*k.absorbed, drop, *d.absorbed]
        k.first, k.last, k.langs = min(k.first, d.first), max(k.last, d.last), k.langs + d.langs
        self.merged[drop] = keep
        for old, new in self.merged.items():
            if new == drop:
                self.merged[old] = keep
        return keep

    def commit(self) -> None:
        for story in self.touched:      # the store now holds the sums
            if story in self.stories:
                self.stories[story].vsum, self.stories[story].absorbed = None, []
        self._backup.clear()
        self.touched.clear()
        self.merged.clear()
        self._next_id_at_commit = self.next_id

    def rollback(self) -> None:
        for story, state in self._backup.items():
            if state is None:
                self.stories.pop(story, None)
            else:
                self.stories[story] = state
        self.next_id = self._next_id_at_commit
        self._backup.clear()
        self.touched.clear()
        self.merged.clear()
