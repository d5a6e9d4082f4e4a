"""The corpus index with the real encoder on small inputs."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import EXAMPLES, add_one_at_a_time, copy_groups

from samestory.corpus import Corpus
from samestory.ingest import Columns, iter_records

UCI_COLS = Columns(title="TITLE", date="TIMESTAMP", url="URL")


@pytest.fixture(scope="module")
def uci_small(shared, tmp_path_factory):
    """Headlines of four real stories, in arrival order."""
    df = pd.read_csv(shared / "uci_stories/dev.csv").sort_values("TIMESTAMP")
    keep = df.STORY.drop_duplicates().head(4)
    small = df[df.STORY.isin(keep)].groupby("STORY").head(15)
    path = tmp_path_factory.mktemp("uci") / "small.csv"
    small.to_csv(path, index=False)
    return path, small


def test_malformed_lines_are_reported_and_every_record_accounted_for(tmp_path):
    feed = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"title": "Storm closes Rotterdam port", "text": (EXAMPLES / "rewrite_storm.txt").read_text()}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"title": "", "text": ""}),
        json.dumps({"text": (EXAMPLES / "unrelated_budget.txt").read_text()}),
        json.dumps({"text": "Leave a Comment\nShare this:"}),
        json.dumps({"text": "Checking your browser before accessing the site.\nPlease enable JavaScript and cookies."}),
    ]
    feed.write_text("\n".join(lines) + "\n")
    report = Corpus(tmp_path / "x.db", progress=False).add(iter_records([str(feed)]))
    by_line = {o.line: o.to_dict() for o in report.outcomes}
    assert sorted(by_line) == [1, 2, 3, 4, 5, 6, 7]
    assert [by_line[n]["status"] for n in range(1, 8)] == ["added", "error", "error", "error", "added", "error", "error"]
    assert "invalid JSON" in by_line[2]["error"] and "not an object" in by_line[3]["error"]
    assert by_line[7]["error"] == "not an article (browser check page)"
    assert report.added == 2 and report.errors == 5


def test_csv_columns_folders_and_gzip(tmp_path):
    import gzip

    folder = tmp_path / "articles"
    folder.mkdir()
    for name in ("wire_storm.html", "translation_storm_de.json", "unrelated_budget.txt"):
        (folder / name).write_bytes((EXAMPLES / name).read_bytes())
    (folder / "notes.bin").write_bytes(b"\x00\x01")
    with gzip.open(tmp_path / "feed.csv.gz", "wt") as fh:
        fh.write("headline,body,when\nPort shut,\"" + (EXAMPLES / "rewrite_storm.txt").read_text().replace('"', '""')
                 + "\",2026-02-10\nbad,row,with,too,many\n")
    items = list(iter_records([str(folder), str(tmp_path / "feed.csv.gz")],
                              Columns(text="body", title="headline", date="when")))
    assert len(items) == 6
    assert sum(i.error is not None for i in items) == 2  # unsupported .bin, the over-long CSV row
    assert any(i.record and i.record.get("title") == "Port shut" for i in items)


def test_readding_is_a_no_op(tmp_path, uci_small):
    path, small = uci_small
    db = tmp_path / "x.db"
    first = Corpus(db, progress=False).add(iter_records([str(path)], UCI_COLS))
    second = Corpus(db, progress=False).add(iter_records([str(path)], UCI_COLS))
    assert second.added == 0 and second.already_stored == len(small)
    assert first.added + first.already_stored == len(small)
    n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert n == first.added


def test_incremental_adds_keep_story_ids(tmp_path, uci_small):
    _, small = uci_small
    half = len(small) // 2
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    small.iloc[:half].to_csv(a, index=False)
    small.iloc[half:].to_csv(b, index=False)
    db = tmp_path / "x.db"
    first = Corpus(db, progress=False).add(iter_records([str(a)], UCI_COLS))
    before = {o.article: o.story for o in first.outcomes if o.status == "added"}
    corpus = Corpus(db, progress=False)
    second = corpus.add(iter_records([str(b)], UCI_COLS))
    con = sqlite3.connect(db)
    merged = dict(con.execute("SELECT id, merged_into FROM stories WHERE merged_into IS NOT NULL"))
    for article, story in before.items():
        now = con.execute("SELECT story FROM articles WHERE id=?", (article,)).fetchone()[0]
        assert now == story or merged.get(story) == now
    # later headlines of a story the first add opened join it; a story new to the index stays apart
    old = set(before.values())
    seen_before = set(small.iloc[:half].STORY)
    gold = small.iloc[half:].STORY.tolist()
    added = [o for o in second.outcomes if o.status == "added"]
    continuing = [o for o in added if gold[o.line - 1] in seen_before]
    fresh = [o for o in added if gold[o.line - 1] not in seen_before]
    assert continuing and fresh
    assert sum(o.story in old for o in continuing) >= 0.7 * len(continuing)
    assert sum(o.story in old for o in fresh) <= 0.2 * len(fresh)


def test_resume_after_kill_minus_nine(tmp_path, shared):
    df = pd.read_csv(shared / "uci_stories/dev.csv").sort_values("TIMESTAMP").head(300)
    path = tmp_path / "feed.csv"
    df.to_csv(path, index=False)
    db = tmp_path / "x.db"
    cmd = [sys.executable, "-m", "samestory.cli", "index", "add", str(path), "--db", str(db),
           "--title-col", "TITLE", "--time-col", "TIMESTAMP", "--batch-size", "32"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            stored = sqlite3.connect(db).execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        except sqlite3.Error:
            continue
        if stored >= 96:
            break
    assert proc.poll() is None, "the first run finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < stored < len(df)
    done = subprocess.run(cmd + ["--format", "json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    con = sqlite3.connect(db)
    distinct = con.execute("SELECT COUNT(DISTINCT id) FROM articles").fetchone()[0]
    total = con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert total == distinct == df.TITLE.nunique()
    assert con.execute("SELECT COUNT(*) FROM inputs").fetchone()[0] == len(df)
    summary = json.loads(done.stdout)
    assert summary["added"] + summary["already_stored"] == len(df)
    assert len(Corpus(db, progress=False).ann()) == total  # the ANN index caught up with the store


def test_copies_and_translations_are_duplicates_in_one_story(tmp_path):
    wire = (EXAMPLES / "wire_storm.html").read_text()
    german = json.loads((EXAMPLES / "translation_storm_de.json").read_text())
    from samestory.ingest import clean_record

    wire_text = clean_record({"html": wire}).text
    feed = tmp_path / "feed.jsonl"
    records = [
        {"html": wire, "date": "2026-02-10T07:45:00Z", "url": "https://example.org/wire"},
        {"title": "Storm Ingrid shuts Rotterdam port", "text": wire_text + "\n\nRead more: our storm live blog.",
         "date": "2026-02-10T09:00:00Z"},
        {**german, "date": "2026-02-10T10:30:00Z"},
        {"text": (EXAMPLES / "rewrite_storm.txt").read_text(), "date": "2026-02-10T11:00:00Z"},
        {"text": (EXAMPLES / "unrelated_budget.txt").read_text(), "date": "2026-02-12T18:00:00Z"},
        # the first half of the wire story, retitled: an excerpt, far below 0.5 resemblance
        {"title": "Rotterdam port closed by storm",
         "text": "\n".join(wire_text.splitlines()[:3]),
         "date": "2026-02-10T12:00:00Z"},
    ]
    feed.write_text("\n".join(json.dumps(r) for r in records))
    corpus = Corpus(tmp_path / "x.db", progress=False)
    report = corpus.add(iter_records([str(feed)]))
    story = [o.story for o in report.outcomes]
    assert story[0] == story[1] == story[2] == story[3] == story[5] != story[4]
    groups = corpus.duplicates()
    assert len(groups) == 1
    copies = {(c["lang"], c["kind"]): c for c in groups[0]["copies"]}
    assert groups[0]["source"]["title"].startswith("Storm Ingrid shuts Port of Rotterdam")
    assert set(copies) == {("en", "copy"), ("de", "translation"), ("en", "excerpt")}
    assert copies["en", "copy"]["copied_share"] > 0.9          # the republished wire copy
    assert copies["de", "translation"]["copied_share"] is None
    assert copies["en", "excerpt"]["copied_share"] > 0.9       # all of it is the wire's text
    hits = corpus.similar(report.outcomes[3].article, k=4)
    assert {h.lang for h in hits} >= {"en", "de"}
    assert all(h.same_story for h in hits)


def test_an_article_that_joins_two_copy_groups_merges_them(tmp_path):
    """The original arrives last, after its translation and an excerpt of it, one batch each:
    it is a copy of the excerpt and translated by the German, so the two stored groups become
    one, in the store and in memory alike, and a reopened index agrees."""
    from samestory.ingest import clean_record

    wire = (EXAMPLES / "wire_storm.html").read_text()
    german = json.loads((EXAMPLES / "translation_storm_de.json").read_text())
    excerpt = "\n".join(clean_record({"html": wire}).text.splitlines()[:3])
    records = [
        {**german, "id": "de", "date": "2026-02-10T07:00:00Z"},
        {"id": "excerpt", "title": "Rotterdam port closed by storm", "text": excerpt, "date": "2026-02-10T08:00:00Z"},
        {"id": "wire", "html": wire, "date": "2026-02-10T09:00:00Z"},
        {"id": "budget", "text": (EXAMPLES / "unrelated_budget.txt").read_text(), "date": "2026-02-10T10:00:00Z"},
    ]
    db = tmp_path / "x.db"
    corpus = Corpus(db, progress=False)

    add_one_at_a_time(corpus, records[:2], tmp_path)
    assert copy_groups(corpus) == []       # an excerpt does not cover a whole translation
    add_one_at_a_time(corpus, records[2:], tmp_path)
    assert copy_groups(corpus) == [{"de", "excerpt", "wire"}]
    (group,) = corpus.duplicates()
    assert group["source"]["record_id"] == "de"                     # the earliest is the likely source
    assert {m["kind"] for m in group["copies"]} == {"translation"}
    state = corpus.state()
    reopened = Corpus(db, progress=False)
    assert copy_groups(reopened) == copy_groups(corpus)
    assert reopened.state().dup_root == state.dup_root and reopened.state().dup_langs == state.dup_langs
    assert state.dup_langs == {next(iter(state.dup_root.values())): {"en"}}


def test_cli_cluster_eval_and_timeline(tmp_path, uci_small):
    path, small = uci_small
    out, rep = tmp_path / "stories.jsonl", tmp_path / "report.jsonl"
    run = lambda *a: subprocess.run([sys.executable, "-m", "samestory.cli", *a], capture_output=True,
                                    text=True, timeout=300)
    proc = run("cluster", str(path), "--title-col", "TITLE", "--time-col", "TIMESTAMP", "--out", str(out),
               "--report", str(rep), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(rep.read_text().splitlines()) == len(small)
    stories = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(s["size"] for s in stories) == len({*small.TITLE})
    proc = run("eval", "stories", str(path), "--text-col", "TITLE", "--label-col", "STORY",
               "--time-col", "TIMESTAMP", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {"bcubed_f1", "pairwise_f1", "ari", "articles", "seconds"} <= set(result)
    assert result["articles"] == len(small) and result["bcubed_f1"] > 0.8
    db = tmp_path / "x.db"
    assert run("index", "add", str(path), "--db", str(db), "--title-col", "TITLE",
               "--time-col", "TIMESTAMP").returncode == 0
    assert run("index", "timeline", "--db", str(db), "--out", str(tmp_path / "t.html")).returncode == 0
    assert "<svg" in (tmp_path / "t.html").read_text()
    table = run("index", "stories", "--db", str(db))
    assert table.returncode == 0 and "label" in table.stdout


def test_record_ids_round_trip_through_every_output(tmp_path):
    """The record's own id (``--id-col``) is kept and shown beside samestory's id everywhere,
    and ``similar`` takes either. A record with the very text of a stored one (cms-4: an
    outlet that ran the wire unchanged) is stored once; its id is listed with the text's."""
    from samestory.ingest import clean_record

    wire_text = clean_record({"html": (EXAMPLES / "wire_storm.html").read_text()}).text
    feed = tmp_path / "feed.csv"
    blog = wire_text + "\n\nRead more: our storm live blog."
    pd.DataFrame({"ref": ["cms-1", "cms-2", "cms-bad", "cms-3", "cms-4", "cms-5"],
                  "body": [wire_text, blog, "", (EXAMPLES / "unrelated_budget.txt").read_text(), wire_text, blog],
                  "when": ["2026-02-10T07:45:00Z", "2026-02-10T09:00:00Z", "2026-02-10T09:30:00Z",
                           "2026-02-12T18:00:00Z", "2026-02-10T07:45:00Z", "2026-02-10T09:00:00Z"]}
                 ).to_csv(feed, index=False)
    db, report = tmp_path / "x.db", tmp_path / "report.jsonl"

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "samestory.cli", *args], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("index", "add", str(feed), "--db", str(db), "--id-col", "ref", "--text-col", "body", "--time-col", "when",
        "--report", str(report))
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line.get("record_id") for line in lines] == ["cms-1", "cms-2", "cms-bad", "cms-3", "cms-4", "cms-5"]
    assert lines[2]["status"] == "error"
    ids = {line["record_id"]: line["article"] for line in lines if line["status"] == "added"}
    assert lines[4]["status"] == "exists" and lines[4]["article"] == ids["cms-1"]

    groups = json.loads(cli("index", "duplicates", "--db", str(db), "--format", "json"))["groups"]
    assert [(g["source"]["record_id"], g["source"]["also_record_ids"],
             [(c["record_id"], c["also_record_ids"]) for c in g["copies"]]) for g in groups] == \
        [("cms-1", ["cms-4"], [("cms-2", ["cms-5"])])]
    assert "[cms-1, cms-4]" in cli("index", "duplicates", "--db", str(db))

    members = [m for line in cli("index", "stories", "--db", str(db), "--format", "jsonl").splitlines()
               for m in json.loads(line)["members"]]
    assert {(m["record_id"], m["id"]) for m in members} == set(ids.items())
    assert {m["record_id"]: m["also_record_ids"] for m in members} == {"cms-1": ["cms-4"], "cms-2": ["cms-5"], "cms-3": []}

    by_user = json.loads(cli("index", "similar", "cms-1", "--db", str(db), "--no-rescore", "--format", "json"))["results"]
    by_hash = json.loads(cli("index", "similar", ids["cms-1"], "--db", str(db), "--no-rescore", "--format", "json"))["results"]
    by_later = json.loads(cli("index", "similar", "cms-4", "--db", str(db), "--no-rescore", "--format", "json"))["results"]
    assert by_user == by_hash == by_later and {r["record_id"] for r in by_user} == {"cms-2", "cms-3"}
