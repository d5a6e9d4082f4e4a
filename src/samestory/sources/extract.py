"""A fetched article page to a record for the corpus: decoded (whatever its charset claims),
extracted once with trafilatura (title, text, date, language), its date falling back on what
the feed or sitemap said, and the canonical URL it names for itself (courlan's normal form)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from samestory.ingest.archives import decode_page, head_meta, page_record
from samestory.sources.canonical import canonical_url
from samestory.sources.client import Fetched
from samestory.types import InputError

log = logging.getLogger(__name__)
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass(frozen=True)
class Page:
    """What became of one page: a ``record`` for the corpus, or a ``status`` (``skipped`` or
    ``error``) with its ``reason``; ``retry``: the failure may pass; ``canonical``: the
    canonical URL the page names for itself; ``notes``: what the report should say besides;
    ``unchanged``: a 304 to a conditional request (nothing to store); ``validators``: the
    ETag and Last-Modified of a response that gave a record (else None)."""

    record: dict[str, Any] | None = None
    status: str = ""
    reason: str | None = None
    retry: bool = False
    canonical: str | None = None
    notes: tuple[str, ...] = ()
    unchanged: bool = False
    validators: tuple[str | None, str | None] | None = None


def page_of(fetched: Fetched, url: str, date: str | None, title: str | None, max_bytes: int,
            conditional: bool = False) -> Page:
    """The record for ``url`` (its canonical form, also the record's id) from ``fetched``, or why
    there is none. ``date`` and ``title`` are the source's, used where the page has none.
    ``conditional``: ``fetched`` answers a conditional request, so a 304 says the page is
    unchanged (to any other request it is an error)."""
    if fetched.refused:
        return Page(status="skipped", reason=fetched.error)
    if fetched.error:
        return Page(status="error", reason=fetched.error, retry=fetched.transient)
    if fetched.not_modified:
        if conditional:
            return Page(status="exists", reason="unchanged", unchanged=True)
        return Page(status="error", reason="HTTP 304 (not modified) to a request that asked for the page")
    mime = fetched.content_type.split(";")[0].strip().lower()
    if mime not in _HTML_TYPES:
        return Page(status="skipped", reason=f"not an HTML page ({mime})")
    html = decode_page(fetched.body, fetched.charset)
    try:
        record = page_record(html, url, fallback_date=date, fallback_title=title)
    except InputError as exc:
        return Page(status="error", reason=str(exc))
    notes: tuple[str, ...] = ()
    if fetched.truncated:
        cut = (fetched.total_bytes or max_bytes + 1) - max_bytes
        record["_truncated_bytes"] = max(1, cut)
        notes = (f"the page was cut at {max_bytes:,} bytes",)
    named, _ = head_meta(html)
    canonical = canonical_url(urljoin(fetched.final_url or url, named)) if named else None
    return Page(record, canonical=canonical if canonical != url else None, notes=notes,
                validators=(fetched.etag, fetched.last_modified))
