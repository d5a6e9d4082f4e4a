"""A corpus that grows: index articles, find copies, group stories, answer
"what else covers this story?".

Stages, each a function over a batch (so the same code can later run
partitioned on a distributed engine): read -> clean -> embed (head vector) ->
sign (MinHash) -> link (ANN neighbours within the time window, LSH buckets) ->
cluster (online assignment + merge) -> store (one transaction per batch).
Candidate generation is per article (k neighbours, LSH buckets), so the work
grows near-linearly with the corpus; nothing compares all pairs.
"""
from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from samestory.embed import CachedEncoder, Encoder, load_encoder
from samestory.index.ann import VectorIndex
from samestory.index.minhash import DuplicateIndex, signatures
from samestory.index.store import Store
from samestory.ingest import CleanSettings, InputRecord, clean_record, parse_timestamp
from samestory.signals.lexical import copied_share
from samestory.stories.cluster import StoryClusterer, StorySettings, StoryState
from samestory.text import opening, tag_language
from samestory.types import AddReport, Article, InputError, SimilarArticle, Story, StoryMember

DEFAULT_ENCODER = "torch-e5-int8-query"


def content_id(article: Article) -> str:
    """Same cleaned title and text, same id: re-adding an article is a no-op."""
    return hashlib.sha1(f"{article.title}\n{article.text}".encode()).hexdigest()[:16]


def _iso(ts: float | None) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds") if ts is not None else ""


@dataclass
class _Prepared:
    item: InputRecord
    article: Article | None = None
    id: str | None = None
    ts: float = 0.0
    error: str | None = None


class Corpus:
    def __init__(self, db: str | Path, encoder: Encoder | None = None, settings: StorySettings = StorySettings(),
                 clean: CleanSettings = CleanSettings(min_chars=3), duplicate_jaccard: float = 0.5,
                 translation_cosine: float = 0.90, progress: bool = True, readonly: bool = False):
        self.store = Store(db, readonly=readonly)
        self.settings = settings
        self.clean = clean
        self.duplicate_jaccard = duplicate_jaccard
        self.translation_cosine = translation_cosine
        self.progress = progress
        self._encoder = encoder
        self._encoder_spec = DEFAULT_ENCODER if encoder is None else None
        self._loaded = False

    # -- state ---------------------------------------------------------------
    @property
    def encoder(self) -> CachedEncoder:
        if not isinstance(self._encoder, CachedEncoder):
            stored = self.store.get_meta("encoder")
            spec = self.store.get_meta("encoder_spec") or DEFAULT_ENCODER
            self._encoder = CachedEncoder(self._encoder or load_encoder(spec))
            if stored and stored != self._encoder.name:
                raise InputError(f"{self.store.path} was built with encoder {stored}, not {self._encoder.name}")
        return self._encoder

    def _load(self) -> None:
        if self._loaded:
            return
        keys, vecs, ts = self.store.vectors()
        dim = vecs.shape[1] if len(keys) else self.encoder.dim
        self.ann = VectorIndex.open(f"{self.store.path}.usearch", dim, keys, vecs)
        self.ts = dict(zip(keys.tolist(), ts.tolist()))
        self.langs = dict(self.store.db.execute("SELECT rowid, lang FROM articles"))
        self.story_of = dict(self.store.db.execute("SELECT rowid, story FROM articles"))
        self.alias = dict(self.store.db.execute("SELECT id, merged_into FROM stories WHERE merged_into IS NOT NULL"))
        self.dup_root = dict(self.store.db.execute("SELECT rowid, dup_of FROM articles WHERE dup_of IS NOT NULL"))
        stories = {}
        for sid, vsum, n, tsum, first, last, langs in self.store.db.execute(
                "SELECT id, vsum, n, tsum, first, last, langs FROM stories WHERE merged_into IS NULL"):
            stories[sid] = StoryState(np.frombuffer(vsum, np.float64).copy(), n, tsum, first, last,
                                      set((langs or "").split(",")) - {""})
        next_story = (self.store.db.execute("SELECT MAX(id) FROM stories").fetchone()[0] or 0) + 1
        self.clusterer = StoryClusterer(self.settings, stories, next_story)
        self.dups = DuplicateIndex(self.duplicate_jaccard)
        for rowid, sig in self.store.minhashes():
            self.dups.add(rowid, np.frombuffer(sig, np.uint32))
        self.next_rowid = (max(self.ts) + 1) if self.ts else 1
        self._loaded = True

    def story_id(self, sid: int | None) -> int | None:
        while sid in self.alias:
            sid = self.alias[sid]
        return sid

    # -- adding --------------------------------------------------------------
    def _prepare(self, item: InputRecord) -> _Prepared:
        if item.error:
            return _Prepared(item, error=item.error)
        try:
            article = tag_language(clean_record(item.record, self.clean))
        except InputError as exc:
            return _Prepared(item, error=str(exc))
        if article.cleaning.not_article:    # a bot check would gather every bot check into one "story"
            return _Prepared(item, error=f"not an article ({article.cleaning.not_article})")
        ts = parse_timestamp(article.date)
        return _Prepared(item, article, content_id(article), ts if ts is not None else time.time())

    def add(self, items: Iterable[InputRecord], batch_size: int = 128, total: int | None = None) -> AddReport:
        """Ingest records; every one of them ends as added, already stored, or an error."""
        start = time.perf_counter()
        counts = {"added": 0, "exists": 0, "error": 0, "created": 0, "merged": 0}
        outcomes: list[dict[str, Any]] = []
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="indexing", unit="article", file=sys.stderr, smoothing=0.1)
        with self.store.writer():
            self._load()
            if self.store.get_meta("encoder") is None:
                self.store.set_meta("encoder", self.encoder.name)
                if self._encoder_spec:
                    self.store.set_meta("encoder_spec", self._encoder_spec)
            iterator: Iterator[InputRecord] = iter(items)
            while batch := list(islice(iterator, batch_size)):
                out = self._add_batch([self._prepare(item) for item in batch], counts)
                outcomes.extend(out)
                if bar is not None:
                    bar.update(len(batch))
        if bar is not None:
            bar.close()
        # Stories may have merged after an article's batch: report where each ended.
        for o in outcomes:
            if o.get("story") is not None:
                o["story"] = self.story_id(o["story"])
        return AddReport(added=counts["added"], already_stored=counts["exists"], errors=counts["error"],
                         stories_created=counts["created"], stories_merged=counts["merged"],
                         seconds=round(time.perf_counter() - start, 2), outcomes=outcomes)

    def _add_batch(self, prepared: list[_Prepared], counts: dict[str, int]) -> list[dict[str, Any]]:
        ok = [p for p in prepared if p.article is not None]
        known = self.store.known_ids([p.id for p in ok])
        new: dict[str, _Prepared] = {}
        for p in ok:
            if p.id not in known and p.id not in new:
                new[p.id] = p
        fresh = sorted(new.values(), key=lambda p: p.ts)
        vecs = self.encoder.encode([opening(p.article) for p in fresh]) if fresh else []
        sigs = signatures([p.article.full_text for p in fresh]) if fresh else []
        rows, assigned, batch_texts = [], {}, {}
        stories_before = self.clusterer.next_id
        k = self.settings.neighbours
        # Candidates for the whole batch at once: the index (one batched search),
        # plus the batch's own earlier articles (a small in-batch matrix), since
        # the batch is added to the index only at its end.
        index_keys, index_sims = self.ann.search_many(np.asarray(vecs), k) if fresh else (None, None)
        inner = np.asarray(vecs) @ np.asarray(vecs).T if fresh else None
        batch_rowids: list[int] = []
        for i, (p, vec, sig) in enumerate(zip(fresh, vecs, sigs)):
            rowid = self.next_rowid
            self.next_rowid += 1
            near = [(key, float(s)) for key, s in zip(index_keys[i].tolist(), index_sims[i].tolist()) if key >= 0]
            near += [(batch_rowids[j], float(inner[i, j])) for j in range(i)]
            near = sorted(near, key=lambda h: -h[1])[:k]
            dup_of, copied = self._duplicate_of(p, sig, near, batch_texts)
            batch_texts[rowid] = p.article.full_text
            story = self.clusterer.assign(vec, p.ts, p.article.lang, self._neighbour_stories(near, p.ts))
            batch_rowids.append(rowid)
            self.dups.add(rowid, sig)
            self.ts[rowid], self.story_of[rowid], self.langs[rowid] = p.ts, story, p.article.lang
            if dup_of is not None:
                self.dup_root[rowid] = dup_of
            a = p.article
            rows.append((rowid, p.id, a.title, a.text, a.lang, a.date, p.ts, a.url, p.item.source,
                         story, dup_of, copied, vec.astype(np.float32).tobytes(), sig.tobytes(), time.time()))
            assigned[p.id] = (rowid, story)
        if fresh:
            self.ann.add(np.array(batch_rowids), np.asarray(vecs))
        merged = self.clusterer.merge_touched()
        self.alias.update(merged)
        counts["created"] += self.clusterer.next_id - stories_before
        counts["merged"] += len(merged)
        outcomes = []
        for p in prepared:
            if p.article is None:
                outcomes.append({"source": p.item.source, "line": p.item.line, "status": "error", "error": p.error})
                counts["error"] += 1
            elif p.id in assigned and new.get(p.id) is p:
                outcomes.append({"source": p.item.source, "line": p.item.line, "status": "added", "article": p.id,
                                 "story": assigned[p.id][1]})
                counts["added"] += 1
            else:
                rowid = known.get(p.id) or assigned[p.id][0]
                outcomes.append({"source": p.item.source, "line": p.item.line, "status": "exists", "article": p.id,
                                 "story": self.story_of.get(rowid)})
                counts["exists"] += 1
        with self.store.batch() as db:
            db.executemany("INSERT INTO articles (rowid, id, title, text, lang, date, ts, url, source, "
                           "story, dup_of, copied, vec, minhash, added) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            for drop, keep in merged.items():
                db.execute("UPDATE articles SET story=? WHERE story=?", (keep, drop))
                db.execute("UPDATE stories SET merged_into=? WHERE id=?", (keep, drop))
            for sid in self.clusterer.touched:
                st = self.clusterer.stories[sid]
                db.execute("INSERT OR REPLACE INTO stories (id, vsum, n, tsum, first, last, label, langs, merged_into) "
                           "VALUES (?,?,?,?,?,?,NULL,?,NULL)",
                           (sid, st.vsum.astype(np.float64).tobytes(), st.n, st.tsum, st.first, st.last,
                            ",".join(sorted(st.langs))))
            for drop in merged:
                db.execute("INSERT OR IGNORE INTO stories (id, vsum, n, tsum, merged_into) VALUES (?, x'', 0, 0, ?)",
                           (drop, merged[drop]))
            db.executemany("INSERT OR REPLACE INTO inputs VALUES (?,?,?,?)",
                           [(o["source"], o["line"], o.get("article"), o.get("error")) for o in outcomes])
        self.clusterer.touched.clear()
        if rows:
            self.ann.save(f"{self.store.path}.usearch")
        return outcomes

    def _neighbour_stories(self, near: list[tuple[int, float]], ts: float) -> set[int]:
        window = self.settings.window
        return {self.story_id(self.story_of[k]) for k, _ in near
                if k in self.story_of and abs(self.ts[k] - ts) <= window}

    def _duplicate_of(self, p: _Prepared, sig: np.ndarray, near: list[tuple[int, float]],
                      batch_texts: dict[int, str]) -> tuple[int | None, float | None]:
        """The earliest stored copy of this article (same language: MinHash; another
        language: a translation-close neighbour), and the share of this one copied."""
        hits = [k for k, _ in self.dups.query(sig)]
        if not hits:
            # A translation of an original (not of another copy), in another language.
            hits = [k for k, s in near
                    if s >= self.translation_cosine and k not in self.dup_root
                    and self.langs.get(k) not in (p.article.lang, "und")]
            if not hits:
                return None, None
            return min(hits, key=lambda k: self.ts.get(k, 0)), None  # no word-copy share across languages
        root = min((self.dup_root.get(k, k) for k in hits), key=lambda k: self.ts.get(k, 0))
        if root in batch_texts:  # earlier in this same batch: not committed yet
            source_text = batch_texts[root]
        else:
            source_text = self.store.article(int(root)).to_article().full_text
        return root, round(copied_share(p.article.full_text, source_text)[0], 4)

    # -- reading -------------------------------------------------------------
    def similar(self, query: str | Article, k: int = 10, rescore: bool = True, comparer=None) -> list[SimilarArticle]:
        """Stored articles closest to ``query`` (a stored article id, or an Article)."""
        self._load()
        if isinstance(query, str):
            stored = self.store.article(query)
            if stored is None:
                raise InputError(f"no article {query!r} in {self.store.path}")
            vec, exclude = self.store.vector(stored.rowid), {stored.rowid}
            article = stored.to_article()
        else:
            article, exclude = query, set()
            vec = self.encoder.encode([opening(article)])[0]
        keys, sims = self.ann.search(vec, k + len(exclude))
        hits = [(key, s) for key, s in zip(keys.tolist(), sims.tolist()) if key not in exclude][:k]
        found = {a.rowid: a for a in self.store.articles([h[0] for h in hits])}
        results = []
        scores = {}
        if rescore and hits:
            from samestory.pipeline import Comparer

            comparer = comparer or Comparer()
            others = [found[key].to_article() for key, _ in hits]
            signals = comparer.analyse([article, *others])
            for (key, _), score in zip(hits, comparer.score_signals([(signals[0], s) for s in signals[1:]])):
                scores[key] = score
        for key, s in hits:
            a = found[key]
            sc = scores.get(key)
            results.append(SimilarArticle(id=a.id, title=a.title, story=self.story_id(a.story),
                                          similarity=round(float(s), 4), date=a.date, lang=a.lang,
                                          overall=sc.overall if sc else None, same_story=sc.same_story if sc else None))
        if scores:
            results.sort(key=lambda r: r.overall)
        return results

    def stories(self, since: float | None = None, members: bool = False, limit: int | None = None,
                story_id: int | None = None) -> list[Story]:
        q = "SELECT id, vsum, n, first, last, langs FROM stories WHERE merged_into IS NULL AND n > 0"
        args: list[Any] = []
        if story_id is not None:
            q += " AND id = ?"
            args.append(story_id)
        if since is not None:
            q += " AND last >= ?"
            args.append(since)
        q += " ORDER BY last DESC, id" + (f" LIMIT {int(limit)}" if limit else "")
        out = []
        for sid, vsum, n, first, last, langs in self.store.db.execute(q, args).fetchall():
            centre = np.frombuffer(vsum, np.float64)
            rows = self.store.db.execute(
                "SELECT rowid, id, title, date, lang, url, vec, dup_of, copied FROM articles WHERE story=? ORDER BY ts",
                (sid,)).fetchall()
            if not rows:
                continue
            central = max(rows, key=lambda r: float(np.frombuffer(r[6], np.float32) @ centre))
            ids = {r[0]: r[1] for r in rows}
            mem = [StoryMember(id=r[1], title=r[2], date=r[3], lang=r[4], url=r[5],
                               duplicate_of=ids.get(r[7]) or (self.store.article(int(r[7])).id if r[7] else None),
                               copied_share=r[8]) for r in rows] if members else []
            out.append(Story(id=sid, label=central[2] or "", first_seen=_iso(first), last_seen=_iso(last),
                             size=len(rows), languages=sorted(set((langs or "").split(",")) - {""}), members=mem))
        return out

    def story(self, sid: int) -> Story | None:
        """One story with its members; a merged id leads to the story it joined."""
        while True:
            row = self.store.db.execute("SELECT merged_into FROM stories WHERE id=?", (sid,)).fetchone()
            if row is None or row[0] is None:
                break
            sid = row[0]
        found = self.stories(members=True, story_id=sid)
        return found[0] if found else None

    def duplicates(self) -> list[dict[str, Any]]:
        """Groups of copies: the earliest article as the likely source, the others with their copied share."""
        groups: dict[int, list] = {}
        for rowid, root, copied in self.store.db.execute(
                "SELECT rowid, dup_of, copied FROM articles WHERE dup_of IS NOT NULL ORDER BY ts"):
            groups.setdefault(root, []).append((rowid, copied))
        out = []
        for root, copies in groups.items():
            src = self.store.article(int(root))
            members = self.store.articles([r for r, _ in copies])
            out.append({"source": {"id": src.id, "title": src.title, "date": src.date, "lang": src.lang},
                        "copies": [{"id": m.id, "title": m.title, "date": m.date, "lang": m.lang,
                                    "copied_share": c} for m, (_, c) in zip(members, copies)]})
        return out
