"""The polite, bounded HTTP client of ``samestory follow``.

Polite: robots.txt is read once per host (kept for ``robots_ttl``, a day) and obeyed,
with its Crawl-delay; a host gets one request at a time, and the next one no sooner than
``host_delay`` seconds after the last one ended; 429 and 503 are answered by waiting
(Retry-After, else a doubling pause) before a bounded number of retries; feeds are asked
for with ``If-None-Match`` / ``If-Modified-Since``, so an unchanged one costs a 304.

Bounded: connect and read timeouts, a total deadline per response (a page that drips a
byte a second ends there), at most ``max_bytes`` read (after decompression; the rest is
cut and the result says so), at most ``max_redirects`` redirects, and a redirect loop is
named as one. Nothing here raises for a bad host or page: every call returns a ``Fetched``
whose ``error`` says why, and whether the failure may pass (``transient``).
"""
from __future__ import annotations

import email.utils
import logging
import threading
import time
import urllib.robotparser
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urljoin, urlsplit

import httpx

from samestory.sources.canonical import host_of
from samestory.sources.settings import DEFAULT_SETTINGS, FollowSettings

log = logging.getLogger(__name__)

_REDIRECTS = (301, 302, 303, 307, 308)
_ROBOTS_MAX_BYTES = 512_000
#: How long a host whose robots.txt could not be reached (or answered 5xx) is left alone.
_ROBOTS_RETRY_SECONDS = 300.0
_ACCEPT = "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5"


@dataclass
class Fetched:
    """One response, or why there is none.

    ``error`` is None for a usable answer (2xx with a body, or a 304 to a conditional
    request); ``transient`` marks failures worth trying again later (network, timeouts,
    429, 5xx); ``refused`` marks a URL that robots.txt disallows; ``truncated`` a body cut
    at ``max_bytes`` (``total_bytes``: its declared length, when the server said it)."""

    url: str
    final_url: str = ""
    status: int = 0
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    total_bytes: int | None = None
    truncated: bool = False
    error: str | None = None
    transient: bool = False
    refused: bool = False
    location: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type header declares, if any."""
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("'\"")
        return None


@dataclass
class _Host:
    """One host's turn (host and port): one request at a time, the next not before ``next_at``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    next_at: float = 0.0
    delay: float = 0.0


@dataclass
class _Robots:
    """One origin's robots.txt (scheme, host and port), or why it could not be read, until ``until``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    rules: urllib.robotparser.RobotFileParser | None = None
    problem: str | None = None
    until: float = 0.0


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number, or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe(exc: Exception, settings: FollowSettings) -> str:
    """One line that says why a request failed."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect: no answer within {settings.connect_timeout:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"the server sent nothing for {settings.read_timeout:g} s (read timeout)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc or 'connection failed'})"
    if isinstance(exc, httpx.DecodingError):
        return f"the response's compression is broken ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"broken HTTP response ({exc})"
    return f"request failed ({type(exc).__name__}: {exc})"


class PoliteClient:
    """Fetches pages politely and within bounds (see the module's docstring); safe to share
    between threads. ``stop``, when set, ends waits and reads early (the result says so)."""

    def __init__(self, settings: FollowSettings = DEFAULT_SETTINGS, stop: threading.Event | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.stop = stop or threading.Event()
        self.requests = 0
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, _Robots] = {}
        self._lock = threading.Lock()
        timeout = httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                                write=settings.read_timeout, pool=settings.page_deadline)
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport,
                                  headers={"User-Agent": settings.user_agent, "Accept": _ACCEPT},
                                  limits=httpx.Limits(max_connections=max(4, 2 * settings.concurrency)))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _host(self, url: str) -> _Host:
        key = host_of(url)
        with self._lock:
            if key not in self._hosts:
                self._hosts[key] = _Host(delay=self.settings.host_delay)
            return self._hosts[key]

    # -- one request -------------------------------------------------------
    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET ``url`` (redirects followed, robots.txt asked at each host), conditionally when
        ``etag`` or ``last_modified`` is given. Never raises for the network or the page."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen: set[str] = set()
        current = url
        for _ in range(self.settings.max_redirects + 1):
            if urlsplit(current).scheme not in ("http", "https") or not host_of(current):
                return Fetched(url, current, error=f"not an http(s) URL: {current[:200]}")
            problem, transient = self._robots_problem(current)
            if problem:
                return Fetched(url, current, error=problem, transient=transient, refused=not transient)
            result = self._with_retries(current, headers)
            if result.status in _REDIRECTS and result.location and result.error is None:
                seen.add(current)
                current = urljoin(current, result.location)
                if current in seen:
                    return Fetched(url, current, error=f"redirect loop (back to {current[:200]})")
                continue
            result.url, result.final_url = url, current
            return result
        return Fetched(url, current, error=f"more than {self.settings.max_redirects} redirects")

    def _with_retries(self, url: str, headers: dict[str, str]) -> Fetched:
        s = self.settings
        for attempt in range(s.retries + 1):
            result, wait = self._once(url, headers)
            if result.status not in (429, 503):
                return result
            if wait is None:
                wait = max(1.0, s.host_delay) * 2 ** attempt
            result.transient = True
            if wait > s.max_retry_after:
                result.error = f"HTTP {result.status}; Retry-After {wait:g} s is longer than the {s.max_retry_after:g} s waited"
                return result
            if attempt == s.retries:
                result.error = f"HTTP {result.status} {s.retries + 1} times (last Retry-After {wait:g} s)"
                return result
            host = self._host(url)
            host.next_at = max(host.next_at, time.monotonic() + wait)
            log.info("%s: HTTP %s, trying again in %.1f s", url, result.status, wait)
        raise AssertionError("unreachable")     # pragma: no cover

    def _wait(self, until: float) -> bool:
        """Sleep until ``until`` (monotonic); False if ``stop`` was set meanwhile."""
        pause = until - time.monotonic()
        return not (self.stop.wait(pause) if pause > 0 else self.stop.is_set())

    def _once(self, url: str, headers: dict[str, str], limit: int | None = None) -> tuple[Fetched, float | None]:
        """One request within the host's turn: (the result, the Retry-After it asked for)."""
        host = self._host(url)
        with host.lock:
            if not self._wait(host.next_at):
                return Fetched(url, url, error="stopped before it was fetched", transient=True), None
            try:
                self.requests += 1
                start = time.monotonic()
                with self._http.stream("GET", url, headers=headers) as response:
                    return self._read(url, response, start, limit), retry_after(response.headers.get("retry-after"))
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                return Fetched(url, url, error=describe(exc, self.settings), transient=True), None
            finally:
                host.next_at = time.monotonic() + host.delay

    def _read(self, url: str, response: httpx.Response, start: float, limit: int | None) -> Fetched:
        h = response.headers
        result = Fetched(url, url, response.status_code, content_type=h.get("content-type", ""),
                         etag=h.get("etag"), last_modified=h.get("last-modified"), location=h.get("location"))
        declared = h.get("content-length", "")
        result.total_bytes = int(declared) if declared.isdigit() else None
        status = response.status_code
        if status == 304 or status in _REDIRECTS or status in (429, 503):
            return result
        if status >= 400:
            result.error = f"HTTP {status} {response.reason_phrase}".strip()
            result.transient = status >= 500 or status == 408
            return result
        limit = self.settings.max_bytes if limit is None else limit
        deadline = start + self.settings.page_deadline
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            room = limit - size
            if len(chunk) > room:
                chunks.append(chunk[:room])
                size = limit
                result.truncated = True
                break
            chunks.append(chunk)
            size += len(chunk)
            if self.stop.is_set():
                result.error, result.transient = "stopped while it was read", True
                break
            if time.monotonic() > deadline:
                result.error = (f"the response took longer than the {self.settings.page_deadline:g}-second "
                                f"deadline ({size:,} bytes had come)")
                result.transient = True
                break
        result.body = b"".join(chunks)
        return result

    # -- robots.txt ----------------------------------------------------------
    def _robots_problem(self, url: str) -> tuple[str | None, bool]:
        """(why ``url`` may not be fetched, whether that may pass), or (None, False)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            robots = self._robots.setdefault(origin, _Robots())
        with robots.lock:
            if time.monotonic() >= robots.until:
                self._load_robots(origin, robots)
        if robots.problem:
            return robots.problem, True
        if robots.rules is not None and not robots.rules.can_fetch(self.settings.user_agent, url):
            return f"robots.txt of {host_of(url)} disallows it", False
        return None, False

    def _load_robots(self, origin: str, robots: _Robots) -> None:
        robots_url = f"{origin}/robots.txt"
        fetched, _ = self._once(robots_url, {}, _ROBOTS_MAX_BYTES)
        now = time.monotonic()
        rules = urllib.robotparser.RobotFileParser(robots_url)
        robots.problem = None
        robots.until = now + self.settings.robots_ttl
        if fetched.error and fetched.status == 0:
            robots.problem = f"host unreachable: {fetched.error}"
            robots.until = now + _ROBOTS_RETRY_SECONDS
            rules.parse(["User-agent: *", "Disallow: /"])
        elif fetched.status >= 500 or fetched.status == 429:
            # As search engines do: a robots.txt that errs closes the host until it answers.
            robots.problem = f"robots.txt answered HTTP {fetched.status}; the host is left alone for now"
            robots.until = now + _ROBOTS_RETRY_SECONDS
            rules.parse(["User-agent: *", "Disallow: /"])
        elif 200 <= fetched.status < 300:
            rules.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
            delay = rules.crawl_delay(self.settings.user_agent)
            if delay is not None:
                self._host(robots_url).delay = min(max(self.settings.host_delay, float(delay)),
                                                   self.settings.max_host_delay)
        else:       # 3xx, 4xx: no robots.txt, nothing is disallowed
            rules.parse([])
        rules.modified()
        robots.rules = rules
