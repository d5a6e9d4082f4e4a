"""What reading a source yields: article links with what the source says of them, or why not."""
from __future__ import annotations

import re
from dataclasses import dataclass

#: The first element: what comes before it is the prolog, where a DOCTYPE declares entities.
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z]")
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


class SourceError(Exception):
    """A source that cannot be read: the message says why, in one line."""


@dataclass(frozen=True)
class Found:
    """One article link from a source, with the date and headline the source gives for it, and
    when the source says the page last changed (``modified``: a feed item's ``updated``, else its
    ``published``; a sitemap's ``lastmod``, else its publication date; a page's Last-Modified)."""

    url: str
    date: str | None = None
    title: str | None = None
    modified: str | None = None


def refuse_entities(body: bytes, what: str) -> None:
    """Raise ``SourceError`` if ``body``'s prolog declares XML entities: how XML bombs (billion
    laughs, external entities) begin, and nothing a feed or sitemap needs."""
    first = _FIRST_ELEMENT.search(body)
    if _ENTITY.search(body, 0, first.start() if first else len(body)):
        raise SourceError(f"{what} declares XML entities (a possible XML bomb); refused")
