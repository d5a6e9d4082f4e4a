"""Property-based fuzzing (hypothesis, and schemathesis against the service's OpenAPI schema).

Invariants: bad input is an ``InputError`` (a clear message), never another exception;
every input record comes out exactly once (as a record or as an error that says why);
the service never answers 500. ``make test`` runs the fast profile (a few hundred
inputs in all); ``make fuzz`` (``SAMESTORY_FUZZ=long``) runs 10,000 inputs per reader
and cleaner target and 1,000 per target that runs the model.
"""
import codecs
import json
import os
import tempfile
from pathlib import Path

import pytest
from conftest import served
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from samestory.ingest import InputRecord, clean_record, iter_records, record_from_bytes
from samestory.pipeline import to_article
from samestory.types import Article, InputError

LONG = os.environ.get("SAMESTORY_FUZZ") == "long"
CHEAP = settings(max_examples=10_000 if LONG else 120, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MODEL = settings(max_examples=1_000 if LONG else 12, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                        HealthCheck.filter_too_much])

# Text as scrapers deliver it: any code point, plus the troublemakers (lone surrogates,
# zero-width and control characters, byte-order marks, markup, mojibake).
ODD = st.sampled_from(["\ud800", "\udfff", "\u200b", "\u200d", "\ufeff", "\x00", "\r", "<p>", "</div>", "&amp;",
                       "Ã©", "â€™", "{", "\"", ",", "\n"])
TEXT = st.lists(st.one_of(st.text(min_size=1, max_size=40), ODD), max_size=30).map("".join)
WORDS = st.lists(st.sampled_from("the ferry sank near Tromsø Montag Fähre 渡轮 паром sank police 41 2026".split()),
                 min_size=1, max_size=40).map(" ".join)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | TEXT,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                           max_leaves=12)
DATES = st.one_of(st.none(), TEXT, st.sampled_from(["1e20", "nan", "inf", "-inf", "2026-11-30", "30.11.2026",
                                                    "9999999999999", "0", "\ud800"]),
                  st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**30, max_value=10**30))
RECORDS = st.fixed_dictionaries({}, optional={"text": st.one_of(TEXT, WORDS), "title": TEXT, "html": TEXT,
                                              "date": DATES, "lang": st.one_of(TEXT, st.sampled_from(["de", "zh"])),
                                              "url": TEXT, "id": st.one_of(TEXT, st.integers())})


@CHEAP
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(["", ".txt", ".html", ".json"]))
def test_any_bytes_read_as_a_record_or_a_clear_error(data, suffix):
    try:
        record = record_from_bytes(data, "fuzz", suffix)
    except InputError as exc:
        assert str(exc).startswith("fuzz")
        return
    assert any(isinstance(record.get(k), str) for k in ("text", "html"))


@CHEAP
@given(value=st.one_of(JSON_VALUES, st.integers(1, 200_000).map(lambda n: ["["] * n)))
def test_any_json_shape_reads_as_a_record_or_a_clear_error(value):
    text = "".join(value) if isinstance(value, list) and value and value[0] == "[" else json.dumps(value)
    try:
        record = record_from_bytes(text.encode("utf-8", "surrogatepass"), "fuzz.json", ".json")
    except InputError:
        return
    assert isinstance(record, dict)


@CHEAP
@given(record=RECORDS)
def test_any_record_cleans_to_an_article_or_a_clear_error(record):
    try:
        article = to_article(clean_record(record))
    except InputError as exc:
        assert str(exc)
        return
    assert isinstance(article, Article) and (article.text.strip() or article.title.strip())
    article.full_text.encode("utf-8")       # nothing unencodable gets through to the store


@CHEAP
@given(lines=st.lists(st.one_of(RECORDS.map(json.dumps), JSON_VALUES.map(json.dumps),
                                TEXT.map(lambda t: t.replace("\n", " ").replace("\r", " "))), max_size=25))
@example(lines=["\ufeff"])                  # a file of a byte-order mark alone: no line, no record
def test_every_jsonl_line_comes_out_exactly_once(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.jsonl"
        path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        out = list(iter_records([path]))
    expected = [n for n, line in enumerate(path_lines(lines), 1) if line.strip()]
    assert [r.line for r in out] == expected
    assert all((r.record is None) != (r.error is None) for r in out)


def path_lines(lines: list[str]) -> list[str]:
    """The lines a reader sees: the joined text decoded as the reader decodes it (a byte-order
    mark that opens the file is the encoding's mark, not text: a file of it alone holds no line)."""
    text = "\n".join(lines).encode("utf-8", "surrogatepass").removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace")
    return text.split("\n") if text else []


@CHEAP
@given(rows=st.lists(st.lists(st.one_of(TEXT, WORDS), min_size=1, max_size=4), max_size=15))
def test_any_csv_reads_without_a_crash_in_row_order(rows):
    body = "text,title,date\n" + "\n".join(",".join(row) for row in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(body.encode("utf-8", "surrogatepass"))
        out = list(iter_records([path]))
    assert [r.line for r in out] == sorted(r.line for r in out)
    assert all(isinstance(r, InputRecord) and (r.record is None) != (r.error is None) for r in out)


@pytest.fixture(scope="module")
def fuzz_corpus(tmp_path_factory):
    from samestory.corpus import Corpus

    return Corpus(tmp_path_factory.mktemp("fuzz") / "fuzz.db", progress=False)


@MODEL
@given(records=st.lists(RECORDS, min_size=1, max_size=6))
def test_corpus_accounts_for_every_record_once(fuzz_corpus, records):
    before = fuzz_corpus.store.count()
    items = [InputRecord("fuzz", i + 1, r) for i, r in enumerate(records)]
    report = fuzz_corpus.add(items)
    assert [o.line for o in report.outcomes] == [i.line for i in items]
    assert all(o.status in ("added", "exists", "error") and (o.status == "error") == bool(o.error)
               for o in report.outcomes)
    assert fuzz_corpus.store.count() == before + report.added


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory):
    """The real service on a loopback port, no token (so writes are fuzzed too), small body limit."""
    with served(tmp_path_factory.mktemp("fuzzsvc") / "news.db", "--max-body-bytes", "200000") as base:
        yield base


@pytest.fixture(scope="module")
def api_strategy(fuzz_service):
    """Generated requests for every operation in the service's own OpenAPI document,
    valid and invalid (schemathesis's positive and negative modes)."""
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{fuzz_service}/openapi.json")
    return st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))


@MODEL
@given(data=st.data())
def test_service_never_answers_500(fuzz_service, api_strategy, data):
    case = data.draw(api_strategy)
    response = case.call(base_url=fuzz_service, timeout=120)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    if "application/json" in str(response.headers.get("content-type")) and case.method.upper() != "HEAD":
        response.json()     # a JSON answer parses
