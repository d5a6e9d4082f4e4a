"""Web archives and other scrapers' output through ``index add``: WARC files (``.warc``,
``.warc.gz``; URL from WARC-Target-URI, time from WARC-Date when the page has none) and
news-please JSON (recognised by its fields), each record once, as a record or an error."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

from follow_fixtures import fictional_articles, page_html
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.ingest import iter_records


def _warc_date(i: int) -> str:
    return f"2025-05-{1 + i % 28:02d}T{i % 24:02d}:30:00Z"


def write_warc(path: Path, n: int, gz: bool = True, extras: bool = True) -> None:
    """A CC-NEWS-like WARC: a warcinfo record, then per page a request and its response (every
    third page without a date of its own), plus a 404, a JPEG and a metadata record."""
    pages = fictional_articles("warc", n)
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))

        def response(uri: str, status: str, ctype: str, body: bytes, when: str) -> None:
            http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            req = writer.create_warc_record(uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
                                            warc_headers_dict={"WARC-Date": when})
            resp = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http,
                                             warc_headers_dict={"WARC-Date": when})
            writer.write_record(req)
            writer.write_record(resp)

        for i, a in enumerate(pages):
            html = page_html(a, "Warc Times")
            if i % 3 == 0:     # no date in the page: WARC-Date is the time
                html = html.replace(f'<meta property="article:published_time" content="{a.date}">', "")
                html = html.replace(f'<time datetime="{a.date}">{a.date}</time>', "")
            response(f"https://warc.example/news/{a.slug}", "200 OK", "text/html; charset=utf-8", html.encode(),
                     _warc_date(i))
        if extras:
            response("https://warc.example/gone", "404 Not Found", "text/html", b"<html>gone</html>", _warc_date(0))
            response("https://warc.example/logo.jpg", "200 OK", "image/jpeg", b"\xff\xd8\xff", _warc_date(0))
            writer.write_record(writer.create_warc_record("https://warc.example/", "metadata",
                                                          payload=io.BytesIO(b"fetchTimeMs: 12")))


def test_a_warc_file_gives_one_record_per_response_with_its_url_and_time(tmp_path):
    path = tmp_path / "CC-NEWS-sample.warc.gz"
    write_warc(path, 9)
    records = list(iter_records([path]))
    assert len(records) == 11       # 9 pages, the 404, the JPEG: requests, warcinfo and metadata are not pages
    pages = [r for r in records if r.record is not None]
    assert len(pages) == 9 and all(r.record_id.startswith("https://warc.example/news/") for r in pages)
    by_url = {r.record["url"]: r.record for r in pages}
    undated = by_url["https://warc.example/news/warc-0"]
    assert undated["date"] == _warc_date(0).replace("Z", "+00:00") or undated["date"].startswith(_warc_date(0)[:16])
    dated = by_url["https://warc.example/news/warc-1"]
    assert dated["date"].startswith(fictional_articles("warc", 2)[1].date[:10])     # the page's own date wins
    errors = {r.record_id: r.error for r in records if r.error}
    assert "HTTP status 404" in errors["https://warc.example/gone"]
    assert "not an HTML page (image/jpeg)" in errors["https://warc.example/logo.jpg"]


def test_a_warc_of_a_few_thousand_records_is_read_in_linear_time(tmp_path):
    small, large = tmp_path / "small.warc", tmp_path / "large.warc.gz"
    write_warc(small, 100, gz=False, extras=False)
    write_warc(large, 1000, extras=False)          # 2,001 WARC records
    start = time.perf_counter()
    assert sum(r.record is not None for r in iter_records([small])) == 100
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    assert sum(r.record is not None for r in iter_records([large])) == 1000
    assert time.perf_counter() - start < 10 * t_small * 3        # ten times the pages: about ten times the time


def test_a_truncated_warc_reports_where_it_breaks_off(tmp_path):
    path = tmp_path / "cut.warc.gz"
    write_warc(path, 6, extras=False)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    records = list(iter_records([path]))
    assert records[-1].error and "breaks off" in records[-1].error
    assert sum(r.record is not None for r in records) >= 2


def _newsplease(i: int, **extra) -> dict:
    a = fictional_articles("np", 5)[i]
    return {"authors": ["A. Writer"], "date_download": "2025-04-02 10:00:00", "date_modify": None,
            "date_publish": a.date.replace("T", " ").replace("Z", ""), "description": "A lead.",
            "filename": f"np{i}.json", "image_url": None, "language": "en", "localpath": None,
            "maintext": a.text, "source_domain": "np.example", "title": a.title, "title_page": None,
            "title_rss": None, "url": f"https://np.example/news/{a.slug}", **extra}


def test_news_please_output_goes_through_index_add_with_its_url_and_date(tmp_path):
    folder = tmp_path / "np.example"
    (folder / "2025").mkdir(parents=True)
    for i in range(3):
        (folder / "2025" / f"np{i}.json").write_text(json.dumps(_newsplease(i)))
    (folder / "lines.jsonl").write_text(json.dumps(_newsplease(3)) + "\n"
                                        + json.dumps(_newsplease(4, maintext=None, description=None, title=None)) + "\n")
    db = tmp_path / "news.db"
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False)
    report = corpus.add(iter_records([folder]))
    corpus.close()
    assert [o.status for o in report.outcomes].count("added") == 4
    [bad] = [o for o in report.outcomes if o.status == "error"]
    assert "no text" in bad.error
    stored = Corpus(db, encoder=load_encoder("hashing"), readonly=True, progress=False)
    article = stored.store.article("https://np.example/news/np-0")
    assert article is not None and article.url == "https://np.example/news/np-0"
    assert article.date.startswith(fictional_articles("np", 1)[0].date[:16].replace("T", "T"))


def test_index_add_reads_a_warc_from_the_command_line(tmp_path):
    path = tmp_path / "crawl.warc"
    write_warc(path, 4, gz=False)
    db = tmp_path / "news.db"
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False)
    with corpus.store.writer():
        corpus.store.set_meta("encoder", corpus.encoder.name)
        corpus.store.set_meta("encoder_spec", "hashing")
    corpus.close()
    report = tmp_path / "report.jsonl"
    done = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "add", str(path), "--db", str(db),
                           "--report", str(report), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 4
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(line.get("record_id", "") for line in lines if line["status"] == "added") == [
        f"https://warc.example/news/warc-{i}" for i in range(4)]
    assert len(lines) == 6
