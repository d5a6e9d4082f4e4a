"""What a source is: an RSS/Atom feed, a sitemap (or index), a site's home page (whose feeds
are found with trafilatura's feed discovery), or a single article page. Told from the
fetched bytes first, and from the URL only where the bytes leave it open."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from samestory.sources.items import SourceError
from samestory.types import InputError

log = logging.getLogger(__name__)

FEED, SITEMAP, HOME, ARTICLE = "feed", "sitemap", "home", "article"
_ROOT = re.compile(rb"<(?:[\w-]+:)?(rss|feed|rdf|urlset|sitemapindex|html|head|body)[\s>/]", re.IGNORECASE)
_FEED_PATH = re.compile(r"(?:\.(?:rss|atom|rdf|xml)|/(?:feed|rss|atom)(?:\.\w+)?)/?$", re.IGNORECASE)
_SITEMAP_PATH = re.compile(r"sitemap[^/]*\.xml(?:\.gz)?$", re.IGNORECASE)
_HOME_PATHS = ("", "/", "/index.html", "/index.htm", "/index.php")


def sniff(body: bytes) -> str | None:
    """``feed``, ``sitemap`` or ``html`` by the first element of ``body``; None for neither."""
    head = body[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"\x1f\x8b"):
        return SITEMAP     # a gzip-compressed sitemap (sitemap.xml.gz)
    found = _ROOT.search(head)
    if not found:
        return "html" if head[:15].lower().startswith(b"<!doctype html") else None
    root = found.group(1).lower()
    if root in (b"rss", b"feed", b"rdf"):
        return FEED
    if root in (b"urlset", b"sitemapindex"):
        return SITEMAP
    return "html"


def looks_like_feed_url(url: str) -> bool:
    """True for a URL whose path names a feed or sitemap (``.xml``, ``.rss``, ``/feed``...)."""
    path = urlsplit(url).path
    return bool(_FEED_PATH.search(path) or _SITEMAP_PATH.search(path))


def kind_of(url: str, body: bytes) -> str:
    """The kind of source that ``url`` served ``body`` as.

    Raises:
        SourceError: a URL that names a feed or sitemap served an HTML page, or bytes that
            are neither XML of a known kind nor HTML.
    """
    sniffed = sniff(body)
    if sniffed in (FEED, SITEMAP):
        return str(sniffed)
    if sniffed == "html":
        if looks_like_feed_url(url):
            raise SourceError("the URL names a feed or sitemap but it served an HTML page")
        return HOME if urlsplit(url).path in _HOME_PATHS else ARTICLE
    raise SourceError("neither a feed, a sitemap nor an HTML page")


def discover_feeds(html: str, url: str) -> list[str]:
    """The feeds a home page links to (``<link rel="alternate">``, else feed-like ``<a>`` links),
    by trafilatura's feed discovery."""
    from trafilatura.feeds import FeedParameters, determine_feed

    host = urlsplit(url).netloc
    return determine_feed(html, FeedParameters(f"{urlsplit(url).scheme}://{host}", host, url))


def read_sources(items: Iterable[str]) -> list[str]:
    """Source URLs from the command line: each item is a URL, or a text file of URLs (one a
    line, ``#`` starts a comment). Order kept, repeats dropped.

    Raises:
        InputError: an item is neither an http(s) URL nor a readable file.
    """
    out: list[str] = []
    for item in items:
        if re.match(r"https?://", item, re.IGNORECASE):
            lines = [item]
        else:
            try:
                text = Path(item).read_text(encoding="utf-8-sig", errors="replace")
            except OSError as exc:
                raise InputError(f"{item}: not an http(s) URL, nor a file of them ({exc.strerror or exc})") from None
            lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        out.extend(line for line in lines if line)
    return list(dict.fromkeys(out))
