"""No record poisons the index, as a property (hypothesis): records with arbitrary field
values (any Unicode, any date string or number, any lang, nested JSON) go through the
write path, by the Python API (as ``index add`` does) and by ``POST /articles`` on the
real service; each is added or is a per-record error, and afterwards every read answers:
stories, one story, similar, duplicates, the timeline, the service's story pages, and
``index check`` finds nothing to mend.

``make test`` runs a short profile; ``make fuzz`` (``SAMESTORY_FUZZ=long``) sends 10,000
records through each path.
"""
import json
import os

import httpx
import pytest
from conftest import served
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from samestory.corpus import Corpus
from samestory.ingest import InputRecord
from samestory.stories.timeline import timeline_html

LONG = os.environ.get("SAMESTORY_FUZZ") == "long"
# Records per example: 1 to 8 (4.5 on average), so the long profile sends about 10,000 through each path.
EXAMPLES = 2_200 if LONG else 15
PROFILE = settings(max_examples=EXAMPLES, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                          HealthCheck.data_too_large])

WORDS = st.lists(st.sampled_from("the ferry sank near Tromsø Montag Fähre 渡轮 паром police 41 2026 budget "
                                 "vote parliament Valdoria".split()), min_size=1, max_size=30).map(" ".join)
NO_WORDS = st.text(alphabet=".!?…—-🙂🎉 \u200b\n", min_size=1, max_size=60)
ANY_TEXT = st.text(max_size=80)
TEXTS = st.one_of(WORDS, NO_WORDS, ANY_TEXT, st.builds(lambda a, b: f"{a}\n{b}", WORDS, ANY_TEXT))
OFFSETS = st.sampled_from(["Z", "+00:00", "-14:00", "+14:00", "+15:00", "+99:99", "-23:59", "+24:00", ""])
ISO = st.builds(lambda y, mo, d, h, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:00:00{off}",
                st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), OFFSETS)
DATES = st.one_of(ISO, ANY_TEXT, st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2024-01-01 12:00 +99:99",
                                   "12", "-1", "Tue, 03 Mar 2026 09:00:00 GMT", "1e20", "not a date", "2026-03-03"]))
LANGS = st.one_of(st.sampled_from(["q,x:²,z", "en", "EN-gb", "de:2", "zh-Hant", "x", ",", ":", "²", "und", ""]),
                  ANY_TEXT)
NESTED = st.recursive(st.none() | st.booleans() | st.integers() | ANY_TEXT,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                      max_leaves=6)
RECORDS = st.fixed_dictionaries({"text": TEXTS}, optional={
    "title": st.one_of(TEXTS, NESTED), "date": st.one_of(DATES, NESTED), "lang": st.one_of(LANGS, NESTED),
    "url": ANY_TEXT, "id": st.one_of(ANY_TEXT, st.integers()), "extra": NESTED})


# The records that once broke every later read (issue 27), always among the examples.
KNOWN = [{"text": "Central bank holds rates steady as inflation cools", "lang": "q,x:²,z"},
         {"text": "Storm Ingrid closes the port of Rotterdam for a day", "date": "9999-12-31T23:59:59-14:00"},
         {"text": "Ferry Nordlys runs aground off Tromsø harbour", "date": "0001-01-01T00:00:00+14:00"},
         {"text": "Valdoria parliament passes the 2027 budget", "date": "2024-01-01 12:00 +99:99"},
         {"text": "....."}, {"text": "!!!!!"}, {"text": "🙂🙂🙂"}]


def _reads_work(corpus: Corpus) -> None:
    stories = corpus.stories(members=True)
    for s in stories[:3]:
        assert corpus.story(s.id) is not None
        corpus.similar(s.members[0].id, k=3, rescore=False)
    timeline_html(stories)
    corpus.duplicates()
    assert corpus.check().problems == 0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return Corpus(tmp_path_factory.mktemp("poison") / "x.db", progress=False)


@PROFILE
@given(records=st.lists(RECORDS, min_size=1, max_size=8))
@example(records=KNOWN)
def test_any_records_through_the_python_api(corpus, records):
    items = [InputRecord("fuzz", i + 1, r) for i, r in enumerate(records)]
    report = corpus.add(items)
    assert [o.line for o in report.outcomes] == [i.line for i in items]
    assert all((o.status == "error") == bool(o.error) for o in report.outcomes)
    _reads_work(corpus)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with served(tmp_path_factory.mktemp("poisonsvc") / "news.db") as base:
        yield base


def _json_safe(record: dict) -> dict:
    """What a client can send: JSON has no NaN (those bodies are tested in test_service_hostile)."""
    return json.loads(json.dumps(record, allow_nan=True).replace("NaN", "null").replace("-Infinity", "null")
                      .replace("Infinity", "null"))


@PROFILE
@given(records=st.lists(RECORDS, min_size=1, max_size=8))
@example(records=KNOWN)
def test_any_records_through_post_articles(service, records):
    body = [_json_safe(r) for r in records]
    response = httpx.post(f"{service}/articles", content=json.dumps(body, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"), headers={"content-type": "application/json"}, timeout=120)
    assert response.status_code in (200, 422), response.text[:300]
    if response.status_code == 200:
        assert len(response.json()["results"]) == len(body)
    listed = httpx.get(f"{service}/stories", timeout=60)
    assert listed.status_code == 200
    assert httpx.get(f"{service}/ui/stories", timeout=60).status_code == 200
    for s in listed.json()["stories"][:2]:
        assert httpx.get(f"{service}/stories/{s['id']}", timeout=60).status_code == 200
        assert httpx.get(f"{service}/ui/stories/{s['id']}", timeout=60).status_code == 200
