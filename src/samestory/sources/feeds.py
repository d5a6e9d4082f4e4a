"""RSS and Atom feeds (feedparser): the article links a feed lists, with their dates and headlines."""
from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import urljoin

import feedparser

from samestory.sources.items import Found, SourceError, refuse_entities

log = logging.getLogger(__name__)

_ITEM = re.compile(rb"<(?:[\w-]+:)?(?:item|entry)[\s>/]")


def _date(entry: Any, keys: tuple[str, ...] = ("published_parsed", "updated_parsed", "created_parsed")) -> str | None:
    for key in keys:
        parsed = entry.get(key) if key in entry else None     # (``in``: no fallback from updated to published)
        if parsed:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
    return None


def _link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for item in entry.get("links") or ():
        if item.get("href") and item.get("rel", "alternate") == "alternate":
            return str(item["href"])
    return None


def parse_feed(body: bytes, base_url: str, max_items: int, content_type: str = "") -> list[Found]:
    """The article links of an RSS or Atom feed, in the feed's order, made absolute, each with
    its published date (``date``) and its updated one (``modified``; else the published date).

    Args:
        body: the feed's bytes, as served.
        base_url: where it was fetched from (relative links are resolved against it).
        max_items: a feed with more items than this is refused whole (counted before parsing,
            so a 100,000-item feed costs a scan, not a parse).
        content_type: the Content-Type header, which may name the charset.

    Raises:
        SourceError: entity declarations (a possible XML bomb), too many items, XML that is
            malformed with no entry readable, or a document that is not a feed.
    """
    refuse_entities(body, "the feed")
    count = len(_ITEM.findall(body))
    if count > max_items:
        raise SourceError(f"the feed lists {count:,} items, over the limit of {max_items:,}; refused")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            raise SourceError(f"malformed feed XML ({parsed.get('bozo_exception')})")
        if not parsed.get("version"):
            raise SourceError("not an RSS or Atom feed")
        return []
    if parsed.get("bozo"):
        log.info("%s: feed read despite %s", base_url, parsed.get("bozo_exception"))
    out: list[Found] = []
    for entry in entries[:max_items]:
        link = _link(entry)
        if not link:
            continue
        title = entry.get("title")
        out.append(Found(urljoin(base_url, link.strip()), _date(entry), str(title).strip() if title else None,
                         _date(entry, ("updated_parsed", "published_parsed", "created_parsed"))))
    return out
