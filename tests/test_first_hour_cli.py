"""A newcomer's first hour (issue 31), on the command line: --update, --bad-dates, a closed
pipe, a progress bar with a total, and the Python API's front door."""
import json
import subprocess
import sys

from samestory.cli.counting import count_records
from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.ingest import InputRecord, iter_records

HEADS = ["Federal Reserve holds interest rates steady as inflation cools in March",
         "Apple unveils a cheaper iPhone model for emerging markets this spring",
         "Storm Ingrid closes the port of Rotterdam and grounds flights in Amsterdam"]


def _corpus(tmp_path):
    return Corpus(tmp_path / "x.db", encoder=load_encoder("hashing"), progress=False)


def test_update_corrects_stored_dates_urls_and_ids_and_the_storys_times(tmp_path):
    corpus = _corpus(tmp_path)
    first = corpus.add([InputRecord("f.csv", i, {"text": t}) for i, t in enumerate(HEADS, 1)])
    assert [o.status for o in first.outcomes] == ["added"] * 3
    corpus.stories()                                  # the in-memory index is loaded
    again = [InputRecord("f.csv", i, {"text": t, "date": f"2014-03-1{i}T10:00:00Z", "id": f"u{i}",
                                      "url": f"https://example.org/{i}"}) for i, t in enumerate(HEADS, 1)]
    plain = corpus.add(again)
    assert [o.status for o in plain.outcomes] == ["exists"] * 3
    report = corpus.add(again, update=True)
    assert [o.status for o in report.outcomes] == ["updated"] * 3
    assert any(n.startswith("date: None -> 2014-03-11") for n in report.outcomes[0].notes)
    stored = corpus.store.article(report.outcomes[0].article)
    assert (stored.date, stored.url, stored.record_id) == ("2014-03-11T10:00:00+00:00", "https://example.org/1", "u1")
    assert corpus.store.article("u2").id == report.outcomes[1].article
    [story] = corpus.store.stories(story_id=stored.story)
    assert story.first <= stored.ts <= story.last < 1.5e9      # the story's times moved too, no longer today
    assert corpus.state().story(stored.rowid) == stored.story                         # reloaded, not stale
    assert [o.status for o in corpus.add(again, update=True).outcomes] == ["exists"] * 3   # nothing left to change


def test_bad_dates_ignore_keeps_the_record_undated_and_says_so(tmp_path):
    from dataclasses import replace

    from samestory.corpus.corpus import DEFAULT_CLEAN

    records = [InputRecord("f.jsonl", 1, {"text": HEADS[0], "date": "not a date"}),
               InputRecord("f.jsonl", 2, {"text": HEADS[1], "date": 1e20})]
    strict = _corpus(tmp_path).add(records)
    assert [o.status for o in strict.outcomes] == ["error", "error"]
    lenient = Corpus(tmp_path / "y.db", encoder=load_encoder("hashing"), progress=False,
                     clean=replace(DEFAULT_CLEAN, bad_dates="ignore")).add(records)
    assert [o.status for o in lenient.outcomes] == ["added", "added"]
    assert all(any("kept undated" in n for n in o.notes) for o in lenient.outcomes)


def test_count_records_matches_what_the_readers_yield(tmp_path):
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "one"}\n\n{"text": "two"}\nnot json\n')
    csv = tmp_path / "b.csv"
    csv.write_text('text,date\n"a quoted\nfield over two lines",2024-01-01\nplain,\n\n')
    tsv = tmp_path / "c.tsv"
    tsv.write_text("text\tid\nx\t1\ny\t2\nz\t3\n")
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("an article")
    (folder / "sub" / "b.html").write_text("<p>another</p>")
    (folder / "sub" / "feed.jsonl").write_text('{"text": "x"}\n{"text": "y"}\n')
    for inputs in ([jsonl], [csv], [tsv], [folder], [jsonl, csv, tsv, folder], [tmp_path / "missing.csv"]):
        assert count_records(inputs) == len(list(iter_records(inputs))), inputs
    gz = tmp_path / "d.jsonl.gz"
    gz.write_bytes(b"")
    assert count_records([gz]) is None and count_records(["-"]) is None


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "samestory.cli", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def test_index_add_shows_a_total_and_takes_update_and_bad_dates(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"text": t, "date": "not a date"}) + "\n" for t in HEADS))
    db = str(tmp_path / "x.db")
    bad = _cli("index", "add", str(feed), "--db", db, "--format", "json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["errors"] == 3
    assert "3/3" in bad.stderr                     # the progress bar knew the total
    report = tmp_path / "r.jsonl"
    ok = _cli("index", "add", str(feed), "--db", db, "--bad-dates", "ignore", "--report", str(report))
    assert ok.returncode == 0, ok.stderr
    assert all("kept undated" in " ".join(json.loads(line)["notes"]) for line in report.read_text().splitlines())
    feed.write_text("".join(json.dumps({"text": t, "date": "2014-03-10"}) + "\n" for t in HEADS))
    up = _cli("index", "add", str(feed), "--db", db, "--update", "--format", "json")
    assert up.returncode == 0 and json.loads(up.stdout)["updated"] == 3, up.stderr
    assert "date: None -> 2014-03-10" in up.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    corpus = _corpus(tmp_path)
    corpus.add([InputRecord("f", i, {"text": f"{t} ({n})"}) for n in range(40) for i, t in enumerate(HEADS, 1)])
    corpus.close()
    proc = subprocess.Popen([sys.executable, "-m", "samestory.cli", "index", "stories", "--db",
                             str(tmp_path / "x.db")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                            # `| head -0`: the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) in (0, 141)
    assert "BrokenPipe" not in err and "error" not in err


def test_corpus_is_exported_and_documented():
    import samestory

    assert samestory.Corpus is Corpus and "Corpus" in samestory.__all__
    doc = Corpus.__doc__ or ""
    for method in ("add(", "similar(", "stories(", "duplicates(", "check(", "close("):
        assert method in doc
