"""samestory follow against local outlets (threaded HTTP servers on loopback ports, started by
the tests): feeds, sitemaps, home pages, canonical URLs, politeness from the servers' own
logs, conditional GETs, the same stories as ``index add``, kill -9 and signals."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from follow_fixtures import Outlet, fictional_articles, gaps, page_html, stories_articles

from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.sources import FollowSettings, follow
from samestory.sources.canonical import canonical_url

ROOT = Path(__file__).resolve().parents[1]
FAST = FollowSettings(host_delay=0.05, page_deadline=10, read_timeout=5, connect_timeout=2)


@pytest.fixture
def outlets(shared):
    stories = stories_articles(shared / "multilingual_stories" / "dev.csv", 24)
    made = [Outlet("Alpha", stories[0::3]), Outlet("Beta", stories[1::3]), Outlet("Gamma", stories[2::3])]
    yield made
    for o in made:
        o.close()


def _corpus(db: Path) -> Corpus:
    return Corpus(db, encoder=load_encoder("hashing"), progress=False)


def _run(db: Path, sources: list[str], settings: FollowSettings = FAST, **kw) -> tuple[list[dict], object]:
    lines: list[dict] = []
    corpus = _corpus(db)
    try:
        summary = follow(sources, corpus, settings, once=True, report_sink=lines.append, **kw)
    finally:
        corpus.close()
    return lines, summary


def _urls(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["type"] == "url"]


def test_follow_once_adds_each_article_once_from_feeds_sitemaps_and_home_pages(tmp_path, outlets):
    alpha, beta, gamma = outlets
    # Alpha by its feed and its sitemap (the same pages spelled with tracking parameters, /amp/ and
    # trailing slashes), Beta by its sitemap, Gamma by its home page (its feed discovered).
    sources = tmp_path / "sources.txt"
    sources.write_text(f"# outlets\n{alpha.base}/feed.xml\n{alpha.base}/sitemap.xml  # same pages\n"
                       f"{beta.base}/sitemap.xml\n\n{gamma.base}/\n")
    lines, summary = _run(tmp_path / "news.db", [str(sources)], FollowSettings(host_delay=0.2, read_timeout=5))
    urls = _urls(lines)
    expected = {canonical_url(f"{o.base}/news/{a.slug}") for o in outlets for a in o.articles}
    assert Counter(line["url"] for line in urls) == Counter(expected)        # every URL reported exactly once
    assert {line["status"] for line in urls} <= {"added", "exists"}, [line for line in urls if "error" in line]
    assert summary.to_dict()["added"] >= len(expected) - 2      # (two outlets may carry the very same text)
    for o in outlets:      # each page fetched once, whatever the spellings; no host hit faster than its delay
        pages = Counter(r.path.removeprefix("/amp").rstrip("/") for r in o.hits("/news/") + o.hits("/amp/"))
        assert set(pages.values()) == {1}, pages
        assert min(gaps(o.log)) >= 0.2 * 0.98, gaps(o.log)
    with sqlite3.connect(tmp_path / "news.db") as db:
        stored = Counter(url for (url,) in db.execute("SELECT url FROM articles"))
        health = {url: (kind, status) for url, kind, status in db.execute("SELECT url, kind, status FROM sources")}
    assert set(stored.values()) == {1} and set(stored) <= expected
    assert health[f"{gamma.base}/"] == ("home", "ok") and health[f"{gamma.base}/feed.xml"] == ("feed", "ok")
    dated = [line for line in urls if line["status"] == "added"]
    assert dated and all(line["story"] is not None for line in dated)


def test_an_unchanged_feed_repolled_costs_one_conditional_request(tmp_path, outlets):
    alpha = outlets[0]
    db = tmp_path / "news.db"
    _run(db, [f"{alpha.base}/feed.xml"])
    first = len(alpha.log)
    lines, summary = _run(db, [f"{alpha.base}/feed.xml"])
    again = [r for r in alpha.log[first:] if r.path != "/robots.txt"]       # a new process reads robots.txt anew
    assert [(r.path, r.status) for r in again] == [("/feed.xml", 304)]
    assert again[0].headers.get("if-none-match")
    assert [line["status"] for line in lines] == ["not_modified"] and summary.to_dict()["added"] == 0


def test_a_known_url_is_not_fetched_again_in_another_spelling(tmp_path, outlets):
    alpha = outlets[0]
    db = tmp_path / "news.db"
    _run(db, [f"{alpha.base}/feed.xml"])
    pages_before = len(alpha.hits("/news/"))
    lines, _ = _run(db, [f"{alpha.base}/sitemap.xml"])       # /amp/ variants and trailing slashes of the same pages
    assert len(alpha.hits("/news/")) == pages_before and not alpha.hits("/amp/")
    assert {line["status"] for line in _urls(lines)} == {"skipped"}
    assert all("already followed (added" in line["reason"] for line in _urls(lines))


def test_follow_gives_the_same_stories_as_index_add_of_the_same_pages(tmp_path, outlets):
    sources = [f"{o.base}/feed.xml" for o in outlets]
    _lines, _ = _run(tmp_path / "followed.db", sources, FollowSettings(host_delay=0.0))
    folder = tmp_path / "pages"
    folder.mkdir()
    for o in outlets:
        for a in o.articles:
            (folder / f"{o.name}-{a.slug}.html").write_text(page_html(a, o.name), encoding="utf-8")
    from samestory.ingest import iter_records

    files = _corpus(tmp_path / "files.db")
    files.add(iter_records([folder]))
    files.close()
    from sklearn.metrics import adjusted_rand_score

    def memberships(db: Path) -> dict[str, int]:
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT id, story FROM articles"))

    followed, indexed = memberships(tmp_path / "followed.db"), memberships(tmp_path / "files.db")
    assert set(followed) == set(indexed) and len(followed) >= 20      # the very same texts, extracted once each
    ids = sorted(followed)
    assert adjusted_rand_score([followed[i] for i in ids], [indexed[i] for i in ids]) >= 0.99


def test_follow_with_the_real_default_encoder(tmp_path):
    outlet = Outlet("Delta", fictional_articles("delta", 3))
    try:
        corpus = Corpus(tmp_path / "news.db", progress=False)
        lines: list[dict] = []
        follow([f"{outlet.base}/feed.xml"], corpus, FAST, once=True, report_sink=lines.append)
        corpus.close()
    finally:
        outlet.close()
    assert [line["status"] for line in _urls(lines)] == ["added"] * 3
    assert corpus.store.path.exists()


_SCRIPT = """
import json, sys
from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.sources import FollowSettings, follow
db, report, once, delay, *sources = sys.argv[1:]
out = open(report, "a", buffering=1)
corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False)
summary = follow(sources, corpus, FollowSettings(host_delay=float(delay), batch_size=2, every=60),
                 once=once == "once", report_sink=lambda line: out.write(json.dumps(line) + "\\n"))
corpus.close()
print(json.dumps(summary.to_dict()))
"""


def _follow_process(db: Path, report: Path, once: bool, delay: float, sources: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-c", _SCRIPT, str(db), str(report), "once" if once else "loop",
                             str(delay), *sources], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _wait_for(what, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_kill_9_during_a_round_then_the_same_command_stores_each_url_once(tmp_path):
    outlet = Outlet("Epsilon", fictional_articles("eps", 12))
    db, report = tmp_path / "news.db", tmp_path / "report.jsonl"
    sources = [f"{outlet.base}/feed.xml"]
    try:
        proc = _follow_process(db, report, True, 0.15, sources)
        _wait_for(lambda: _stored(db) >= 3 or proc.poll() is not None)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed_at = _stored(db)
        assert 3 <= killed_at < 12
        again = _follow_process(db, report, True, 0.0, sources)
        _out, err = again.communicate(timeout=120)
        assert again.returncode == 0, err
    finally:
        outlet.close()
    with sqlite3.connect(db) as conn:
        urls = Counter(url for (url,) in conn.execute("SELECT url FROM articles"))
        states = Counter(status for (status,) in conn.execute("SELECT status FROM urls"))
    expected = {canonical_url(f"{outlet.base}/news/{a.slug}") for a in outlet.articles}
    assert set(urls) == expected and set(urls.values()) == {1}       # none lost, none twice
    assert set(states) <= {"added", "exists"} and sum(states.values()) == 12
    second = [json.loads(line) for line in report.read_text().splitlines()][-1]
    assert second["round"] == 1


def test_sigterm_and_sigint_end_the_loop_between_batches(tmp_path):
    outlet = Outlet("Zeta", fictional_articles("zeta", 10))
    db, report = tmp_path / "news.db", tmp_path / "report.jsonl"
    try:
        proc = _follow_process(db, report, False, 0.3, [f"{outlet.base}/feed.xml"])
        _wait_for(lambda: _stored(db) >= 2 or proc.poll() is not None)
        proc.send_signal(signal.SIGINT)        # mid-round: the batch in progress ends, the rest stays pending
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        summary = json.loads(out.splitlines()[-1])
        assert summary["stopped"] and summary["rounds"] == 1
        lines = [json.loads(line) for line in report.read_text().splitlines() if '"url"' in line]
        assert Counter(line["url"] for line in lines if line["type"] == "url").most_common(1)[0][1] == 1
        left = [line for line in lines if line.get("status") == "skipped"]
        assert left and all("still pending" in line["reason"] for line in left)
        assert summary["added"] + len(left) == 10

        proc = _follow_process(db, report, False, 0.0, [f"{outlet.base}/feed.xml"])      # the loop: round, then wait
        _wait_for(lambda: _stored(db) == 10 or proc.poll() is not None)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert json.loads(out.splitlines()[-1])["stopped"]
    finally:
        outlet.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT url) FROM articles").fetchone() == (10, 10)


def test_sources_health_over_http(tmp_path, outlets):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from samestory.service.sources import make_router

    alpha = outlets[0]
    db = tmp_path / "news.db"
    app = FastAPI()
    app.include_router(make_router(db))
    client = TestClient(app)
    assert client.get("/sources").json() == {"sources": []}          # no index yet
    _run(db, [f"{alpha.base}/feed.xml", f"{alpha.base}/missing.xml"])
    rows = {row["url"]: row for row in client.get("/sources").json()["sources"]}
    feed, missing = rows[f"{alpha.base}/feed.xml"], rows[f"{alpha.base}/missing.xml"]
    assert feed["status"] == "ok" and feed["articles"] == len(alpha.articles) and feed["urls"] == {"added": 8}
    assert feed["etag"] and feed["last_fetch"].endswith("+00:00")
    assert missing["status"] == "error" and missing["errors_in_row"] == 1 and "404" in missing["last_error"]
    page = client.get("/ui/sources")
    assert page.status_code == 200 and "HTTP 404" in page.text and f"{alpha.base}/feed.xml" in page.text


def test_the_background_follower_polls_until_stopped_under_the_services_lock(tmp_path):
    import threading

    from samestory.sources.background import BackgroundFollower

    outlet = Outlet("Eta", fictional_articles("eta", 4))
    corpus = _corpus(tmp_path / "news.db")
    lock = threading.RLock()
    held: list[bool] = []

    class Guard:
        def __enter__(self):
            lock.acquire()
            held.append(True)

        def __exit__(self, *exc):
            lock.release()

    lines: list[dict] = []
    follower = BackgroundFollower([f"{outlet.base}/feed.xml"], corpus,
                                  FollowSettings(host_delay=0.0, every=0.3), guard=Guard, report_sink=lines.append)
    try:
        follower.start()
        _wait_for(lambda: len(outlet.hits("/feed.xml")) >= 3, timeout=30)      # several rounds
        with lock:                 # while the service holds its lock, the follower writes nothing
            stored = corpus.store.count()
            time.sleep(0.5)
            assert corpus.store.count() == stored
        assert follower.stop(timeout=10) and not follower.running
    finally:
        outlet.close()
    assert follower.error is None and follower.summary.rounds >= 3 and follower.summary.to_dict()["added"] == 4
    assert [r.status for r in outlet.hits("/feed.xml")][1:] == [304] * (len(outlet.hits("/feed.xml")) - 1)
    assert held
    corpus.close()


def test_the_follow_command_reports_each_url_once(tmp_path):
    outlet = Outlet("Zeta", fictional_articles("zeta", 3))
    report = tmp_path / "follow.jsonl"
    try:
        proc = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "follow", f"{outlet.base}/feed.xml",
                               "--db", str(tmp_path / "news.db"), "--once", "--host-delay", "0.05",
                               "--report", str(report), "--format", "json"],
                              capture_output=True, text=True, timeout=300)
    finally:
        outlet.close()
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    urls = _urls(lines)
    assert [line["status"] for line in urls] == ["added"] * 3 and len({line["url"] for line in urls}) == 3
    assert json.loads(proc.stdout.strip().splitlines()[-1])


def test_serve_follow_fills_the_index_and_shows_the_sources(tmp_path):
    from fastapi.testclient import TestClient

    from samestory.service.app import ServiceSettings, create_app

    outlet = Outlet("Eta", fictional_articles("eta", 2))
    try:
        app = create_app(ServiceSettings(db=str(tmp_path / "news.db"), follow=(f"{outlet.base}/feed.xml",)))
        with TestClient(app, base_url="http://127.0.0.1") as client:
            _wait_for(lambda: client.get("/healthz").json()["articles"] == 2, timeout=120)
            sources = client.get("/sources").json()["sources"]
            assert len(sources) == 1 and sources[0]["url"].endswith("/feed.xml")
            assert client.get("/ui/sources").status_code == 200
            assert client.get("/stories").json()["stories"]
    finally:
        outlet.close()
