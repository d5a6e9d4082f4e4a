"""Bad sources and bad pages each end in a reported error (or skip) for that source or URL,
and the run goes on: one follow round over a good outlet and a hostile one (404/410, a feed
that is HTML, malformed XML, an XML bomb, a drip-fed page, a huge page, a gzip bomb, a
redirect loop, wrong and missing charsets, 429/503 with Retry-After, a bot check, a PDF),
an outlet whose robots.txt disallows everything, and a host that is not there."""
from __future__ import annotations

import gzip
import socket
import sqlite3
import time
from collections import Counter

import pytest
from follow_fixtures import Outlet, drip, endless, fictional_articles, page_html, rss

from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.sources import FollowSettings, follow
from samestory.sources.canonical import canonical_url

SETTINGS = FollowSettings(host_delay=0.05, page_deadline=1.5, read_timeout=3, connect_timeout=2, max_bytes=300_000)
_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
         + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
         + b']><rss version="2.0"><channel><item><title>&lol9;</title><link>/x</link></item></channel></rss>')
_ZURICH = ("<!doctype html><html lang='de'><head><title>Zürich baut</title></head><body><article><h1>Zürich baut</h1>"
           + "<p>Die Stadt Zürich baut eine neue Brücke über die Limmat, für das Café am Ufer ein Gewinn.</p>" * 6
           + "</article></body></html>")


def _once(answers: list[tuple[int, dict, bytes]]):
    """A route that gives each answer in turn, then the last one for ever."""
    def route(r):
        return answers.pop(0) if len(answers) > 1 else answers[0]
    return route


def _hostile() -> Outlet:
    o = Outlet("Hostile", fictional_articles("hos", 2))
    html_type = {"Content-Type": "text/html; charset=utf-8"}
    article, other = (page_html(fictional_articles(name, 1)[0], "Hostile").encode() for name in ("busy", "back"))
    o.routes.update({
        "/gone": lambda r: (410, {}, b"gone"),
        "/html-feed.xml": lambda r: (200, html_type, b"<!doctype html><html><body><p>Log in</p></body></html>"),
        "/broken.xml": lambda r: (200, {"Content-Type": "application/rss+xml"},
                                  b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti<<<&&&'),
        "/bomb.xml": lambda r: (200, {"Content-Type": "application/rss+xml"}, _BOMB),
        "/bomb-sitemap.xml": lambda r: (200, {"Content-Type": "application/xml"},
                                        _BOMB.replace(b"<rss", b"<urlset").replace(b"</rss>", b"</urlset>")),
        "/drip": lambda r: (200, html_type, drip(0.1, 20)),
        "/huge": lambda r: (200, html_type, endless(20_000_000)),
        "/zipbomb": lambda r: (200, {**html_type, "Content-Encoding": "gzip"}, gzip.compress(b" " * 30_000_000)),
        "/loop-a": lambda r: (302, {"Location": "/loop-b"}, b""),
        "/loop-b": lambda r: (302, {"Location": "/loop-a"}, b""),
        "/wrong-charset": lambda r: (200, html_type, _ZURICH.replace("Zürich baut eine", "Zürich plant eine").encode("cp1252")),
        "/no-charset": lambda r: (200, {"Content-Type": "text/html"}, _ZURICH.encode("cp1252")),
        "/busy": _once([(429, {"Retry-After": "1"}, b""), (200, html_type, article)]),
        "/unavailable": _once([(503, {"Retry-After": "1"}, b""), (200, html_type, other)]),
        "/always-503": lambda r: (503, {"Retry-After": "1"}, b""),
        "/botcheck": lambda r: (200, html_type, b"<html><body><p>Please verify you are a human: complete the "
                                                b"captcha to continue. Unusual traffic from your network.</p></body></html>"),
        "/report.pdf": lambda r: (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ..."),
    })
    links = ["/gone", "/missing", "/drip", "/huge", "/zipbomb", "/loop-a", "/wrong-charset", "/no-charset", "/busy",
             "/unavailable", "/always-503", "/botcheck", "/report.pdf", "/news/hos-0", "/news/hos-1"]
    body = rss((f"{o.base}{link}", link, "Mon, 03 Mar 2025 10:00:00 +0000") for link in links)
    o.routes["/hostile.xml"] = lambda r: (200, {"Content-Type": "application/rss+xml"}, body)
    return o


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One round over all of them, as one command would do it."""
    good = Outlet("Good", fictional_articles("good", 4))
    hostile = _hostile()
    closed = Outlet("Closed", fictional_articles("closed", 2), robots="User-agent: *\nDisallow: /\n")
    h = hostile.base
    sources = [f"{good.base}/feed.xml", f"{h}/hostile.xml", f"{h}/missing.xml", f"{h}/gone", f"{h}/html-feed.xml",
               f"{h}/broken.xml", f"{h}/bomb.xml", f"{h}/bomb-sitemap.xml", f"{closed.base}/feed.xml",
               f"http://127.0.0.1:{_closed_port()}/feed.xml", f"{h}/loop-a",
               f"https://127.0.0.1:{good.port}/tls.xml"]       # TLS to a plain HTTP server: a TLS error
    db = tmp_path_factory.mktemp("hostile") / "news.db"
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False)
    lines: list[dict] = []
    start = time.monotonic()
    try:
        summary = follow(sources, corpus, SETTINGS, once=True, report_sink=lines.append)
        corpus.close()
        yield {"lines": lines, "summary": summary, "good": good, "hostile": hostile, "closed": closed, "db": db,
               "seconds": time.monotonic() - start}
    finally:
        for o in (good, hostile, closed):
            o.close()


def _url(run, path: str) -> dict:
    [line] = [x for x in run["lines"] if x["type"] == "url" and x["url"] == canonical_url(run["hostile"].base + path)]
    return line


def _source(run, url: str) -> dict:
    [line] = [x for x in run["lines"] if x["type"] == "source" and x["source"] == url]
    return line


def test_every_url_is_reported_once_and_the_good_outlet_is_followed(hostile_run):
    urls = Counter(x["url"] for x in hostile_run["lines"] if x["type"] == "url")
    assert set(urls.values()) == {1}
    good = [x for x in hostile_run["lines"] if x["type"] == "url" and x["source"].startswith(hostile_run["good"].base)]
    assert [x["status"] for x in good] == ["added"] * 4
    assert _url(hostile_run, "/news/hos-0")["status"] == "added"


@pytest.mark.parametrize(("source", "reason"), [
    ("/missing.xml", "HTTP 404"), ("/gone", "HTTP 410"),
    ("/html-feed.xml", "served an HTML page"), ("/broken.xml", "malformed feed XML"),
    ("/bomb.xml", "XML bomb"), ("/bomb-sitemap.xml", "XML bomb"), ("/loop-a", "redirect loop"),
])
def test_a_bad_source_is_a_reported_error(hostile_run, source, reason):
    line = _source(hostile_run, hostile_run["hostile"].base + source)
    assert line["status"] == "error" and reason in line["error"], line


def test_an_unreachable_host_is_a_reported_error(hostile_run):
    [line] = [x for x in hostile_run["lines"] if x["type"] == "source" and "Connection refused" in (x.get("error") or "")]
    assert line["status"] == "error"


def test_a_tls_error_is_a_reported_error_for_that_origin_only(hostile_run):
    line = _source(hostile_run, f"https://127.0.0.1:{hostile_run['good'].port}/tls.xml")
    assert line["status"] == "error" and "SSL" in line["error"], line


def test_robots_txt_that_disallows_everything_is_obeyed(hostile_run):
    closed = hostile_run["closed"]
    line = _source(hostile_run, f"{closed.base}/feed.xml")
    assert line["status"] == "error" and "robots.txt" in line["error"]
    assert [r.path for r in closed.log] == ["/robots.txt"]


@pytest.mark.parametrize(("path", "status", "reason"), [
    ("/gone", "error", "HTTP 410"), ("/missing", "error", "HTTP 404"),
    ("/drip", "error", "deadline"), ("/loop-a", "error", "redirect loop"),
    ("/always-503", "error", "HTTP 503"), ("/botcheck", "error", "not an article (bot check page)"),
    ("/report.pdf", "skipped", "not an HTML page (application/pdf)"),
])
def test_a_bad_page_is_a_reported_error_or_skip(hostile_run, path, status, reason):
    line = _url(hostile_run, path)
    assert line["status"] == status and reason in line.get("error", line.get("reason", "")), line


def test_a_drip_fed_page_ends_at_the_deadline(hostile_run):
    log = hostile_run["hostile"].log
    [i] = [k for k, r in enumerate(log) if r.path == "/drip"]
    assert log[i + 1].at - log[i].at < SETTINGS.page_deadline + 1.0       # the host's next request came soon after
    assert "retry_at" in _url(hostile_run, "/drip")                     # a passing failure: tried again later


def test_a_huge_page_is_cut_at_max_bytes_and_a_gzip_bomb_is_bounded(hostile_run):
    huge = _url(hostile_run, "/huge")
    assert huge["status"] == "added" and "cut at 300,000 bytes" in huge["notes"][0]
    bomb = _url(hostile_run, "/zipbomb")
    assert bomb["status"] == "error"
    assert hostile_run["seconds"] < 40


def test_429_and_503_are_retried_after_retry_after(hostile_run):
    log = hostile_run["hostile"].log
    for path in ("/busy", "/unavailable"):
        tries = [r for r in log if r.path == path]
        assert [r.status for r in tries] == [tries[0].status, 200] and tries[0].status in (429, 503)
        assert tries[1].at - tries[0].at >= 1.0
        assert _url(hostile_run, path)["status"] == "added"
    assert "retry_at" in _url(hostile_run, "/always-503")        # a passing failure: tried again in a later round


def test_wrong_and_missing_charsets_are_read_right(hostile_run):
    with sqlite3.connect(hostile_run["db"]) as db:
        texts = {url: title + text for url, title, text in db.execute("SELECT url, title, text FROM articles")}
    h = hostile_run["hostile"].base
    assert "Zürich plant" in texts[f"{h}/wrong-charset"] and "Café" in texts[f"{h}/wrong-charset"]
    assert "Zürich baut" in texts[f"{h}/no-charset"]


def test_a_feed_of_100000_items_is_refused_as_a_source_error(tmp_path):
    o = Outlet("Flood")
    body = rss((f"/a/{i}", "", "") for i in range(100_000)).replace(b"<title></title>", b"").replace(b"<pubDate></pubDate>", b"")
    o.routes["/flood.xml"] = lambda r: (200, {"Content-Type": "application/rss+xml"}, body)
    corpus = Corpus(tmp_path / "news.db", encoder=load_encoder("hashing"), progress=False)
    lines: list[dict] = []
    try:
        start = time.monotonic()
        follow([f"{o.base}/flood.xml"], corpus, FollowSettings(host_delay=0), once=True, report_sink=lines.append)
        took = time.monotonic() - start
    finally:
        corpus.close()
        o.close()
    assert len(body) < 5_000_000 and took < 10
    [line] = lines
    assert line["status"] == "error" and "100,000 items" in line["error"]


def test_an_index_busy_with_another_writer_leaves_the_pages_pending(tmp_path):
    o = Outlet("Busy", fictional_articles("busyindex", 3))
    db = tmp_path / "news.db"
    other = Corpus(db, encoder=load_encoder("hashing"), progress=False)
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False, lock_timeout=0.2)
    lines: list[dict] = []
    try:
        with other.store.writer():           # another process's `index add`, say
            follow([f"{o.base}/feed.xml"], corpus, FollowSettings(host_delay=0), once=True, report_sink=lines.append)
        urls = [x for x in lines if x["type"] == "url"]
        assert len(urls) == 3 and all(x["status"] == "skipped" and "index was busy" in x["reason"] for x in urls)
        lines.clear()
        follow([f"{o.base}/feed.xml"], corpus, FollowSettings(host_delay=0), once=True, report_sink=lines.append)
    finally:
        corpus.close()
        other.close()
        o.close()
    assert [x["status"] for x in lines if x["type"] == "url"] == ["added"] * 3
    assert len(o.hits("/news/")) == 6         # fetched again: what was not stored was not lost
