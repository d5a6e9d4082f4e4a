"""Local "outlets" for the follow tests and the follow benchmark: each a threaded HTTP server
on its own loopback port, with a robots.txt, a home page, an RSS feed (with an ETag), a news
sitemap and article pages (headline, date, navigation debris), plus any hostile route a
test adds. Every request is logged with its time (``time.monotonic``), so a test can check
what was fetched and how often. Nothing here touches the internet."""
from __future__ import annotations

import csv
import html
import itertools
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

#: What a route answers: status, headers, and the body (bytes, or chunks sent as they come).
Answer = tuple[int, dict[str, str], bytes | Iterable[bytes]]
Route = Callable[["Request"], Answer]


@dataclass
class Request:
    at: float
    path: str
    query: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class Article:
    slug: str
    title: str
    text: str
    date: str
    lang: str = "en"
    story: str = ""


def page_html(a: Article, outlet: str, canonical: str | None = None) -> str:
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in a.text.split("\n") if p.strip())
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (f'<!doctype html><html lang="{a.lang}"><head><meta charset="utf-8"><title>{html.escape(a.title)} | '
            f'{outlet}</title>{link}<meta property="article:published_time" content="{a.date}">'
            f'<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>'
            f'<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>'
            f"<article><h1>{html.escape(a.title)}</h1><time datetime=\"{a.date}\">{a.date}</time>{paras}</article>"
            f"<aside>Share this: Facebook Twitter Email</aside><footer>© {outlet} All rights reserved</footer>"
            "</body></html>")


def rss(items: Iterable[tuple[str, str, str]], title: str = "News") -> bytes:
    """An RSS 2.0 feed of (link, headline, RFC 2822 date) items."""
    body = "".join(f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><pubDate>{d}</pubDate></item>"
                   for link, t, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>/</link><description>d</description>{body}</channel></rss>").encode()


def news_sitemap(items: Iterable[tuple[str, str]]) -> bytes:
    """A news sitemap of (loc, ISO date) entries."""
    body = "".join(f"<url><loc>{html.escape(loc)}</loc><news:news><news:publication_date>{d}</news:publication_date>"
                   "</news:news></url>" for loc, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>').encode()


class Outlet:
    """One fictional outlet on its own port. ``routes`` maps a path (no query) to a route;
    ``log`` holds every request, in order of arrival."""

    def __init__(self, name: str, articles: list[Article] = (), robots: str = "User-agent: *\nAllow: /\n"):
        self.name, self.articles, self.robots = name, list(articles), robots
        self.log: list[Request] = []
        self.routes: dict[str, Route] = {"/robots.txt": lambda r: (200, {"Content-Type": "text/plain"},
                                                                    self.robots.encode())}
        self.routes["/"] = self.home
        self.routes["/feed.xml"] = self.feed
        self.routes["/sitemap.xml"] = self.sitemap
        for a in self.articles:
            self.routes[f"/news/{a.slug}"] = self.page(a)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def hits(self, prefix: str = "") -> list[Request]:
        return [r for r in self.log if r.path.startswith(prefix)]

    def home(self, r: Request) -> Answer:
        body = (f'<!doctype html><html lang="en"><head><title>{self.name}</title><link rel="alternate" '
                f'type="application/rss+xml" title="RSS" href="/feed.xml"></head><body><h1>{self.name}</h1>'
                + "".join(f'<a href="/news/{a.slug}">{html.escape(a.title)}</a>' for a in self.articles)
                + "</body></html>")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode()

    def feed(self, r: Request) -> Answer:
        items = [(f"{self.base}/news/{a.slug}?utm_source=rss&utm_medium=feed", a.title,
                  format_datetime(datetime.fromisoformat(a.date))) for a in self.articles]
        body = rss(items, self.name)
        etag = f'"{zlib.crc32(body):x}"'
        if r.headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag}, body

    def sitemap(self, r: Request) -> Answer:
        # The same pages as the feed, spelled otherwise: a trailing slash, or the AMP variant.
        items = [(f"{self.base}/news/{a.slug}/" if i % 2 else f"{self.base}/amp/news/{a.slug}", a.date)
                 for i, a in enumerate(self.articles)]
        return 200, {"Content-Type": "application/xml"}, news_sitemap(items)

    def page(self, a: Article) -> Route:
        def route(r: Request) -> Answer:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page_html(a, self.name).encode()
        return route


def _handler(outlet: Outlet) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            request = Request(time.monotonic(), path, parts.query, {k.lower(): v for k, v in self.headers.items()})
            outlet.log.append(request)
            route = outlet.routes.get(path)
            if route is None and path.startswith("/amp/"):
                route = outlet.routes.get(path[4:])
            if route is None and path.endswith("/") and len(path) > 1:
                route = outlet.routes.get(path.rstrip("/"))
            status, headers, body = route(request) if route else (404, {"Content-Type": "text/html"},
                                                                  b"<html><body>404 Not Found</body></html>")
            request.status = status
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for chunk in body:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


def drip(step: float = 0.2, limit: float = 30.0) -> Iterator[bytes]:
    """A page that sends a byte every ``step`` seconds, for ``limit`` seconds at most."""
    yield b"<html><body><p>"
    end = time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(step)
        yield b"x"


def endless(total: int = 50_000_000) -> Iterator[bytes]:
    """A page of ``total`` bytes (an article, then padding paragraphs), sent in 64 KB chunks."""
    head = ('<!doctype html><html lang="en"><head><title>Huge page</title></head><body><article><h1>A huge page</h1>'
            + "<p>The council approved the budget for the new bridge after a long debate on Tuesday.</p>" * 20).encode()
    yield head
    sent = len(head)
    chunk = b"<p>padding padding padding padding padding padding padding padding.</p>" * 900
    while sent < total:
        yield chunk
        sent += len(chunk)


def stories_articles(csv_path: Path, n: int, langs: tuple[str, ...] = ("en", "de", "es", "fr", "it", "pl")) -> list[Article]:
    """``n`` articles rendered from the multilingual stories file (read at test time, never
    stored), whole stories first so that several outlets carry the same story."""
    with csv_path.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["lang"] in langs and len(r["text"].split()) > 60]
    by_story: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_story.setdefault(r["story"], []).append(r)
    ordered = [r for group in sorted(by_story.values(), key=len, reverse=True) for r in group][:n]
    start = datetime(2025, 3, 1, 8, tzinfo=UTC)
    out = []
    for i, r in enumerate(ordered):
        words = r["text"].split()
        title = " ".join(words[:10]).strip(" ,.;:")
        body = " ".join(words[10:])
        sentences = body.replace(". ", ".\n").split("\n")
        paras = [" ".join(sentences[k:k + 3]) for k in range(0, len(sentences), 3)]
        date = (start + timedelta(minutes=7 * i)).isoformat().replace("+00:00", "Z")
        out.append(Article(f"story-{r['id']}", title, "\n".join(paras), date,
                           r["lang"], r["story"]))
    return out


def fictional_articles(prefix: str, n: int) -> list[Article]:
    """``n`` short fictional English articles, each its own story."""
    topics = ["harbour", "railway", "orchard", "library", "glacier", "market", "stadium", "vineyard", "bridge", "canal"]
    out = []
    for i in range(n):
        t = topics[i % len(topics)]
        text = (f"The town council of {prefix.title()}ville voted on Monday to restore the old {t} number {i}. "
                f"Officials said the work on the {t} would start in spring and cost about {i + 3} million euros. "
                f"Residents who had campaigned for the {t} for years welcomed the decision at a public meeting. "
                f"The opposition warned that the {t} budget could grow, and asked for a yearly audit of the works.")
        date = (datetime(2025, 4, 1, 9, tzinfo=UTC) + timedelta(hours=i)).isoformat().replace("+00:00", "Z")
        out.append(Article(f"{prefix}-{i}", f"{prefix.title()}ville restores its {t} ({i})", text, date))
    return out


@dataclass
class Fleet:
    """Several outlets, closed together."""

    outlets: list[Outlet] = field(default_factory=list)

    def close(self) -> None:
        for o in self.outlets:
            o.close()


def gaps(requests: list[Request]) -> list[float]:
    """Seconds between consecutive requests."""
    times = sorted(r.at for r in requests)
    return [b - a for a, b in itertools.pairwise(times)]
