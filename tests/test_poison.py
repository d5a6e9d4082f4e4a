"""No record poisons the index (issue 27): fields validated at the door, reads that survive
what an older release wrote, writers that wait, derived files tied to their store.
Real encoder, real linker, real SQLite."""
import fcntl
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from samestory.corpus import Corpus
from samestory.ingest import CleanSettings, InputRecord, clean_record, iter_records
from samestory.stories.timeline import timeline_html
from samestory.types import InputError, StoreBusy, StoreChanged

FERRY = [
    "Ferry Nordlys runs aground off Tromsø harbour. The Nordlys ferry ran aground near Tromsø on Tuesday "
    "morning with 212 passengers on board; the coastguard said nobody was hurt and tugs were on the way.",
    "Passengers evacuated after Nordlys ferry grounding near Tromsø. All 212 passengers of the ferry Nordlys "
    "were taken ashore by lifeboats after it hit rocks outside Tromsø harbour, the coastguard said.",
]
BUDGET = [
    "Valdoria parliament passes 2027 budget after all-night session. Lawmakers in Valdoria approved the 2027 "
    "budget by 61 votes to 54, raising spending on schools and cutting the fuel subsidy.",
    "Valdoria budget vote: fuel subsidy cut survives. The fuel subsidy cut in Valdoria's 2027 budget survived a "
    "late amendment, and the budget passed by 61 votes to 54 in parliament.",
]


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "samestory.cli", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def _every_read_works(corpus: Corpus) -> None:
    stories = corpus.stories(members=True)
    assert stories
    for s in stories:
        assert corpus.story(s.id) is not None
    timeline_html(stories)
    corpus.duplicates()
    some = stories[0].members[0].id
    assert corpus.similar(some, k=3, rescore=False) is not None


def test_a_lang_that_is_not_a_code_is_set_aside_and_everything_still_reads(tmp_path):
    feed = tmp_path / "feed.csv"
    feed.write_text("text,lang\n" + "\n".join(f'"{t}","{lang}"' for t, lang in
                                             zip(FERRY + BUDGET, ["q,x:²,z", "en", "EN-gb", "zz:9"])) + "\n")
    corpus = Corpus(tmp_path / "x.db", progress=False)
    report = corpus.add(iter_records([str(feed)]))
    assert [o.status for o in report.outcomes] == ["added"] * 4
    assert "not a language code" in report.outcomes[0].notes[0] and "not a language code" in report.outcomes[3].notes[0]
    assert not report.outcomes[1].notes and not report.outcomes[2].notes
    assert {a.lang for a in corpus.store.articles([1, 2, 3, 4])} == {"en"}     # detected, or "en-gb" -> "en"
    _every_read_works(corpus)
    again = corpus.add([InputRecord("t", 9, {"text": FERRY[0] + " More.", "lang": "q,x:²,z"})])
    assert again.outcomes[0].status == "added"
    proc = cli("index", "stories", "--db", str(tmp_path / "x.db"))
    assert proc.returncode == 0 and "Valdoria" in proc.stdout


@pytest.mark.parametrize("date, why", [
    ("9999-12-31T23:59:59-14:00", "out of range"),
    ("0001-01-01T00:00:00+14:00", "out of range"),
    ("1850-06-01", "before 1900"),
    ("2024-01-01 12:00 +99:99", "beyond +-14 hours"),
    ("2024-01-01T12:00:00+15:00", "beyond +-14 hours"),
    ("2999-01-01", "in the future"),
    ("not a date", "not a date"),
    ("nan", "not a date"),
])
def test_dates_out_of_range_are_per_record_errors(date, why):
    with pytest.raises(InputError, match=re.escape(why)):
        clean_record({"text": FERRY[0], "date": date})


def test_dates_are_stored_in_utc_and_bad_ones_do_not_stop_the_file(tmp_path):
    feed = tmp_path / "feed.jsonl"
    rows = [{"text": FERRY[0], "date": "2026-03-03T10:00:00+02:00"}, {"text": FERRY[1], "date": "2024-01-01 12:00 +99:99"},
            {"text": BUDGET[0], "date": "9999-12-31T23:59:59-14:00"}, {"text": BUDGET[1], "date": "Tue, 03 Mar 2026 09:00:00 GMT"}]
    feed.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = tmp_path / "report.jsonl"
    proc = cli("index", "add", str(feed), "--db", str(tmp_path / "x.db"), "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["added", "error", "error", "added"]
    assert "date" in lines[1]["error"] and "date" in lines[2]["error"]
    corpus = Corpus(tmp_path / "x.db", readonly=True, progress=False)
    dates = sorted(a.date for a in corpus.store.articles([1, 2]))
    assert dates == ["2026-03-03T08:00:00+00:00", "2026-03-03T09:00:00+00:00"]
    _every_read_works(corpus)


def test_text_without_words_is_no_article():
    for text in ("." * 30, "!" * 30, "🙂" * 30, "—— … ——" * 5):
        with pytest.raises(InputError, match="no words"):
            clean_record({"text": text}, CleanSettings(min_chars=3))


def _poison(db: Path) -> None:
    """What a release before validation could write: a story's languages that do not read, an
    article dated in year 10000 and the story it opened."""
    con = sqlite3.connect(db)
    con.execute("UPDATE articles SET lang='q,x' WHERE rowid=1")
    con.execute("UPDATE stories SET langs='q:1,x:²:1,z' WHERE id=(SELECT story FROM articles WHERE rowid=1)")
    con.execute("UPDATE articles SET ts=253402300799.0 + 50400, date='9999-12-31T23:59:59-14:00' WHERE rowid=3")
    con.execute("UPDATE stories SET last=253402300799.0 + 50400 WHERE id=(SELECT story FROM articles WHERE rowid=3)")
    con.execute("DELETE FROM meta WHERE key='checked'")
    con.commit()
    con.close()


def test_a_poisoned_index_still_reads_and_the_next_write_repairs_it(tmp_path):
    db = tmp_path / "x.db"
    Corpus(db, progress=False).add([InputRecord("t", i, {"text": t}) for i, t in enumerate(FERRY + BUDGET, 1)])
    _poison(db)
    reader = Corpus(db, readonly=True, progress=False)
    _every_read_works(reader)
    for args in (["index", "stories"], ["index", "stories", "--format", "jsonl"], ["index", "duplicates"],
                 ["index", "timeline", "--out", str(tmp_path / "t.html")]):
        proc = cli(*args, "--db", str(db))
        assert proc.returncode == 0, (args, proc.stderr)
    found = reader.check()
    assert found.bad_langs == [1] and found.bad_times == [3] and len(found.bad_stories) == 2 and not found.repaired
    proc = cli("index", "check", "--db", str(db), "--format", "json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["problems"] == 4
    writer = Corpus(db, progress=False)
    assert writer.add([InputRecord("t", 9, {"text": "Tugs free the Nordlys ferry off Tromsø after a day aground."})])
    after = writer.check()
    assert after.problems == 0
    assert writer.store.article(1).lang == "en" and writer.store.article(3).date is None
    assert all(s.last_seen.startswith("20") for s in writer.stories())


def test_index_check_repair_mends_in_place(tmp_path):
    db = tmp_path / "x.db"
    Corpus(db, progress=False).add([InputRecord("t", i, {"text": t}) for i, t in enumerate(FERRY + BUDGET, 1)])
    _poison(db)
    proc = cli("index", "check", "--db", str(db), "--repair")
    assert proc.returncode == 0, proc.stderr
    assert Corpus(db, readonly=True, progress=False).check().problems == 0


def test_a_second_writer_waits_for_the_first(tmp_path):
    db = tmp_path / "x.db"
    corpus = Corpus(db, progress=False, lock_timeout=20)
    corpus.add([InputRecord("t", 1, {"text": FERRY[0]})])
    with open(f"{db}.lock", "w") as held:           # another writer (another open file: flock conflicts)
        fcntl.flock(held, fcntl.LOCK_EX)
        threading.Timer(1.0, fcntl.flock, (held, fcntl.LOCK_UN)).start()
        start = time.monotonic()
        report = corpus.add([InputRecord("t", 2, {"text": FERRY[1]})])
        assert report.added == 1 and time.monotonic() - start >= 0.9
        fcntl.flock(held, fcntl.LOCK_EX)
        impatient = Corpus(db, progress=False, lock_timeout=0.3)
        with pytest.raises(StoreBusy, match="being written by another process"):
            impatient.add([InputRecord("t", 3, {"text": BUDGET[0]})])
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": BUDGET[1]}) + "\n")
    with open(f"{db}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = cli("index", "add", str(feed), "--db", str(db), "--lock-timeout", "0.5")
    assert proc.returncode == 75 and "being written by another process" in proc.stderr


def _copy(src: Path, dst: Path) -> None:
    """A byte copy of a whole index file, as ``cp`` would make it (the WAL folded in first)."""
    con = sqlite3.connect(src)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    shutil.copyfile(src, dst)


def test_a_database_copied_over_another_does_not_use_its_ann_file(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for path, texts in ((a, FERRY), (b, BUDGET + FERRY[:1])):
        corpus = Corpus(path, progress=False)
        corpus.add([InputRecord("t", i, {"text": t}) for i, t in enumerate(texts, 1)])
        corpus.close()         # the last connection folds the WAL into the file
    assert Path(f"{a}.usearch").exists() and not Path(f"{a}-wal").exists()
    _copy(b, a)
    reader = Corpus(a, readonly=True, progress=False)
    hits = reader.similar(reader.store.article(1).id, k=5, rescore=False)
    assert {reader.store.article(h.id).text.split()[0] for h in hits} == {"Valdoria", "Ferry"} and len(hits) == 2
    writer = Corpus(a, progress=False)
    writer.add([InputRecord("t", 9, {"text": "Tugs free the Nordlys ferry off Tromsø after a day aground."})])
    meta = json.loads(Path(f"{a}.usearch.json").read_text())
    assert meta["store_id"] == writer.store.store_id() and meta["keys"] == 4


def test_the_ann_file_is_a_checkpoint_caught_up_from_the_store(tmp_path):
    db = tmp_path / "x.db"
    service = Corpus(db, progress=False, checkpoint_seconds=3600)   # as a service: not after every request
    service.add([InputRecord("t", 1, {"text": FERRY[0]})])           # the first add writes it (never written)
    before = Path(f"{db}.usearch").stat().st_mtime_ns
    service.add([InputRecord("t", 2, {"text": FERRY[1]})])
    assert Path(f"{db}.usearch").stat().st_mtime_ns == before        # not rewritten per request
    reader = Corpus(db, readonly=True, progress=False)
    assert len(reader.ann()) == 2                                    # caught up from the store
    service.close()
    assert json.loads(Path(f"{db}.usearch.json").read_text())["keys"] == 2


def test_a_replaced_or_deleted_database_stops_the_writer(tmp_path):
    db, other = tmp_path / "x.db", tmp_path / "other.db"
    service = Corpus(db, progress=False)
    service.add([InputRecord("t", 1, {"text": FERRY[0]})])
    Corpus(other, progress=False).add([InputRecord("t", 1, {"text": BUDGET[0]})])
    _copy(other, tmp_path / "copy.db")
    os.replace(tmp_path / "copy.db", db)
    ann = Path(f"{db}.usearch").read_bytes()
    with pytest.raises(StoreChanged, match="replaced"):
        service.add([InputRecord("t", 2, {"text": FERRY[1]})])
    assert Path(f"{db}.usearch").read_bytes() == ann
    db.unlink()
    with pytest.raises(StoreChanged, match="deleted"):
        service.add([InputRecord("t", 2, {"text": FERRY[1]})])


def test_an_ann_file_that_cannot_be_written_is_not_a_failed_write(tmp_path):
    db = tmp_path / "x.db"
    Path(f"{db}.usearch.tmp").mkdir()          # what a full disk does to the write, as a real OSError
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": FERRY[0]}) + "\n")
    report = tmp_path / "report.jsonl"
    proc = cli("index", "add", str(feed), "--db", str(db), "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(report.read_text())["status"] == "added"
    assert not Path(f"{db}.usearch").exists() and not Path(f"{db}.usearch.json.tmp").exists()
    assert len(Corpus(db, readonly=True, progress=False).ann()) == 1


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to run as nobody")
def test_an_index_on_read_only_storage_can_be_read(tmp_path):
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        folder.chmod(0o755)
        db = folder / "x.db"
        corpus = Corpus(db, progress=False)
        corpus.add([InputRecord("t", i, {"text": t}) for i, t in enumerate(FERRY + BUDGET, 1)])
        corpus.close()
        for suffix in ("-wal", "-shm"):       # a folder nobody may write, as on read-only storage
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "SAMESTORY_CACHE": str(folder / "cache")}
        for args in (["index", "stories"], ["index", "duplicates"]):
            proc = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
                                   "-m", "samestory.cli", *args, "--db", str(db)], capture_output=True, text=True,
                                  timeout=300, env=env, cwd="/")
            assert proc.returncode == 0, proc.stderr
        assert "Valdoria" in subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-m", "samestory.cli",
             "index", "stories", "--db", str(db)], capture_output=True, text=True, timeout=300, env=env, cwd="/").stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
