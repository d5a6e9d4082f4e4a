"""How politely and how far ``samestory follow`` reaches: one frozen settings object."""
from __future__ import annotations

import re
from dataclasses import dataclass

from samestory import __version__

#: Names samestory and where to read about it, as crawler etiquette asks (a site that wants
#: it to stop can say so in robots.txt under this name).
DEFAULT_USER_AGENT = f"samestory/{__version__} (news story follower; polite: robots.txt, one request per host at a time)"


@dataclass(frozen=True)
class FollowSettings:
    """What one ``follow`` run may do.

    Attributes:
        every: seconds between rounds when not ``--once`` (default 10 minutes).
        host_delay: at least this many seconds between the end of one request to a host and
            the start of the next (robots.txt's Crawl-delay raises it, up to ``max_host_delay``).
        concurrency: hosts fetched at the same time (each host is always fetched one request at a time).
        user_agent: the User-Agent header, also the name looked up in robots.txt.
        connect_timeout, read_timeout: seconds to connect, and to wait for the next bytes of a response.
        page_deadline: seconds one response may take in all (a page that drips a byte a second ends here).
        max_bytes: bytes read of one response (after decompression); the rest is cut and reported.
        max_redirects: redirects followed per request.
        retries: extra tries of one request answered 429 or 503 (after Retry-After, or a doubling pause).
        max_retry_after: a Retry-After longer than this is not waited for: the request fails for now.
        robots_ttl: seconds a host's robots.txt is kept before it is read again (a day).
        max_items: article links taken from one feed or sitemap; a feed with more is refused.
        max_sitemap_depth: sitemap indexes followed this deep.
        max_sitemaps: sitemaps (index children included) read per source and round.
        max_pages: article pages fetched per round (the rest wait, stored as pending, for the next).
        batch_size: pages written to the index per transaction (the loop stops only between batches).
        url_tries: tries of a page that failed for a passing reason (a timeout, 503) before it is given up.
        retry_base: seconds before a failed page's first retry; each further retry waits twice as long.
    """

    every: float = 600.0
    host_delay: float = 1.0
    concurrency: int = 8
    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    page_deadline: float = 60.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    retries: int = 2
    max_retry_after: float = 120.0
    max_host_delay: float = 30.0
    robots_ttl: float = 86_400.0
    max_items: int = 5_000
    max_sitemap_depth: int = 3
    max_sitemaps: int = 50
    max_pages: int = 2_000
    batch_size: int = 32
    url_tries: int = 3
    retry_base: float = 600.0


#: The defaults, as one shared (frozen) object.
DEFAULT_SETTINGS = FollowSettings()


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?", re.IGNORECASE)
_UNIT = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def duration(value: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"10m"``, ``"1.5h"`` or ``"1d"`` (``--every``).

    Raises:
        ValueError: anything else, or a duration of 0.
    """
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration (e.g. 90s, 10m, 1h)")
    seconds = float(match.group(1)) * _UNIT[(match.group(2) or "").lower()]
    if seconds <= 0:
        raise ValueError(f"{value!r}: the duration must be more than 0")
    return seconds
