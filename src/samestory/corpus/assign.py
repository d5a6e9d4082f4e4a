"""Linking a batch's new articles and assigning each a story: embed, fingerprint, find
candidates (nearest stored neighbours and the batch's own earlier articles), judge every
candidate pair with the ``StoryLinker``, find copies, assign in time order, then settle
(an article, or a stored article it links to, moves to a story its links now favour).

Changes only the clusterer (staged: the caller commits or rolls it back) and returns the
rest as a ``Linked`` value; nothing here writes to the store or to the in-memory index.
"""
from __future__ import annotations

import time
from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from samestory.corpus.boilerplate import BoilerplateSettings, strip_boilerplate
from samestory.corpus.copies import CopyFinder, CopyGroups, CopySettings, sentence_vectors, translation_candidates
from samestory.corpus.prepare import Prepared
from samestory.corpus.state import IndexState, print_of_row, strongest
from samestory.embed import Encoder
from samestory.index.archive import cold_copies
from samestory.index.hotset import links_of, rows_of
from samestory.index.minhash import signatures
from samestory.index.rows import ArticleRow
from samestory.index.store import Store
from samestory.stories.link import Fingerprint, StoryLinker, candidate_features, fingerprint, pack_keywords
from samestory.text import opening, weight
from samestory.types import Article


@dataclass(frozen=True)
class LinkSettings:
    """How copies are found and boilerplate learned, for the whole write path."""

    copies: CopySettings = CopySettings()
    boilerplate: BoilerplateSettings = BoilerplateSettings()


#: MinHash signatures of texts (``index.minhash.signatures``, or ones computed ahead).
Signer = Callable[[list[str]], list[np.ndarray]]


@dataclass
class Linked:
    """A batch, linked and assigned: its rows, fingerprints, likely links (newer, older,
    P(same story)), the stored articles that moved story (rowid -> story), the copy
    groups merged into others (old root -> new root) and the stored articles that moved
    to another copy group (rowid -> its new root, None for a root)."""

    rows: list[ArticleRow]
    prints: list[Fingerprint]
    links: list[tuple[int, int, float]]
    moves: dict[int, int]
    copy_merges: dict[int, int] = field(default_factory=dict)
    copy_moves: dict[int, int | None] = field(default_factory=dict)


def link_and_assign(fresh: list[Prepared], state: IndexState, store: Store, encoder: Encoder,
                     linker: StoryLinker, settings: LinkSettings, sign: Signer = signatures,
                     print_of: Callable[..., Fingerprint] = fingerprint) -> Linked:
    """Embed, fingerprint and judge the batch's new articles, then assign each a story.
    Changes only the clusterer (staged; the caller commits or rolls it back)."""
    articles, line_keys = strip_boilerplate([p.article for p in fresh if p.article is not None], store.line_counts,
                                            settings.boilerplate)
    vecs = np.asarray(encoder.encode([opening(a) for a in articles]), np.float32)
    sigs = np.stack(sign([a.full_text for a in articles]))
    k = state.clusterer.settings.neighbours
    index_keys, index_sims = state.ann.search_many(vecs, k)
    inner = vecs @ vecs.T
    base = state.next_rowid
    # Each article's neighbours: stored ones and the batch's earlier ones (keys base+j).
    near: list[list[tuple[int, float]]] = []
    for i in range(len(fresh)):
        hits = [(key, s) for key, s in zip(index_keys[i].tolist(), index_sims[i].tolist()) if key in state]
        earlier = inner[i, :i]
        closest = np.argpartition(-earlier, k - 1)[:k] if i > k else range(i)
        hits += [(base + int(j), float(earlier[j])) for j in closest]
        near.append(sorted(hits, key=lambda h: -h[1])[:k])
    prints = [print_of(a.full_text, a.lang, sig, p.ts, p.dated, np.array([s for _, s in hits]))
              for p, a, sig, hits in zip(fresh, articles, sigs, near)]

    cold: dict[int, Fingerprint] = {}

    def known(key: int) -> Fingerprint:
        """A batch article's, a hot one's or (a copy's source) a cold one's fingerprint."""
        if key >= base:
            return prints[key - base]
        if key in state:
            return state.fingerprint(key)
        if key not in cold:
            cold.update({k: print_of_row(r) for k, r in rows_of(store, [key]).items()})
        return cold[key]

    features = [candidate_features(prints[i], [known(key) for key, _ in hits], [s for _, s in hits])
                for i, hits in enumerate(near)]
    probs = linker.predict_proba(np.vstack(features)) if features else np.zeros(0)
    finder = _copy_finder(articles, near, sigs, base, known, state, store, encoder, settings.copies)
    rows: list[ArticleRow] = []
    batch_story: dict[int, int] = {}
    at = 0
    keep = state.clusterer.settings.keep_link
    likely: list[tuple[int, int, float]] = []
    for i, (p, a, hits) in enumerate(zip(fresh, articles, near)):
        rowid = base + i
        dup_of, copied = finder.find(rowid, a, sigs[i], sigs[:i], base)
        mine = probs[at:at + len(hits)]
        at += len(hits)
        # A copy, an excerpt or a translation of an article tells its source's story; two
        # identical headlines may head two days' stories ("Wall Street closes lower").
        if dup_of is not None and weight(a.full_text) >= settings.copies.story_chars:
            mine = np.where([finder.groups.root(key) == dup_of for key, _ in hits], 1.0, mine)
            if all(key != dup_of for key, _ in hits):
                hits, mine = [*hits, (dup_of, 1.0)], np.append(mine, 1.0)
        story_of = {key: batch_story[key] if key >= base else state.story(key) for key, _ in hits}
        likely += [(rowid, key, round(float(pr), 4)) for (key, _), pr in zip(hits, mine) if pr >= keep]
        links = [(cast(int, story_of[key]), float(pr)) for (key, _), pr in zip(hits, mine)
                 if story_of[key] is not None and state.clusterer.is_open(cast(int, story_of[key]), p.ts)]
        merges = len(state.clusterer.merged)
        story = state.clusterer.assign(vecs[i], p.ts, a.lang, links)
        if len(state.clusterer.merged) != merges:     # a merge renames stories this batch already used
            batch_story = {key: state.clusterer.merged.get(s, s) for key, s in batch_story.items()}
        batch_story[rowid] = story
        fp = prints[i]
        rows.append(ArticleRow(rowid, p.id, a, p.ts, p.item.source, story, dup_of, copied, vecs[i], sigs[i],
                               sorted(fp.names), pack_keywords(fp.keywords), sorted(fp.numbers), fp.tokens,
                               fp.density, fp.dated, time.time(), line_keys[i], p.replaces))
    moves: dict[int, int] = {}
    if state.clusterer.settings.settle:
        moves = _settle(likely, base, vecs, batch_story, known, state, store)
    rows = [replace(r, story=batch_story[r.rowid], dup_of=dup_of, copied=copied)
            for r in rows for dup_of, copied in [_copy_of(r, finder.groups)]]
    return Linked(rows, prints, likely, moves, finder.groups.final(), finder.groups.moves(lambda key: key < base))


def _copy_finder(articles: list[Article], near: list[list[tuple[int, float]]], sigs: np.ndarray, base: int,
                 known: Callable[[int], Fingerprint], state: IndexState, store: Store, encoder: Encoder,
                 settings: CopySettings) -> CopyFinder:
    """What finding the batch's copies needs, read and encoded at once: the texts of translation
    candidates, the sentence vectors of them and of the articles that have any, and the
    archived articles each article may copy (with the roots of their copy groups)."""
    texts = {base + i: a.full_text for i, a in enumerate(articles)}
    cross = {base + i: translation_candidates(a, hits, known, settings)
             for i, (a, hits) in enumerate(zip(articles, near))}
    involved = {key for key, found in cross.items() if found} | {key for found in cross.values() for key in found}

    def read_stored(keys: list[int]) -> dict[int, str]:
        return {a.rowid: a.to_article().full_text for a in store.articles(keys)}

    texts.update(read_stored(sorted(key for key in involved if key < base)))
    vectors = sentence_vectors({key: texts.get(key, "") for key in sorted(involved)}, encoder, settings)
    archived = {base + i: hits for i, hits in enumerate(cold_copies(store, sigs, settings.duplicate_jaccard))}
    cold_keys = sorted({key for hits in archived.values() for key, _ in hits})
    cold_roots = {k: r for k, r in store.where_in("SELECT rowid, dup_of FROM articles WHERE rowid IN ({}) "
                                                  "AND dup_of IS NOT NULL", cold_keys)}
    groups = CopyGroups(ChainMap(cold_roots, state.dup_root), state.dup_members, lambda key: known(key).lang)
    hot = dict(zip(range(base, base + len(sigs)), state.dups.query_many(sigs)))
    return CopyFinder(groups, state.dups, known, texts, read_stored, cross, vectors, encoder, settings, archived, hot)


def _copy_of(row: ArticleRow, groups: CopyGroups) -> tuple[int | None, float | None]:
    """A batch row's copy group as it stands after the batch: its group may have merged into
    another, whose root its copied share was not measured against."""
    root = groups.root(row.rowid)
    if root == row.rowid:
        return None, None
    return root, row.copied if root == row.dup_of else None


def _settle(likely: list[tuple[int, int, float]], base: int, vecs: np.ndarray, batch_story: dict[int, int],
            known: Callable[[int], Fingerprint], state: IndexState, store: Store) -> dict[int, int]:
    """Weigh the batch's articles and the stored articles they link to again, with every
    link each now has, in time order; move those a better story claims. Changes the
    clusterer and ``batch_story``; returns the stored articles' moves."""
    clusterer = state.clusterer
    fresh_links: dict[int, list[tuple[int, float]]] = {}
    for a, b, p in likely:
        fresh_links.setdefault(a, []).append((b, p))
        fresh_links.setdefault(b, []).append((a, p))
    moves: dict[int, int] = {}

    def story_of(key: int) -> int | None:
        if key >= base:
            return batch_story[key]
        if key in moves:
            return moves[key]
        story = state.story(key)
        return None if story is None else clusterer.merged.get(story, story)

    todo = sorted({*batch_story, *(b for _, b, _ in likely)}, key=lambda k: (known(k).ts, k))
    stored_links = links_of(store, [key for key in todo if key < base])
    for key in todo:
        current = story_of(key)
        if current is None or current not in clusterer.stories:
            continue
        near = strongest(stored_links.get(key, []) + fresh_links.get(key, []), clusterer.settings.neighbours)
        links = [(s, p) for other, p in near if (s := story_of(other)) is not None]
        target = clusterer.best_move(current, known(key).ts, links)
        if target is None:
            continue
        vec = vecs[key - base] if key >= base else store.vector(key)
        clusterer.move(current, target, vec, known(key).lang, known(key).ts)
        if key >= base:
            batch_story[key] = target
        else:
            moves[key] = target
    return moves
