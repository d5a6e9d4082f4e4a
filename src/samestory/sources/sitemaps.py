"""Sitemaps, news sitemaps and sitemap indexes, read with defusedxml (no entities, no DTDs)."""
from __future__ import annotations

import logging
import zlib
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from samestory.sources.items import Found, SourceError, refuse_entities

log = logging.getLogger(__name__)


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """``body`` decompressed if it is gzip (a ``.xml.gz`` sitemap), at most ``max_bytes``.
    Raises ``SourceError`` past that size or for a broken gzip stream."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes)
    except zlib.error as exc:
        raise SourceError(f"broken gzip data ({exc})") from None
    if inflater.unconsumed_tail:
        raise SourceError(f"over {max_bytes:,} bytes once decompressed; refused")
    return out


def _local(tag: object) -> str:
    return str(tag).rpartition("}")[2].lower()


def _child_text(node: Element, *path: str) -> str | None:
    """The text of the first descendant along ``path`` (local names, any namespace)."""
    here: Element | None = node
    for name in path:
        here = next((c for c in (here if here is not None else ()) if _local(c.tag) == name), None)
    text = here.text if here is not None else None
    return text.strip() if text and text.strip() else None


def parse_sitemap(body: bytes, base_url: str, max_items: int, max_bytes: int) -> tuple[list[Found], list[str]]:
    """The pages a sitemap lists, and the sitemaps a sitemap index lists.

    A news sitemap's ``news:publication_date`` and ``news:title`` (else ``lastmod``) come
    with each page, and ``lastmod`` (else the publication date) as when it last changed. At
    most ``max_items`` entries are taken; the rest are logged as left out.

    Returns:
        (pages, child sitemaps): one of them is empty.

    Raises:
        SourceError: malformed XML, entity or DTD declarations, a root that is neither
            ``urlset`` nor ``sitemapindex``, or gzip data over ``max_bytes``.
    """
    body = gunzip(body, max_bytes)
    refuse_entities(body, "the sitemap")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SourceError(f"the sitemap declares a DTD or entities ({type(exc).__name__}); refused") from None
    except ParseError as exc:
        raise SourceError(f"malformed sitemap XML ({exc})") from None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SourceError(f"not a sitemap (its root element is <{kind}>)")
    pages: list[Found] = []
    children: list[str] = []
    entries = [e for e in root if _local(e.tag) in ("url", "sitemap")]
    if len(entries) > max_items:
        log.warning("%s: %d entries; the first %d are read", base_url, len(entries), max_items)
    for entry in entries[:max_items]:
        loc = _child_text(entry, "loc")
        if not loc:
            continue
        if kind == "sitemapindex":
            children.append(urljoin(base_url, loc))
            continue
        published, lastmod = _child_text(entry, "news", "publication_date"), _child_text(entry, "lastmod")
        pages.append(Found(urljoin(base_url, loc), published or lastmod, _child_text(entry, "news", "title"),
                           lastmod or published))
    return pages, children
