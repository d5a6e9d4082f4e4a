"""Versions: an article whose text changed at the same URL (an update, a correction) is stored as
a new version that says which version it replaces, and its story keeps one entry per URL.

The follower fetches a stored URL again only when its source dates it later than its last
fetch (a feed item's ``updated``, a sitemap's ``lastmod``), once per change, conditionally;
local outlets on loopback (``follow_fixtures``) serve the pages and log every request."""
from __future__ import annotations

import html
import sqlite3
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from follow_fixtures import Article, Outlet, Request, fictional_articles, page_html

from samestory.corpus import Corpus
from samestory.corpus.queries import stories
from samestory.embed import load_encoder
from samestory.index.store import Store
from samestory.ingest import InputRecord
from samestory.sources import FollowSettings, follow
from samestory.sources.canonical import canonical_url

FAST = FollowSettings(host_delay=0.05, page_deadline=10, read_timeout=5, connect_timeout=2)
CORRECTION = (" Correction: an earlier version of this article said the works would cost about {n} million "
              "euros; the council later put the figure at {m} million euros.")


def _corpus(db: Path, **kw) -> Corpus:
    return Corpus(db, encoder=load_encoder("hashing"), progress=False, **kw)


def _run(db: Path, sources: list[str]) -> list[dict]:
    lines: list[dict] = []
    corpus = _corpus(db)
    try:
        follow(sources, corpus, FAST, once=True, report_sink=lines.append)
    finally:
        corpus.close()
    return [line for line in lines if line["type"] == "url"]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Dated:
    """An outlet's Atom feed (``/atom.xml``: ``published`` and ``updated`` per entry) and plain
    sitemap (``/lastmod.xml``: ``lastmod`` per page), dated from ``updated`` (slug -> ISO date)."""

    def __init__(self, outlet: Outlet):
        self.outlet = outlet
        self.updated = {a.slug: a.date for a in outlet.articles}
        outlet.routes["/atom.xml"] = self.atom
        outlet.routes["/lastmod.xml"] = self.sitemap

    def atom(self, r: Request) -> tuple[int, dict[str, str], bytes]:
        o = self.outlet
        entries = "".join(
            f'<entry><title>{html.escape(a.title)}</title><link href="{o.base}/news/{a.slug}"/>'
            f"<id>{o.base}/news/{a.slug}</id><published>{a.date}</published>"
            f"<updated>{self.updated[a.slug]}</updated></entry>" for a in o.articles)
        body = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{o.name}'
                f"</title><id>urn:{o.name}</id><updated>{max(self.updated.values())}</updated>{entries}</feed>")
        return 200, {"Content-Type": "application/atom+xml; charset=utf-8"}, body.encode()

    def sitemap(self, r: Request) -> tuple[int, dict[str, str], bytes]:
        o = self.outlet
        urls = "".join(f"<url><loc>{o.base}/news/{a.slug}</loc><lastmod>{self.updated[a.slug]}</lastmod></url>"
                       for a in o.articles)
        return 200, {"Content-Type": "application/xml"}, (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()

    def touch(self, slug: str) -> None:
        """The source says ``slug`` changed now (a little ahead: its dates have whole seconds)."""
        self.updated[slug] = _iso(time.time() + 2)


@pytest.fixture
def dated():
    outlet = Outlet("Vera", fictional_articles("vera", 3))
    yield Dated(outlet)
    outlet.close()


def _page_hits(outlet: Outlet, slug: str) -> list[Request]:
    return outlet.hits(f"/news/{slug}")


@pytest.mark.parametrize("source", ["/atom.xml", "/lastmod.xml"])
def test_a_changed_page_is_stored_as_a_new_version_that_replaces_the_old(tmp_path, dated, source):
    outlet, db = dated.outlet, tmp_path / "news.db"
    first = _run(db, [outlet.base + source])
    assert [line["status"] for line in first] == ["added"] * 3
    changed = outlet.articles[0]
    url = canonical_url(f"{outlet.base}/news/{changed.slug}")
    old_id = next(line["article"] for line in first if line["url"] == url)

    changed.text += CORRECTION.format(n=3, m=4)        # a correction, and the source says so
    dated.touch(changed.slug)
    second = {line["url"]: line for line in _run(db, [outlet.base + source])}
    line = second[url]
    assert line["status"] == "added" and line["replaces"] == old_id and line["article"] != old_id
    assert {second[u]["status"] for u in second if u != url} == {"skipped"}       # the others: unchanged dates
    assert len(_page_hits(outlet, changed.slug)) == 2
    assert all(len(_page_hits(outlet, a.slug)) == 1 for a in outlet.articles[1:])

    corpus = _corpus(db)
    try:
        assert corpus.store.article(line["article"]).replaces == old_id
        assert corpus.store.article(old_id).replaces is None
        assert corpus.store.count() == 4
        story = corpus.story(line["story"])
        entries = [m for m in story.members if m.url == url]
        assert len(entries) == 1 and entries[0].id == line["article"]      # one entry per URL: the latest
        assert entries[0].versions == 2 and entries[0].replaces == old_id
        assert story.size == len(story.members)
        assert sum(s.size for s in corpus.stories()) == 3          # three URLs, four stored versions
    finally:
        corpus.close()

    third = _run(db, [outlet.base + source])          # the same dates again: nothing is fetched again
    assert {line["status"] for line in third} == {"skipped"}
    assert len(_page_hits(outlet, changed.slug)) == 2


def test_an_unchanged_page_fetched_again_adds_nothing(tmp_path, dated):
    outlet, db = dated.outlet, tmp_path / "news.db"
    tagged = outlet.articles[0]        # answers If-None-Match with a 304; the others have no ETag

    def with_etag(r: Request, a: Article = tagged) -> tuple[int, dict[str, str], bytes]:
        body = page_html(a, outlet.name).encode()
        etag = f'"{zlib.crc32(body):x}"'
        if r.headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": etag}, body

    outlet.routes[f"/news/{tagged.slug}"] = with_etag
    first = {line["url"]: line for line in _run(db, [f"{outlet.base}/atom.xml"])}
    dated.touch(tagged.slug)
    dated.touch(outlet.articles[1].slug)
    second = {line["url"]: line for line in _run(db, [f"{outlet.base}/atom.xml"])}
    for a, answer in ((tagged, 304), (outlet.articles[1], 200)):
        url = canonical_url(f"{outlet.base}/news/{a.slug}")
        line = second[url]
        assert line["status"] == "exists" and line["reason"] == "unchanged", line
        assert line["article"] == first[url]["article"] and line["story"] == first[url]["story"]
        assert "replaces" not in line
        hits = _page_hits(outlet, a.slug)
        assert [h.status for h in hits] == [200, answer]
    assert _page_hits(outlet, tagged.slug)[1].headers.get("if-none-match")
    assert second[canonical_url(f"{outlet.base}/news/{outlet.articles[2].slug}")]["status"] == "skipped"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 3
        assert con.execute("SELECT COUNT(*) FROM articles WHERE replaces IS NOT NULL").fetchone()[0] == 0
    third = _run(db, [f"{outlet.base}/atom.xml"])     # once per change: the same date is not fetched again
    assert {line["status"] for line in third} == {"skipped"}
    assert len(_page_hits(outlet, tagged.slug)) == 2


def test_a_feed_whose_dates_do_not_change_never_fetches_known_urls_again(tmp_path):
    outlet = Outlet("Quill", fictional_articles("quill", 4))
    try:
        db = tmp_path / "news.db"
        _run(db, [f"{outlet.base}/feed.xml"])
        for a in outlet.articles:       # the texts change, but the feed does not say so
            a.text += CORRECTION.format(n=1, m=2)
        late = fictional_articles("late", 1)[0]       # a new item: the feed changes (a 200, not a 304)
        outlet.articles.append(late)
        outlet.routes[f"/news/{late.slug}"] = outlet.page(late)
        lines = _run(db, [f"{outlet.base}/feed.xml"])
        assert outlet.hits("/feed.xml")[-1].status == 200
        assert sorted(line["status"] for line in lines) == ["added"] + ["skipped"] * 4
        assert all(len(_page_hits(outlet, a.slug)) == 1 for a in outlet.articles)
    finally:
        outlet.close()


def _records(items: list[dict]) -> list[InputRecord]:
    return [InputRecord("v", i + 1, r) for i, r in enumerate(items)]


FERRY = ("Ferry Nordlys runs aground off Tromsø harbour. The Nordlys ferry ran aground near Tromsø on Tuesday morning "
         "with 212 passengers on board; the coastguard said nobody was hurt and tugs were on the way.")
BUDGET = ("Valdoria parliament passes 2027 budget after all-night session. Lawmakers in Valdoria approved the 2027 "
          "budget by 61 votes to 54, raising spending on schools and cutting the fuel subsidy.")


def test_index_add_keeps_replaces_and_lists_one_entry_per_url(tmp_path):
    corpus = _corpus(tmp_path / "x.db")
    try:
        one = corpus.add(_records([{"text": FERRY, "url": "https://news.example/ferry", "date": "2026-03-03T08:00Z"},
                                   {"text": FERRY + " No one", "date": "2026-03-03T08:10Z"}]))
        old = one.outcomes[0].article
        two = corpus.add(_records([
            {"text": FERRY + " Update: the ferry was refloated at noon.", "url": "https://news.example/ferry",
             "date": "2026-03-03T09:00Z", "replaces": old},
            {"text": BUDGET, "url": "https://news.example/ferry", "replaces": 42},        # not an id: its error
            {"text": BUDGET, "url": "https://news.example/budget", "replaces": "x" * 201}]))
        assert [o.status for o in two.outcomes] == ["added", "error", "error"]
        assert "'replaces'" in two.outcomes[1].error and "'replaces'" in two.outcomes[2].error
        new = two.outcomes[0].article
        assert corpus.store.article(new).replaces == old
        story = corpus.story(two.outcomes[0].story)
        assert story.id == one.outcomes[0].story
        by_url = {m.url: m for m in story.members}
        assert len(story.members) == story.size == 2          # the ferry URL once, the article without a URL
        assert by_url["https://news.example/ferry"].id == new and by_url["https://news.example/ferry"].versions == 2
        assert by_url[None].versions == 1 and by_url[None].replaces is None
        assert by_url[None].duplicate_of in (new, None)       # a copy of the old version is listed by its URL's entry
    finally:
        corpus.close()


def test_a_new_version_in_another_story_is_listed_once_in_each(tmp_path):
    corpus = _corpus(tmp_path / "x.db")
    try:
        url = "https://news.example/live"
        first = corpus.add(_records([{"text": FERRY, "url": url, "date": "2026-03-03T08:00Z"}])).outcomes[0]
        second = corpus.add(_records([{"text": BUDGET, "url": url, "date": "2026-03-03T09:00Z",
                                       "replaces": first.article}])).outcomes[0]
        assert second.status == "added" and second.story != first.story
        for o, replaces in ((first, None), (second, first.article)):
            story = corpus.story(o.story)
            assert [(m.id, m.versions, m.replaces) for m in story.members] == [(o.article, 1, replaces)]
    finally:
        corpus.close()


def test_an_index_without_the_replaces_column_is_read_and_then_gains_it(tmp_path):
    db = tmp_path / "x.db"
    corpus = _corpus(db)
    added = corpus.add(_records([{"text": FERRY, "url": "https://news.example/ferry", "date": "2026-03-03T08:00Z"}]))
    corpus.close()
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE articles DROP COLUMN replaces")
    con.execute("PRAGMA user_version = 2")        # the previous release's file
    con.commit()
    con.close()

    reader = Store(db, readonly=True)        # read as it is, never changed
    try:
        assert reader.article(added.outcomes[0].article).replaces is None
        [story] = stories(reader, members=True)
        assert story.size == 1 and story.members[0].versions == 1 and story.members[0].replaces is None
    finally:
        reader.db.close()
    with sqlite3.connect(db) as con:
        assert "replaces" not in {r[1] for r in con.execute("PRAGMA table_info(articles)")}

    corpus = _corpus(db)         # a writer: the file gains the column
    try:
        old = added.outcomes[0].article
        report = corpus.add(_records([{"text": FERRY + " Update: refloated.", "url": "https://news.example/ferry",
                                       "date": "2026-03-03T09:00Z", "replaces": old}]))
        assert report.outcomes[0].status == "added"
        assert corpus.store.article(report.outcomes[0].article).replaces == old
    finally:
        corpus.close()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 4          # today's version (index.migrate.VERSION)
        assert "replaces" in {r[1] for r in con.execute("PRAGMA table_info(articles)")}
