"""The service's pages and its docs: /docs without internet, the story list's shape, the
story page's links and "copy of", the timeline's day axis and its note on undated records.
A real Corpus with the hashing encoder (no model load) behind FastAPI's TestClient."""
import re

import pytest

from samestory.service.pages import story_page
from samestory.stories.timeline import UNDATED_NOTE, timeline_html
from samestory.types import Story, StoryMember

TOKEN = "pages-token-7"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from samestory.corpus import Corpus
    from samestory.embed import load_encoder
    from samestory.pipeline import Comparer
    from samestory.service.app import ServiceSettings, create_app

    encoder = load_encoder("hashing")
    db = tmp_path_factory.mktemp("pages") / "news.db"
    corpus = Corpus(db, encoder=encoder, progress=False)
    app = create_app(ServiceSettings(db=str(db), token=TOKEN, allowed_hosts=("testserver",)),
                     comparer=Comparer(encoder=encoder), corpus=corpus)
    with TestClient(app) as c:
        yield c


def test_docs_need_no_internet(client):
    page = client.get("/docs")
    assert page.status_code == 200
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    refs += re.findall(r"""url\s*:\s*["']([^"']+)["']""", page.text)       # the OpenAPI URL in the script
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "http://" not in page.text and "https://" not in page.text
    kinds, bodies = {}, {}
    for ref in refs:
        r = client.get(ref)
        assert r.status_code == 200, ref
        kinds[ref.rsplit(".", 1)[-1]] = r.headers["content-type"]
        bodies[ref.rsplit(".", 1)[-1]] = r.content
    assert "javascript" in kinds["js"] and "text/css" in kinds["css"]
    # Swagger UI 5 (4 cannot show the OpenAPI 3.1 that FastAPI writes)
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert b"isOAS31" in bodies["js"]
    assert client.get("/redoc").status_code == 404      # its script would come from a CDN


def test_the_story_list_says_size_and_leaves_members_out(client):
    texts = [f"Storm Ingrid closes the port of Rotterdam; ferries cancelled, report {i}." for i in range(3)]
    r = client.post("/articles", json=[{"text": t, "url": f"https://example.org/{i}"} for i, t in enumerate(texts)],
                    headers=AUTH)
    assert r.status_code == 200, r.text
    listed = client.get("/stories").json()["stories"]
    assert listed and all("members" not in s and s["size"] >= 1 for s in listed)
    assert sum(s["size"] for s in listed) == 3
    one = client.get(f"/stories/{listed[0]['id']}").json()
    assert len(one["members"]) == one["size"] == listed[0]["size"]
    assert "size" in client.get("/openapi.json").json()["paths"]["/stories"]["get"]["description"]
    page = client.get("/ui/stories")      # posted without dates: the times are ingest times, and it says so
    assert page.status_code == 200 and UNDATED_NOTE in page.text


def _member(i: str, title: str, url: str | None, date: str | None = "2026-02-10T07:00:00+00:00",
            dup: str | None = None) -> StoryMember:
    return StoryMember(id=i, title=title, date=date, lang="en", url=url, duplicate_of=dup,
                       copied_share=0.9 if dup else None)


def test_story_page_links_titles_and_names_the_copied_source():
    story = Story(id=7, label="Storm", first_seen="2026-02-10T07:00:00+00:00", last_seen="2026-02-10T09:00:00+00:00",
                  size=4, languages=["en"], members=[
                      _member("aaaa1111", "Storm <Ingrid> hits", "https://news.example/a?x=1&y=2"),
                      _member("bbbb2222", "Rewrite of the storm", "javascript:alert(1)", dup="aaaa1111"),
                      _member("cccc3333", "No link here", "ftp://example.org/f"),
                      _member("dddd4444", "Quote ' attack", "http://example.org/\"onmouseover='x'")])
    page = story_page(story)
    assert '<a href="https://news.example/a?x=1&amp;y=2" rel="noopener noreferrer">Storm &lt;Ingrid&gt; hits</a>' \
        in page
    assert "javascript:" not in page and "ftp://" not in page and "No link here" in page
    assert 'href="http://example.org/&quot;onmouseover=&#x27;x&#x27;"' in page
    assert "copy of <i title='aaaa1111'>Storm &lt;Ingrid&gt; hits</i>" in page
    elsewhere = Story(id=8, label="x", first_seen="", last_seen="", size=1, languages=["en"],
                      members=[_member("eeee5555", "Copy", None, dup="ffff6666")])
    assert "copy of <i title='ffff6666'>ffff6666</i>" in story_page(elsewhere)   # source in another story


def _story(sid: int, first: str, last: str, dated: bool) -> Story:
    return Story(id=sid, label=f"story {sid}", first_seen=first, last_seen=last, size=2, languages=["en"],
                 members=[_member(f"{sid}a", "t", None, date=first if dated else None),
                          _member(f"{sid}b", "t", None, date=last if dated else None)])


def test_timeline_has_a_day_axis_and_says_when_times_are_ingest_times():
    stories = [_story(1, "2026-02-10T07:00:00+00:00", "2026-02-11T09:00:00+00:00", dated=True),
               _story(2, "2026-02-12T10:00:00+00:00", "2026-02-13T18:00:00+00:00", dated=True)]
    page = timeline_html(stories)
    ticks = re.findall(r"<text class='tick'[^>]*>([^<]+)</text>", page)
    assert ticks == ["2026-02-11", "2026-02-12", "2026-02-13"]
    assert UNDATED_NOTE not in page
    undated = [_story(3, "2026-03-01T10:00:00+00:00", "2026-03-01T10:00:19+00:00", dated=False)]
    page = timeline_html(undated)
    assert UNDATED_NOTE in page
    assert re.findall(r"<text class='tick'[^>]*>([^<]+)</text>", page) == ["2026-03-01"]
    assert UNDATED_NOTE in timeline_html(undated + stories[:1], undated=True)
    listed = [Story(**{**_story(4, "2026-03-01T10:00:00+00:00", "2026-03-01T11:00:00+00:00", False).__dict__,
                       "members": []})]
    assert UNDATED_NOTE not in timeline_html(listed)     # without members it cannot tell: no claim


def test_a_long_span_gets_at_most_a_dozen_day_ticks():
    stories = [_story(1, "2026-01-01T00:00:00+00:00", "2026-03-31T00:00:00+00:00", dated=True)]
    ticks = re.findall(r"<text class='tick'[^>]*>([^<]+)</text>", timeline_html(stories))
    assert 2 <= len(ticks) <= 12 and ticks[0] == "2026-01-01"
