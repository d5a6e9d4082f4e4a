"""``samestory serve --follow``: the follower in a background thread of the service, writing
to the service's own index (one writer, as ever) under the service's locks."""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from samestory.sources.follow import FollowSummary, Guard, ReportSink, follow
from samestory.sources.settings import DEFAULT_SETTINGS, FollowSettings

if TYPE_CHECKING:
    from samestory.corpus import Corpus

log = logging.getLogger(__name__)


class BackgroundFollower:
    """Runs ``follow`` (a round every ``settings.every``) in a daemon thread until ``stop``.

    Args:
        sources: source URLs or files of them (read at ``start``).
        corpus: the service's corpus; every write to it happens inside ``guard``.
        settings: politeness and bounds.
        guard: a context manager factory the service already serialises its writes with
            (its write lock, the store's writer lock and its readers' lock, in that order).
        report_sink: one dict per URL and source fetch (a log, a file), or none.
    """

    def __init__(self, sources: Sequence[str], corpus: Corpus, settings: FollowSettings = DEFAULT_SETTINGS,
                 guard: Guard = contextlib.nullcontext, report_sink: ReportSink | None = None):
        self.sources, self.corpus, self.settings = list(sources), corpus, settings
        self.guard, self.report_sink = guard, report_sink
        self.summary: FollowSummary | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="samestory-follow", daemon=True)

    def _run(self) -> None:
        try:
            self.summary = follow(self.sources, self.corpus, self.settings, once=False,
                                  report_sink=self.report_sink, stop=self._stop, guard=self.guard)
        except Exception as exc:      # the service goes on serving what it has; the reason is kept and logged
            self.error = exc
            log.exception("the follower stopped")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the loop to end after the batch in progress; True if it ended within ``timeout``."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
