"""Reading one source in a round: fetched (conditionally, when its ETag or Last-Modified is
known), recognised (``discover``), and its article links listed: a feed's items, a
sitemap's pages (an index's sitemaps followed, bounded in depth and number), a home page's
discovered feeds, or the page itself. Runs in a worker thread: nothing here touches the store."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from samestory.ingest.archives import decode_page
from samestory.sources.client import Fetched, PoliteClient
from samestory.sources.discover import ARTICLE, FEED, HOME, SITEMAP, discover_feeds, kind_of
from samestory.sources.feeds import parse_feed
from samestory.sources.items import Found, SourceError
from samestory.sources.sitemaps import parse_sitemap

log = logging.getLogger(__name__)


@dataclass
class SourceRead:
    """One fetch of a source (a top-level one, or a feed or sitemap found through it).

    ``status``: ``ok``, ``not_modified`` or ``error`` (with ``error``); ``found``: its article
    links; ``page``: the response itself when the source is a single article page."""

    url: str
    parent: str
    kind: str | None = None
    status: str = "ok"
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    found: list[Found] = field(default_factory=list)
    page: Fetched | None = None


class _Budget:
    def __init__(self, sitemaps: int):
        self.sitemaps = sitemaps


def read_source(client: PoliteClient, url: str, known: dict[str, dict[str, Any]]) -> list[SourceRead]:
    """``url`` read as a top-level source: its own result first, then those of the feeds and
    sitemaps read through it. ``known``: the sources' stored rows (ETag, Last-Modified, kind)."""
    out: list[SourceRead] = []
    _read(client, url, url, known, 0, _Budget(client.settings.max_sitemaps), out)
    return out


def _read(client: PoliteClient, url: str, parent: str, known: dict[str, dict[str, Any]], depth: int,
          budget: _Budget, out: list[SourceRead]) -> None:
    s = client.settings
    row = known.get(url) or {}
    fetched = client.get(url, row.get("etag"), row.get("last_modified"))
    result = SourceRead(url, parent, row.get("kind"))
    out.append(result)
    if fetched.not_modified:
        result.status = "not_modified"
        return
    if fetched.error:
        result.status, result.error = "error", fetched.error
        return
    result.etag, result.last_modified = fetched.etag, fetched.last_modified
    try:
        result.kind = kind_of(url, fetched.body)
        if fetched.truncated and result.kind != ARTICLE:
            raise SourceError(f"over the {s.max_bytes:,}-byte limit (--max-bytes); refused")
        if result.kind == FEED:
            result.found = parse_feed(fetched.body, fetched.final_url or url, s.max_items, fetched.content_type)
        elif result.kind == SITEMAP:
            pages, children = parse_sitemap(fetched.body, fetched.final_url or url, s.max_items, s.max_bytes)
            result.found = pages
            if children:       # an index is read whole each round: its sitemaps may change while it does not
                result.etag = result.last_modified = None
            for child in children:
                if depth + 1 > s.max_sitemap_depth or budget.sitemaps <= 0:
                    log.warning("%s: sitemap %s not read (depth %d, or over %d sitemaps)", parent, child,
                                depth + 1, s.max_sitemaps)
                    continue
                budget.sitemaps -= 1
                _read(client, child, parent, known, depth + 1, budget, out)
        elif result.kind == HOME:
            result.etag = result.last_modified = None      # read each round, for the feeds it links to
            feeds = [f for f in discover_feeds(decode_page(fetched.body, fetched.charset), fetched.final_url or url)
                     if f != url][:s.max_sitemaps]
            if not feeds:
                raise SourceError("a home page that links to no feed (name its feeds or sitemap instead)")
            if depth + 1 > s.max_sitemap_depth:
                raise SourceError("a home page found too deep below another source")
            for feed in feeds:
                _read(client, feed, parent, known, depth + 1, budget, out)
        else:
            result.found, result.page = [Found(url, modified=fetched.last_modified)], fetched
    except SourceError as exc:
        result.status, result.error = "error", str(exc)
