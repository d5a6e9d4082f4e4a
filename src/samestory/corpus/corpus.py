"""A corpus that grows: index articles, find copies, group stories, answer
"what else covers this story?".

``Corpus`` ties the store (SQLite, all the SQL), the in-memory index
(``IndexState``: ANN, MinHash LSH, live stories), the write path
(``corpus.ingest``) and the read path (``corpus.queries``). Candidate generation
is per article (k neighbours, LSH buckets), so the work grows near-linearly with
the corpus; nothing compares all pairs.
"""
from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samestory.corpus import queries, retention
from samestory.corpus.assign import LinkSettings
from samestory.corpus.copies import CopySettings
from samestory.corpus.ingest import add_batch, update_stored
from samestory.corpus.precomputed import Precomputed
from samestory.corpus.prepare import LanguagePrior, Prepared, prepare
from samestory.corpus.state import IndexState, ann_path, open_ann
from samestory.corpus.window import Sweeper, release_memory
from samestory.embed import DEFAULT_SPEC, CachedEncoder, Encoder, load_encoder
from samestory.index.ann import VectorIndex
from samestory.index.archive import ColdArchive, Layered
from samestory.index.archive import version as archive_version
from samestory.index.hotset import hot_epoch, hot_vectors
from samestory.index.repair import CHECKS, CheckReport, check, repair_once
from samestory.index.retention import backup
from samestory.index.store import Store
from samestory.ingest import CleanSettings, InputRecord
from samestory.stories.cluster import StorySettings
from samestory.stories.link import StoryLinker
from samestory.text import opening
from samestory.types import (
    AddOutcome,
    AddReport,
    Article,
    IndexMismatch,
    IndexWriteError,
    InputError,
    RemovalReport,
    SimilarArticle,
    StoreBusy,
    StoreChanged,
    Story,
)

if TYPE_CHECKING:
    from samestory.pipeline import Comparer

#: The pair scorer's fine-tuned weights with e5's "query:" prefix: the corpus and the scorer
#: share one model in a process (see embed.onnx_e5), and the story linker is trained on these vectors.
DEFAULT_ENCODER = str(DEFAULT_SPEC.for_queries())
#: During a long ``add`` run, ``PATH.usearch`` is written at most this often (seconds).
MID_RUN_CHECKPOINT_SECONDS = 300.0
log = logging.getLogger(__name__)
#: Headlines are articles too: a three-character text is the shortest the corpus keeps.
DEFAULT_CLEAN = CleanSettings(min_chars=3)


class Corpus:
    """A persistent index of articles (one SQLite file, ``PATH.usearch`` beside it) that groups
    them into stories and finds copies, translations and similar coverage.

        >>> from samestory import Corpus
        >>> corpus = Corpus("news.db")
        >>> report = corpus.add([InputRecord("feed", 1, {"text": "...", "date": "2024-05-01"})])
        >>> corpus.stories(members=True), corpus.similar(report.outcomes[0].article, k=5)
        >>> corpus.close()

    Contract of the main methods:

    - ``add(items, batch_size=128, total=None, update=False) -> AddReport``: every record comes
      out exactly once (``added``, ``exists``, ``updated`` or ``error`` with its reason); bad
      records never stop the batch. Raises ``StoreBusy`` (another writer held the index past
      ``lock_timeout``), ``StoreChanged`` (the file was deleted or replaced), ``IndexMismatch``
      (built with another encoder), ``IndexWriteError`` (a full disk part-way: its ``outcomes``
      say which records were done).
    - ``similar(query, k=10, rescore=True) -> list[SimilarArticle]``: ``query`` is a stored
      article's id (samestory's or the record's own) or an ``Article``; best first. Raises
      ``InputError`` for an id not in the index.
    - ``stories(since=None, members=False, limit=None, story_id=None) -> list[Story]``: live
      stories, latest first (``since``: epoch seconds). Never raises for an empty index.
    - ``duplicates() -> list[dict]``: copy groups, each a ``source`` and its ``copies``.
    - ``check(repair=False) -> CheckReport``: values the index should not hold; with
      ``repair``, mended in one transaction (raises ``StoreBusy`` as ``add`` does).
    - ``close() -> None``: writes what the ANN checkpoint lacks and closes the file; safe twice.

    Opening raises ``InputError`` when ``db`` is not a samestory index (or, ``readonly``, does not exist).
    """

    def __init__(self, db: str | Path, encoder: Encoder | None = None, settings: StorySettings = StorySettings(),
                 clean: CleanSettings = DEFAULT_CLEAN, duplicate_jaccard: float = 0.2,
                 translation_cosine: float = 0.88, copy_containment: float = 0.55, progress: bool = True,
                 readonly: bool = False,
                 linker: StoryLinker | None = None, lock_timeout: float = 30.0, checkpoint_seconds: float = 0.0,
                 hot_days: float | None = None):
        """Open (or create) the index at ``db``.

        ``lock_timeout``: seconds a write waits for another process's writer before ``StoreBusy``.
        ``checkpoint_seconds``: ``PATH.usearch`` is written at the end of an ``add`` only when this
        long has passed since it was last written (0: after every ``add``; a service that adds
        one article per request sets a minute), and during a long run every
        ``MID_RUN_CHECKPOINT_SECONDS``; ``close`` writes what is left. Whatever was not written is
        caught up from the store when the index is next opened.
        ``hot_days``: the writer keeps in memory only the stories whose latest article is at most
        this many days older than the newest article, and their articles (``corpus.window``);
        older ones are answered from disk. Default: the story window plus a day (for late
        arrivals); ``math.inf`` keeps everything.
        """
        self.store = Store(db, readonly=readonly, lock_timeout=lock_timeout)
        self.checkpoint_seconds = checkpoint_seconds
        self.settings = settings
        self.clean = clean
        self.link_settings = LinkSettings(CopySettings(duplicate_jaccard=duplicate_jaccard,
                                                       copy_containment=copy_containment,
                                                       translation_cosine=translation_cosine))
        self.progress = progress
        self._encoder = encoder
        self._encoder_spec = DEFAULT_ENCODER if encoder is None else None
        self._linker = linker
        self._state: IndexState | None = None
        self._ann: VectorIndex | None = None
        self._ann_version = self._ann_epoch = -1
        self._cold: ColdArchive | None = None
        self.hot_days = settings.window_hours / 24 + 1 if hot_days is None else hot_days
        self._sweeper = Sweeper(self.hot_days)

    # -- state ---------------------------------------------------------------
    @property
    def encoder(self) -> CachedEncoder:
        if not isinstance(self._encoder, CachedEncoder):
            stored = self.store.get_meta("encoder")
            spec = self.store.get_meta("encoder_spec") or DEFAULT_ENCODER
            if self._encoder is None:      # say what the first seconds of a run are spent on
                log.info("loading the encoder %s", spec)
            self._encoder = CachedEncoder(self._encoder or load_encoder(spec))
            if stored and stored != self._encoder.name:
                raise IndexMismatch(f"{self.store.path} was built with encoder {stored}, not {self._encoder.name}; "
                                    "re-embed it with the current encoder: samestory index upgrade --db "
                                    f"{self.store.path} (in place; resumable), or use a new index")
        return self._encoder

    @property
    def linker(self) -> StoryLinker:
        if self._linker is None:
            self._linker = StoryLinker.load()
        return self._linker

    def state(self) -> IndexState:
        """The in-memory index, reloaded first if another process has written to the store."""
        if self._state is None or self._state.version != self.store.data_version():
            self._state = None
            release_memory()       # what the last state held
            self._state = IndexState.load(self.store, self.encoder.dim, self.settings,
                                          self.link_settings.copies.duplicate_jaccard, self.hot_days)
            release_memory()       # what loading it passed through
        return self._state

    def ann(self) -> Layered:
        """The ANN index as the store has it now, hot and cold (a reader's view; never written).
        A reader catches up with what was added since it last looked, and reopens the hot part
        only when articles have left it (``index.hotset.hot_epoch``)."""
        if self._state is not None and self._state.version == self.store.data_version():
            hot = self._state.ann       # a writer's own, current (another writer's changes: read below)
        else:
            version = self.store.data_version()
            if self._ann is None or self._ann_epoch != hot_epoch(self.store):
                self._ann, self._ann_epoch = open_ann(self.store, self.encoder.dim), hot_epoch(self.store)
            elif version != self._ann_version:
                self._ann.add(*hot_vectors(self.store, after=self._ann.max_key))
            self._ann_version, hot = version, self._ann
        if self._cold is None or self._cold.version != archive_version(self.store):
            self._cold = ColdArchive(self.store)
        return Layered(hot, self._cold)

    # -- adding --------------------------------------------------------------
    def add(self, items: Iterable[InputRecord], batch_size: int = 128, total: int | None = None,
            update: bool = False) -> AddReport:
        """Ingest records; every one of them ends as added, already stored (``exists``), updated
        (with ``update``) or an error. ``total``: how many records to expect (the progress bar's
        total, for its rate and ETA). See ``add_prepared`` for ``update``."""
        iterator: Iterator[InputRecord] = iter(items)
        batches = (([prepare(item, self.clean) for item in batch], None)
                   for batch in iter(lambda: list(islice(iterator, batch_size)), []))
        return self.add_prepared(batches, total=total, update=update)

    def add_prepared(self, batches: Iterable[tuple[list[Prepared], Precomputed | None]], total: int | None = None,
                     engine: str = "local", update: bool = False) -> AddReport:
        """The serial write path for records already cleaned and tagged (``prepare``), one batch
        at a time, each with what was computed ahead for it (vectors, signatures, per-article
        features: ``scale.embedded``) or None. Anything not computed ahead (or computed for a
        text that the corpus's boilerplate stripping has since changed) is computed here.

        With ``update``, a record whose text is already stored corrects the stored article's date,
        URL and record id where it gives other ones: its outcome is ``updated``, with a note per
        change (``AddReport.already_stored`` counts only the unchanged ones)."""
        start = time.perf_counter()
        outcomes: list[AddOutcome] = []
        created = merged = 0
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="indexing", unit="article", file=sys.stderr, smoothing=0.1)
        try:
            with self.store.writer():
                if repair_once(self.store) is not None:
                    self._state = None       # reload what the repair changed
                if self.store.get_meta("encoder") is None:
                    self.store.set_meta("encoder", self.encoder.name)
                    if self._encoder_spec:
                        self.store.set_meta("encoder_spec", self._encoder_spec)
                prior = LanguagePrior()
                for prepared, ahead in batches:
                    prior.apply(prepared)    # a short headline gets its feed's language where detection was unsure
                    # A failed batch raises with nothing changed in memory or on disk (see add_batch).
                    if ahead is None:
                        result = add_batch(prepared, self.state(), self.store, self.encoder, self.linker,
                                           self.link_settings)
                    else:
                        result = add_batch(prepared, self.state(), self.store, ahead.encoder(self.encoder),
                                           self.linker, self.link_settings, ahead.signatures, ahead.fingerprint)
                    if update:
                        fixed = update_stored(self.store, prepared, result.outcomes)
                        if fixed != result.outcomes:
                            self.reset()      # the store changed behind the in-memory index
                        outcomes.extend(fixed)
                    else:
                        outcomes.extend(result.outcomes)
                    created += result.created
                    merged += result.merged
                    if bar is not None:
                        bar.update(len(prepared))
                    if self._sweeper.due(self._state or self.state()):
                        self._sweep()
                    self._checkpoint(max(self.checkpoint_seconds, MID_RUN_CHECKPOINT_SECONDS))
                self._checkpoint(self.checkpoint_seconds)
        except sqlite3.OperationalError as exc:     # a full disk, an I/O error: the batches before it stand
            raise IndexWriteError(f"cannot write {self.store.path}: {exc}; {len(outcomes)} records were done "
                                  "before it (run the same command again to go on)", outcomes) from exc
        except IndexWriteError:
            raise
        except OSError as exc:
            raise IndexWriteError(f"cannot write {self.store.path}: {exc}; {len(outcomes)} records were done "
                                  "before it (run the same command again to go on)", outcomes) from exc
        finally:
            if bar is not None:
                bar.close()
        # Articles may have moved, and stories merged, after an article's batch: report where each ended.
        final = self._state
        if final is not None:
            rowids = self.store.known_ids([o.article for o in outcomes if o.article])
            outcomes = [o if o.article not in rowids else replace(o, story=final.story(rowids[o.article]))
                        for o in outcomes]
        counts = {s: sum(o.status == s for o in outcomes) for s in ("added", "exists", "updated", "error")}
        return AddReport(added=counts["added"], already_stored=counts["exists"], errors=counts["error"],
                         stories_created=created, stories_merged=merged,
                         seconds=round(time.perf_counter() - start, 2), outcomes=outcomes, engine=engine,
                         updated=counts["updated"])

    def reset(self) -> None:
        """Forget the in-memory index (it is reloaded from the store on next use): after the store
        was changed behind it, e.g. by ``Store.update_metadata``."""
        self._state = None
        self._ann, self._ann_version = None, -1

    def _checkpoint(self, every: float) -> None:
        """Write ``PATH.usearch`` if it lacks something and ``every`` seconds have passed since it was
        last written (the caller holds the writer lock; a file that was replaced is never written)."""
        state = self._state
        if state is None or state.ann.unsaved == 0 or time.monotonic() - state.ann.saved_at < every:
            return
        self.store.check_identity()
        state.ann.save(ann_path(self.store), self.store.store_id(), hot_epoch(self.store))

    def _sweep(self) -> None:
        """Move what has left the hot window to the cold archive (the writer lock is held)."""
        try:
            self._sweeper.sweep(self.state(), self.store)
        except BaseException:
            self._state = None      # memory may be ahead of or behind the store: reload
            raise

    def close(self) -> None:
        """Write what the ANN checkpoint lacks, then close the store. Safe to call twice."""
        if self._state is not None and self._state.ann.unsaved and not self.store.readonly:
            try:
                with self.store.writer():
                    self._checkpoint(0.0)
            except (StoreBusy, StoreChanged) as exc:
                log.warning("%s: checkpoint not written (%s)", ann_path(self.store), exc)
        self.store.db.close()

    def check(self, repair: bool = False) -> CheckReport:
        """What ``samestory index check`` reports: values an index written before validation may
        hold (``index.repair``); with ``repair``, mended under the writer lock."""
        if not repair:
            return check(self.store)
        with self.store.writer():
            report = check(self.store, repair=True)
            self.store.set_meta("checked", CHECKS)
        self._state = None
        return report

    # -- removing ------------------------------------------------------------
    def delete(self, keys: Sequence[str]) -> RemovalReport:
        """Remove articles (a takedown, a retraction): each key is samestory's id or a record's
        own id. Gone at once from stories, similar, duplicates and the service; a story left
        empty is listed as removed, a copy group whose source goes names the next earliest.
        Raises ``StoreBusy`` or ``StoreChanged`` as ``add`` does."""
        with self.store.writer():
            report = retention.delete(self.store, self._current_state(), keys)
            self._checkpoint(0.0)
        return report

    def prune(self, older_than: float, keep_text: bool = False) -> RemovalReport:
        """Remove every article dated before ``older_than`` (epoch seconds), a thousand per
        transaction (a prune killed part-way is finished by running it again); with
        ``keep_text`` its text and metadata are kept aside (``index.retention.pruned_text``).
        Then the archive is compacted and the freed space given back."""
        bar = None
        if self.progress:
            from tqdm import tqdm

            total = self.store.db.execute("SELECT COUNT(*) FROM articles WHERE ts < ?", (older_than,)).fetchone()[0]
            bar = tqdm(total=total, desc="pruning", unit="article", file=sys.stderr)
        try:
            with self.store.writer():
                report = retention.prune(self.store, self._current_state(), older_than, keep_text,
                                         self.encoder.dim, bar.update if bar is not None else None)
                self._checkpoint(0.0)
        finally:
            if bar is not None:
                bar.close()
        return report

    def backup(self, dest: str | Path) -> None:
        """A consistent copy of the index at ``dest`` (a new file), taken while writers go on;
        point ``--db`` at it to restore (derived files are rebuilt). Raises ``InputError`` when
        ``dest`` exists or its folder does not."""
        backup(self.store, dest)

    def _current_state(self) -> IndexState | None:
        """The in-memory index if it is loaded and current (the writer lock is held), else None."""
        if self._state is not None and self._state.version != self.store.data_version():
            self._state = None
        return self._state

    # -- reading -------------------------------------------------------------
    def similar(self, query: str | Article, k: int = 10, rescore: bool = True,
                comparer: Comparer | None = None) -> list[SimilarArticle]:
        """Stored articles closest to ``query`` (a stored article's id, samestory's or the record's own, or an Article)."""
        if isinstance(query, str):
            stored = self.store.article(query)
            if stored is None:
                raise InputError(f"no article {query!r} in {self.store.path}")
            vec, exclude, article = self.store.vector(stored.rowid), {stored.rowid}, stored.to_article()
        else:
            article, exclude = query, set()
            vec = self.encoder.encode([opening(article)])[0]
        if rescore and comparer is None:
            from samestory.pipeline import Comparer

            comparer = Comparer()
        return queries.similar(self.store, self.ann(), article, vec, exclude, k, comparer if rescore else None)

    def stories(self, since: float | None = None, members: bool = False, limit: int | None = None,
                story_id: int | None = None) -> list[Story]:
        return queries.stories(self.store, since=since, members=members, limit=limit, story_id=story_id)

    def story(self, sid: int) -> Story | None:
        return queries.story(self.store, sid)

    def duplicates(self) -> list[dict[str, Any]]:
        return queries.duplicates(self.store)
