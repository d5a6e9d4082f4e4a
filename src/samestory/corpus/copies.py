"""Copies: which earlier article a new one copies, excerpts or translates.

Same language: MinHash resemblance finds the candidates and word 3-gram
containment decides, since an excerpt or a lightly edited copy shares most of its
3-grams with its source, whatever its length. Another language: a head-vector
neighbour is a translation when the two articles' opening sentences match one by
one. Another outlet's report of the same story in that language says the same
things, but in other sentences. Its head cosine is as high as a translation's
(AUC 0.96 between the two on ``dup_dev``), while its sentence alignment is not
(AUC 0.99).

Copies form groups around their earliest article, and every member points at
the group's root. An article that belongs to two groups merges them: an original
that arrives after its translation and its excerpt joins both.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from samestory.embed import Encoder
from samestory.index.aliases import follow
from samestory.index.minhash import DuplicateIndex
from samestory.signals.alignment import mutual_coverage, similarity
from samestory.signals.lexical import containment, copied_share, shingles
from samestory.stories.link import Fingerprint
from samestory.text import same_language, sentences
from samestory.types import Article


@dataclass(frozen=True)
class CopySettings:
    """When a stored article and a new one are copies, excerpts or translations of each other.

    Same language: a MinHash resemblance of at least ``duplicate_jaccard`` makes a candidate
    (at most ``max_candidates``), and word 3-gram containment of at least ``copy_containment``,
    either way, makes it a copy. Where each text names at least ``template_names`` names the
    other does not (a template filled in for other people or companies), it takes
    ``template_containment``. Across languages: a neighbour with head cosine of at least
    ``translation_cosine`` whose first ``alignment_sentences`` sentences and this article's
    cover each other at ``translation_alignment`` or more (the mean of each sentence's best
    match, in the weaker direction) is a translation; one that joined the wrong group moves
    to its own source when that aligns better by ``rehome_margin``. A copy of at least
    ``story_chars`` characters (CJK counting three) joins its source's story.

    How each value was chosen, with its figures: training/LOG.md.
    """

    duplicate_jaccard: float = 0.2
    copy_containment: float = 0.55
    max_candidates: int = 20
    template_names: int = 5
    template_containment: float = 0.8
    translation_cosine: float = 0.88
    translation_alignment: float = 0.895
    alignment_sentences: int = 12
    rehome_margin: float = 0.02
    story_chars: int = 200


@dataclass
class CopyGroups:
    """The copy groups as one batch sees them: the stored roots and their members, the
    batch's own articles and the groups merged in this batch (old root -> the root it
    joined). Nothing is written here: the batch hands ``merged`` to the store, and to memory
    after the store commits."""

    stored: Mapping[int, int]
    stored_members: dict[int, set[int]]
    lang_of: Callable[[int], str]
    batch: dict[int, int] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)
    moved: set[int] = field(default_factory=set)

    def root(self, key: int) -> int:
        """The root of ``key``'s copy group as it stands after the batch (``key`` for a root)."""
        return follow(self.batch.get(key) or self.stored.get(key) or key, self.merged.get)

    def members(self, root: int) -> set[int]:
        """A group's members, its root included."""
        roots = [root, *(old for old in self.merged if self.root(old) == root)]
        found = {m for r in roots for m in (r, *self.stored_members.get(r, ()))}
        found |= set(self.batch)
        return {key for key in found if self.root(key) == root}

    def languages(self, root: int) -> set[str]:
        """The languages of a group's members, its root's included."""
        return {self.lang_of(key) for key in self.members(root)}

    def move_out(self, key: int) -> None:
        """``key`` leaves its group (it is not the root) and is the root of its own, for now."""
        self.batch[key] = key
        self.moved.add(key)

    def join(self, rowid: int, roots: set[int], order: Callable[[int], tuple[float, int]]) -> int:
        """Put ``rowid`` in the group of the earliest of ``roots``; the other groups merge into it."""
        root = min(roots, key=order)
        for other in roots - {root}:
            self.merged[other] = root
        self.batch[rowid] = root
        return root

    def final(self) -> dict[int, int]:
        """Every merged root -> the root its group has now."""
        return {old: self.root(old) for old in self.merged}

    def moves(self, stored: Callable[[int], bool]) -> dict[int, int | None]:
        """Every stored article that left its group -> the root of the group it is in now
        (None: it is a root itself)."""
        return {key: None if self.root(key) == key else self.root(key) for key in self.moved if stored(key)}


def sentence_vectors(texts: dict[int, str], encoder: Encoder, settings: CopySettings) -> dict[int, np.ndarray]:
    """The first sentences of each text, encoded in one call (rowid -> one row per sentence)."""
    split = {key: sentences(text)[:settings.alignment_sentences] for key, text in texts.items()}
    flat = [s for parts in split.values() for s in parts]
    vecs = np.asarray(encoder.encode(flat), np.float32) if flat else np.zeros((0, 1), np.float32)
    out, at = {}, 0
    for key, parts in split.items():
        out[key] = vecs[at:at + len(parts)]
        at += len(parts)
    return out


def translation_candidates(article: Article, hits: list[tuple[int, float]], known: Callable[[int], Fingerprint],
                           settings: CopySettings) -> list[int]:
    """Neighbours in another (known) language close enough to be read sentence by sentence."""
    if article.lang == "und":
        return []
    return [key for key, cosine in hits
            if cosine >= settings.translation_cosine and known(key).lang not in (article.lang, "und")]


@dataclass
class CopyFinder:
    """Finds each new article's copy group in a batch. ``texts`` holds the batch's texts (and
    caches stored ones, read in one query per article with ``read_stored``); ``cross`` holds
    each batch article's translation candidates, and ``sentences_of`` the sentence vectors of
    those articles and their candidates."""

    groups: CopyGroups
    dups: DuplicateIndex
    known: Callable[[int], Fingerprint]
    texts: dict[int, str]
    read_stored: Callable[[list[int]], dict[int, str]]
    cross: dict[int, list[int]]
    sentences_of: dict[int, np.ndarray]
    encoder: Encoder
    settings: CopySettings
    archived: dict[int, list[tuple[int, float]]] = field(default_factory=dict)   # rowid -> cold copy candidates
    stored_hits: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # rowid -> hot LSH candidates

    def find(self, rowid: int, article: Article, sig: np.ndarray, earlier: np.ndarray,
             first: int) -> tuple[int | None, float | None]:
        """The root of this article's copy group (None: it copies nothing known), and the share
        of this article found in the root's text when both are in one language. ``earlier``:
        the signatures of the batch's earlier articles, rowids from ``first`` on."""
        roots = {self.groups.root(key) for key in self._copies(rowid, article, sig, earlier, first)}
        roots |= self._translated_groups(rowid, article, roots)
        if not roots:
            return None, None
        root = self.groups.join(rowid, roots, lambda k: (self.known(k).ts, k))
        if not same_language(self.known(root).lang, article.lang):
            return root, None
        return root, round(copied_share(article.full_text, self._text([root])[root])[0], 4)

    def _text(self, keys: list[int]) -> dict[int, str]:
        missing = [key for key in keys if key not in self.texts]
        if missing:
            self.texts.update(self.read_stored(missing))
        return {key: self.texts.get(key, "") for key in keys}

    def _copies(self, rowid: int, article: Article, sig: np.ndarray, earlier: np.ndarray, first: int) -> list[int]:
        stored = self.stored_hits[rowid] if rowid in self.stored_hits else self.dups.query(sig)
        scored = stored + self.archived.get(rowid, [])
        if len(earlier):    # the batch's earlier articles, in one comparison
            agreement = (earlier == sig).mean(axis=1)
            scored += [(first + int(j), float(agreement[j]))
                       for j in np.flatnonzero(agreement >= self.settings.duplicate_jaccard)]
        # the most resembling few are considered: the cost per article stays bounded however many pass the LSH
        candidates = sorted(scored, key=lambda h: -h[1])[:self.settings.max_candidates]
        names = self.known(rowid).names
        need = {int(key): self.settings.template_containment if self._other_names(names, int(key))
                else self.settings.copy_containment for key, _ in candidates}
        # Resemblance (Jaccard) >= c implies containment >= c both ways: only the rest is read.
        to_read = self._text([int(key) for key, r in candidates if r < need[int(key)]])
        mine: set[int] | None = None
        copies = []
        for key, resemblance in candidates:
            if resemblance < need[int(key)]:
                mine = shingles(article.full_text, 3) if mine is None else mine
                theirs = shingles(to_read[int(key)], 3)
                if max(containment(mine, theirs), containment(theirs, mine)) < need[int(key)]:
                    continue
            copies.append(int(key))
        return copies

    def _other_names(self, names: frozenset[int], key: int) -> bool:
        """Each text names at least ``template_names`` names the other does not."""
        theirs = self.known(key).names
        return min(len(names - theirs), len(theirs - names)) >= self.settings.template_names

    def _translated_groups(self, rowid: int, article: Article, copied: set[int]) -> set[int]:
        """The groups this article translates into. A translation has one source per language:
        of the aligned candidates in one language only the best counts. And a group that has
        this article's language already holds the text it would be translated from: the
        article belongs there only as a copy of that text (a close rewrite of a story aligns
        with the story's translations as well as the original does)."""
        mine = self.sentences_of.get(rowid)
        if mine is None or not len(mine):
            return set()
        best: dict[str, tuple[float, int]] = {}
        for key in self.cross.get(rowid, []):
            theirs = self.sentences_of.get(key, np.zeros((0, 1)))
            coverage = mutual_coverage(similarity(mine, theirs)) if len(theirs) else 0.0
            lang = self.known(key).lang
            if coverage >= self.settings.translation_alignment and coverage > best.get(lang, (0.0, 0))[0]:
                best[lang] = (coverage, key)
        roots = set()
        for coverage, key in best.values():
            root = self.groups.root(key)
            if root in copied or article.lang not in self.groups.languages(root):
                roots.add(root)
            elif self._closer_to_me(key, root, coverage, article.lang):
                self.groups.move_out(key)
                roots.add(key)
        return roots

    def _closer_to_me(self, key: int, root: int, coverage: float, lang: str) -> bool:
        """``key`` (no group's root, and its group's only member in its language) aligns with
        this article by ``rehome_margin`` more than with every text in ``lang`` that its group
        holds: it translates this article, and joined that group only because it came first."""
        members = self.groups.members(root)
        mine = self.groups.lang_of(key)
        if key == root or key in self.groups.merged or self.groups.stored_members.get(key) \
                or any(self.groups.lang_of(m) == mine for m in members - {key}):
            return False
        rivals = [m for m in members if self.groups.lang_of(m) == lang]
        missing = self._text([m for m in rivals if m not in self.sentences_of])
        self.sentences_of.update(sentence_vectors(missing, self.encoder, self.settings))
        theirs = self.sentences_of[key]
        held = max((mutual_coverage(similarity(theirs, self.sentences_of[m])) for m in rivals), default=0.0)
        return coverage >= held + self.settings.rehome_margin
