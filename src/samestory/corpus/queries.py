"""The read path: what else covers this story, the stories, the copies.

Reads only committed data (the store, and an ANN index that matches it), so a
reader never sees half a batch.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from samestory.index.archive import Layered
from samestory.index.rows import StoredArticle
from samestory.index.store import Store
from samestory.ingest.validate import safe_iso
from samestory.signals.lexical import copied_share
from samestory.text import same_language, sentences
from samestory.text.units import cut
from samestory.types import Article, SimilarArticle, Story, StoryMember

if TYPE_CHECKING:
    from samestory.pipeline import Comparer

LABEL_CHARS = 160
#: A "translation" that shares this much of its word 3-grams with its source is a copy
#: whose language was mistaken.
TRANSLATION_MAX_COPIED = 0.3


def label_of(article: StoredArticle) -> str:
    """An article's label: its headline, or else its first sentence, cut at a word boundary
    to ``LABEL_CHARS`` (a text run together by a scraper has no first sentence shorter)."""
    if article.title.strip():
        return " ".join(article.title.split())
    first = next(iter(sentences(article.text)), "") or " ".join(article.text.split())
    first = " ".join(first.split())
    return first if len(first) <= LABEL_CHARS else cut(first, LABEL_CHARS - 1) + "…"


def central_member(members: list[tuple[StoredArticle, np.ndarray]], vsum: np.ndarray) -> StoredArticle:
    """The story's most central article in its most common language (so a story's label is in
    the language most of its reports are, not a translation's)."""
    langs = Counter(a.lang for a, _ in members)
    main = max(langs, key=lambda lang: (langs[lang], lang != "und"))
    return max((m for m in members if m[0].lang == main), key=lambda m: float(m[1] @ vsum))[0]


def similar(store: Store, ann: Layered, article: Article, vec: np.ndarray, exclude: set[int], k: int,
            comparer: Comparer | None) -> list[SimilarArticle]:
    """The stored articles nearest to ``vec``; re-scored with the pair scorer when a comparer is given."""
    keys, sims = ann.search(vec, k + len(exclude) + 10)     # some keys may have been deleted since
    hits = [(key, s) for key, s in zip(keys.tolist(), sims.tolist()) if key not in exclude][:k]
    found = {a.rowid: a for a in store.articles([h[0] for h in hits])}
    hits = [h for h in hits if h[0] in found]
    scores = {}
    if comparer is not None and hits:
        signals = comparer.analyse([article, *[found[key].to_article() for key, _ in hits]])
        for (key, _), score in zip(hits, comparer.score_signals([(signals[0], s) for s in signals[1:]])):
            scores[key] = score
    also = store.other_record_ids(list(found.values()))
    results = []
    for key, s in hits:
        a, sc = found[key], scores.get(key)
        results.append(SimilarArticle(id=a.id, title=label_of(a), story=store.resolve_story(a.story) if a.story else None,
                                      similarity=round(float(s), 4), date=a.date, lang=a.lang,
                                      overall=sc.overall if sc else None, same_story=sc.same_story if sc else None,
                                      record_id=a.record_id, also_record_ids=also.get(a.id, [])))
    if scores:
        results.sort(key=lambda r: r.overall if r.overall is not None else 9.0)
    return results


def latest_versions(found: list[tuple[StoredArticle, np.ndarray]]) -> tuple[list[tuple[StoredArticle, int]],
                                                                             dict[int, str]]:
    """A story's entries: one per URL, its latest version (the last stored) with how many versions
    of that URL ``found`` holds, in ``found``'s order; an article without a URL is its own entry.
    Also each member's entry: rowid -> the id of its URL's latest version."""
    groups: dict[tuple[str, str], list[StoredArticle]] = {}
    for a, _ in found:
        groups.setdefault(("url", a.url) if a.url else ("row", str(a.rowid)), []).append(a)
    latest: dict[int, int] = {}
    listed_as: dict[int, str] = {}
    for group in groups.values():
        last = max(group, key=lambda a: a.rowid)
        latest[last.rowid] = len(group)
        listed_as.update((a.rowid, last.id) for a in group)
    return [(a, latest[a.rowid]) for a, _ in found if a.rowid in latest], listed_as


def stories(store: Store, since: float | None = None, members: bool = False, limit: int | None = None,
            story_id: int | None = None) -> list[Story]:
    """Live stories, latest first, with their members when ``members``.

    A story keeps one entry per URL: a page whose text changed (an update, a correction) is
    stored as a new version (``replaces``: the version it replaces), and the story lists only
    its latest version, with ``versions`` (how many of that URL's versions the story holds);
    ``size`` counts entries, not versions. A new version is linked like any article: it
    usually joins its old version's story (as a copy of it), but if it lands in another
    story, each story lists the version it holds, once. Members without a URL are listed each.
    """
    out = []
    for row in store.stories(since=since, limit=limit, story_id=story_id):
        found = store.story_members(row.id)
        if not found:
            continue
        entries, listed_as = latest_versions(found)
        shown = {a.rowid for a, _ in entries}
        central = central_member([m for m in found if m[0].rowid in shown], row.vsum)

        def source_id(a: StoredArticle, listed_as: dict[int, str] = listed_as) -> str | None:
            if a.dup_of is None:
                return None
            if a.dup_of in listed_as:       # the entry that lists it (a copy of its own old version: none)
                return listed_as[a.dup_of] if listed_as[a.dup_of] != a.id else None
            src = store.article(int(a.dup_of))
            return src.id if src else None

        also = store.other_record_ids([a for a, _ in entries]) if members else {}
        mem = [StoryMember(id=a.id, title=a.title, date=a.date, lang=a.lang, url=a.url,
                           duplicate_of=(dup := source_id(a)), copied_share=a.copied if dup else None,
                           record_id=a.record_id, also_record_ids=also.get(a.id, []), replaces=a.replaces,
                           versions=versions)
               for a, versions in entries] if members else []
        out.append(Story(id=row.id, label=label_of(central), first_seen=safe_iso(row.first), last_seen=safe_iso(row.last),
                         size=len(entries), languages=sorted(row.langs), members=mem))
    return out


def story(store: Store, sid: int) -> Story | None:
    """One story with its members; a merged id leads to the story it joined."""
    if not 0 < sid < 2**63:     # SQLite integers are 64-bit: no such story
        return None
    live = store.resolve_story(sid)
    found = stories(store, members=True, story_id=live) if live is not None else []
    return found[0] if found else None


def copy_kind(copy: StoredArticle, source: StoredArticle) -> tuple[str, float | None]:
    """``translation`` (another language), ``excerpt`` (mostly the source's text, but less than
    70% of it) or ``copy`` (whole, or edited: words dropped, sentences moved), with the share
    of the copy's text found in the source (None for a translation). Measured here, against
    the group's root as it is now: groups merge when an article joins two of them. Two texts
    that share much of their wording are never a translation, whatever their language tags
    say (a short headline's language is a guess)."""
    copied, covered = copied_share(copy.to_article().full_text, source.to_article().full_text)
    if not same_language(copy.lang, source.lang) and copied < TRANSLATION_MAX_COPIED:
        return "translation", None
    return ("excerpt" if copied >= 0.7 and covered < 0.7 else "copy"), round(copied, 4)


def duplicates(store: Store) -> list[dict[str, Any]]:
    """Groups of copies: the earliest article as the likely source, the others with their kind
    and the share of their text found in the source. A text that came in under several
    records' ids is stored once: its entry lists the later records' ids (``also_record_ids``),
    and such a text with no other copy is a group of its own."""
    groups: dict[int, list[int]] = {}
    for rowid, root, _ in store.copies():
        groups.setdefault(root, []).append(rowid)
    grouped = {*groups, *(m for members in groups.values() for m in members)}
    for rowid in store.texts_of_several_records():
        if rowid not in grouped:
            groups[rowid] = []
    found = {a.rowid: a for a in store.articles([r for root, copies in groups.items() for r in (root, *copies)])}
    also = store.other_record_ids(list(found.values()))
    out = []
    for root, copies in groups.items():
        src = found.get(int(root))
        if src is None:
            continue
        listed = []
        for r in copies:
            if r in found:
                kind, share = copy_kind(found[r], src)
                listed.append({**_entry(found[r], also), "kind": kind, "copied_share": share})
        out.append({"source": _entry(src, also), "copies": listed})
    return out


def _entry(a: StoredArticle, also: dict[str, list[str]]) -> dict[str, Any]:
    return {"id": a.id, "record_id": a.record_id, "also_record_ids": also.get(a.id, []), "title": a.title,
            "date": a.date, "lang": a.lang}
