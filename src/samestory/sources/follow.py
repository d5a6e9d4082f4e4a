"""``samestory follow``: rounds of reading sources and adding the articles they list, and the
loop that repeats them until stopped.

A round reads every source (hosts in parallel, each politely: ``client``), stores the new
article URLs as pending together with the source's ETag (one transaction), then fetches
the pending pages host by host and adds them through the corpus's one write path
(``Corpus.add``), ``batch_size`` pages per transaction. A URL's outcome is stored after its
batch commits; a ``kill -9`` in between leaves it pending, and the next run fetches it
again and finds its content stored (``exists``): nothing is stored twice, nothing is lost.

A stored URL is fetched again only when a source dates it later than its last fetch (a feed
item's ``updated``, a sitemap's ``lastmod``: ``FollowState.add_found``), once per change and
conditionally (its page's ETag and Last-Modified). A text that changed is added as a new
version whose record carries ``replaces`` (the id of the version it replaces); a 304 or the
same text adds nothing (``exists``, reason ``unchanged``).

Every URL a run finds is reported once (``report_sink``, one dict per URL): ``added`` (with
``replaces`` for a new version), ``exists``, ``skipped`` (robots.txt, not HTML, already
followed, left for a later run) with the reason, or ``error`` with the reason (and
``retry_at`` when it will be tried again).
Each source read is reported too (``type: source``). SIGINT and SIGTERM end the loop after
the batch in progress; a second one stops at once.
"""
from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from samestory.ingest import InputRecord
from samestory.ingest.validate import safe_iso
from samestory.sources.canonical import canonical_url, host_of
from samestory.sources.client import PoliteClient
from samestory.sources.discover import read_sources
from samestory.sources.extract import Page, page_of
from samestory.sources.reading import SourceRead, read_source
from samestory.sources.settings import DEFAULT_SETTINGS, FollowSettings
from samestory.sources.state import Done, Due, FollowState
from samestory.types import InputError, StoreBusy

if TYPE_CHECKING:
    from samestory.corpus import Corpus
    from samestory.sources.client import Fetched

log = logging.getLogger(__name__)
ReportSink = Callable[[dict[str, Any]], None]
Guard = Callable[[], AbstractContextManager[Any]]
#: A partly filled batch is written once its oldest page has waited this long (seconds).
_BATCH_WAIT = 5.0


@dataclass
class FollowSummary:
    """What a follow run did: rounds, URLs by reported status, source fetches that failed."""

    rounds: int = 0
    urls: Counter[str] = field(default_factory=Counter)
    source_errors: int = 0
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, **{k: self.urls[k] for k in ("added", "exists", "skipped", "error")},
                "source_errors": self.source_errors, "stopped": self.stopped}


class _Round:
    """One round over ``sources`` (top-level source URLs)."""

    def __init__(self, sources: Sequence[str], corpus: Corpus, client: PoliteClient, state: FollowState, run: str,
                 sink: ReportSink | None, guard: Guard, summary: FollowSummary, final: bool):
        self.sources, self.corpus, self.client, self.state, self.run = sources, corpus, client, state, run
        self.sink, self.guard, self.summary, self.final = sink, guard, summary, final
        self.settings = client.settings
        self.prefetched: dict[str, Fetched] = {}
        self.busy: str | None = None
        self.halt = threading.Event()       # the round's own stop (the index is busy), beside the run's
        self.number = summary.rounds

    def emit(self, line: dict[str, Any]) -> None:
        line["round"] = self.number
        if line["type"] == "url":
            self.summary.urls[line["status"]] += 1
        elif line["status"] == "error":
            self.summary.source_errors += 1
        if self.sink is not None:
            self.sink(line)

    # -- sources -------------------------------------------------------------
    def read_sources(self) -> None:
        known = self.state.sources()
        workers = max(1, min(self.settings.concurrency, len(self.sources)))
        with ThreadPoolExecutor(workers, thread_name_prefix="follow-source") as pool:
            futures = [pool.submit(read_source, self.client, url, known) for url in self.sources]
            for future in as_completed(futures):
                for result in future.result():
                    if result.status == "error" and self.client.stop.is_set():
                        continue          # stopped mid-read: not the source's fault
                    try:
                        with self.guard():
                            self._source_done(result)
                    except StoreBusy as exc:      # another process writes the index: this source waits a round
                        self.emit({"type": "source", "source": result.url, "status": "error", "kind": result.kind,
                                   "error": f"the index was busy ({exc}); read again next round"})

    def _source_done(self, result: SourceRead) -> None:
        line: dict[str, Any] = {"type": "source", "source": result.url, "status": result.status, "kind": result.kind}
        if result.url != result.parent:
            line["via"] = result.parent
        if result.status != "ok":
            self.state.record_source(result.url, result.parent, result.kind, result.status, result.error)
            if result.error:
                line["error"] = result.error
            self.emit(line)
            return
        items: dict[str, Any] = {}
        for found in result.found:
            url = canonical_url(found.url)
            items.setdefault(url, found)
        if result.page is not None:
            self.prefetched[canonical_url(result.url)] = result.page
        seen = self.state.add_found(result.url, result.parent, result.kind or "", list(items.items()), self.run,
                                    result.etag, result.last_modified)
        line["found"] = len(items)
        self.emit(line)
        for s in seen:
            self.emit({"type": "url", "url": s.url, "source": s.source, "status": "skipped",
                       "reason": f"already followed ({s.status} {safe_iso(s.updated)})"})

    # -- pages -----------------------------------------------------------------
    def fetch_pages(self) -> None:
        todo = self.state.due(self.sources, self.settings.max_pages)
        by_host: dict[str, list[Due]] = {}
        for due in todo:
            by_host.setdefault(host_of(due.link), []).append(due)
        if not by_host:
            return
        results: queue.Queue[tuple[Due, Page] | None] = queue.Queue()
        stop = self.client.stop

        def work(items: list[Due]) -> None:
            try:
                for due in items:
                    if stop.is_set() or self.halt.is_set():
                        return
                    fetched = self.prefetched.pop(due.url, None)
                    conditional = fetched is None and due.article is not None and bool(due.etag or due.last_modified)
                    if fetched is None:        # a page fetched again because it changed: asked conditionally
                        fetched = (self.client.get(due.link, due.etag, due.last_modified) if conditional
                                   else self.client.get(due.link))
                    try:
                        page = page_of(fetched, due.url, due.date, due.title, self.settings.max_bytes, conditional)
                    except Exception as exc:      # one page's surprise is that page's error, not the run's
                        log.exception("%s: unexpected failure while reading the page", due.url)
                        page = Page(status="error", reason=f"unreadable page ({type(exc).__name__}: {exc})")
                    results.put((due, page))
            finally:
                results.put(None)

        with ThreadPoolExecutor(max(1, min(self.settings.concurrency, len(by_host))),
                                thread_name_prefix="follow-page") as pool:
            for items in by_host.values():
                pool.submit(work, items)
            self._consume(results, len(by_host))

    def _consume(self, results: queue.Queue[tuple[Due, Page] | None], workers: int) -> None:
        batch: list[tuple[Due, Page]] = []
        oldest = 0.0
        while workers:
            try:
                item = results.get(timeout=0.25)
            except queue.Empty:
                pass
            else:
                if item is None:
                    workers -= 1
                else:
                    oldest = oldest if batch else time.monotonic()
                    batch.append(item)
            if self.client.stop.is_set():
                return            # between batches: what is not written stays pending
            full = len(batch) >= self.settings.batch_size
            if batch and (full or not workers or time.monotonic() - oldest > _BATCH_WAIT):
                try:
                    with self.guard():
                        self._write(batch)
                except StoreBusy as exc:       # another writer: these pages stay pending for the next round
                    log.warning("the index is busy (%s); the round's pages wait for the next round", exc)
                    self.busy = str(exc)          # reported once, with the pages left over (report_leftovers)
                    self.halt.set()
                    return
                batch = []

    def _write(self, batch: list[tuple[Due, Page]]) -> None:
        now = time.time()
        done: list[Done] = []
        aliases: list[tuple[str, Due]] = []
        notes: dict[str, tuple[str, ...]] = {}
        pages = {due.url: (due, page) for due, page in batch}
        records = []
        for due, page in batch:
            if page.unchanged:        # a 304 to a page fetched again: its stored version stands
                done.append(Done(due, "exists", "unchanged", due.article, self._story(due.story), answered=True))
            elif page.record is None:
                done.append(Done(due, *self._failure(due, page, now), retry_at=self._retry_at(due, page, now)))
            else:     # a page fetched again carries the version it would replace
                record = {**page.record, "replaces": due.article} if due.article else page.record
                records.append(InputRecord(due.url, 1, record, None, due.url))
                notes[due.url] = page.notes
        if records:          # StoreBusy (another writer) leaves the whole batch pending: see _consume
            for o in self.corpus.add(records, batch_size=len(records)).outcomes:
                due, page = pages[o.source]
                unchanged = o.status == "exists" and due.article is not None and o.article == due.article
                done.append(Done(due, o.status, "unchanged" if unchanged else o.error, o.article, o.story,
                                 answered=True, validators=page.validators))
                notes[due.url] = notes.get(due.url, ()) + tuple(o.notes)
                if page.canonical and o.status != "error":
                    aliases.append((page.canonical, due))
        self.state.finish(done, self.run, aliases)
        for d in done:
            self.emit(self._line(d, notes.get(d.due.url, ())))

    def _line(self, d: Done, notes: tuple[str, ...]) -> dict[str, Any]:
        """The report line of a fetched URL."""
        due = d.due
        line: dict[str, Any] = {"type": "url", "url": due.url, "source": due.source,
                                "status": "error" if d.status == "retry" else d.status}
        if due.link != due.url:
            line["link"] = due.link
        if d.status in ("added", "exists"):
            line.update(article=d.article, story=d.story)
            if d.status == "added" and due.article:
                line["replaces"] = due.article
            if d.reason:
                line["reason"] = d.reason
        else:
            line["reason" if d.status == "skipped" else "error"] = d.reason
        if d.retry_at is not None:
            line["retry_at"] = safe_iso(d.retry_at)
        if notes:
            line["notes"] = list(notes)
        return line

    def _story(self, story: int | None) -> int | None:
        """A stored story's id as it is now (stories merge)."""
        return None if story is None else self.corpus.store.resolve_story(story)

    def _failure(self, due: Due, page: Page, now: float) -> tuple[str, str | None]:
        if page.status == "skipped" or not page.retry:
            return page.status, page.reason
        tries = due.tries + 1
        if tries < self.settings.url_tries:
            return "retry", f"{page.reason}; tried again from {safe_iso(self._retry_at(due, page, now))}"
        return "error", f"{page.reason} (given up after {tries} tries)"

    def _retry_at(self, due: Due, page: Page, now: float) -> float | None:
        if page.status == "skipped" or not page.retry or due.tries + 1 >= self.settings.url_tries:
            return None
        return now + self.settings.retry_base * 2.0 ** due.tries

    def report_leftovers(self) -> None:
        for due in self.state.leftover(self.sources, self.run):
            why = ("waiting to be tried again" if due.tries else f"not stored: the index was busy ({self.busy})"
                   if self.busy else "not fetched in this run (stopped, or over max_pages)")
            self.emit({"type": "url", "url": due.url, "source": due.source, "status": "skipped",
                       "reason": f"{why}; still pending: a later run fetches it"})


def follow_once(sources: Sequence[str], corpus: Corpus, client: PoliteClient, state: FollowState, run: str,
                report_sink: ReportSink | None = None, guard: Guard = contextlib.nullcontext,
                summary: FollowSummary | None = None, final: bool = True) -> FollowSummary:
    """One round over ``sources`` (top-level source URLs); ``final``: the run ends after it, so
    URLs left pending are reported as skipped. Returns ``summary``, updated."""
    summary = summary or FollowSummary()
    summary.rounds += 1
    this = _Round(sources, corpus, client, state, run, report_sink, guard, summary, final)
    this.read_sources()
    if not client.stop.is_set():
        this.fetch_pages()
    if final or client.stop.is_set():
        with guard():
            this.report_leftovers()
    return summary


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set ``stop`` (a second one interrupts at once); returns the undo.
    Only the main thread can take signals: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("%s: stopping after the batch in progress", signal.Signals(signum).name)
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)

    def undo() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return undo


def follow(sources: Sequence[str], corpus: Corpus, settings: FollowSettings = DEFAULT_SETTINGS, once: bool = False,
           report_sink: ReportSink | None = None, stop: threading.Event | None = None,
           guard: Guard = contextlib.nullcontext) -> FollowSummary:
    """Follow ``sources`` into ``corpus``: one round with ``once``, else a round every
    ``settings.every`` seconds until ``stop`` is set (SIGINT and SIGTERM set it, in the main thread).

    Args:
        sources: source URLs, or text files of them (one a line, ``#`` comments).
        corpus: the index to add to (through ``Corpus.add``, as ``index add`` does).
        settings: politeness and bounds (``FollowSettings``).
        once: one round, then return.
        report_sink: called with one dict per URL and per source fetch (see the module's docstring).
        stop: set it to end the loop after the batch in progress.
        guard: a context manager factory held around each write (a service's lock), or none.

    Returns:
        The run's ``FollowSummary``.

    Raises:
        InputError: no sources, or a SOURCES item that is neither a URL nor a readable file.
        IndexWriteError: the index cannot be written (a full disk); what was done stands.
    """
    urls = read_sources(sources)
    if not urls:
        raise InputError("no sources to follow")
    stop = stop or threading.Event()
    run = uuid.uuid4().hex
    with guard():
        state = FollowState(corpus.store.db)
    summary = FollowSummary()
    undo = _on_signals(stop)
    try:
        with PoliteClient(settings, stop) as client:
            while True:
                follow_once(urls, corpus, client, state, run, report_sink, guard, summary, final=once)
                if once or stop.is_set() or stop.wait(settings.every):
                    break
    finally:
        undo()
    summary.stopped = stop.is_set()
    return summary
