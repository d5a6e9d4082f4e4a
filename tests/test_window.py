"""The hot window and the cold archive (corpus.window, index.archive), and deletion through the
CLI and the HTTP service, on synthetic headlines written for these tests with the hashing
encoder (no model): stories of one day each, over eight days, so that a one-day window
archives most of them."""
import json
import os
import random
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.index import archive as archive_mod
from samestory.index.archive import ColdArchive, archive, folder, merge_plan, remove_orphans, segments
from samestory.ingest import InputRecord
from samestory.service.app import ServiceSettings, create_app

DAYS, STORIES, PER_STORY = 8, 4, 5
WORDS = [f"{a}{b}" for a in ("kel", "dun", "orv", "mar", "tes", "vil", "zan", "pro", "qua", "bri")
         for b in ("mora", "marsh", "ale", "ton", "ville", "berg", "dor", "nix", "ste", "lun")]


def _headlines() -> list[dict]:
    rng = random.Random(7)
    out = []
    for day in range(DAYS):
        for s in range(STORIES):
            vocab = rng.sample(WORDS, 8)
            for j in range(PER_STORY):
                words = vocab[:5] + rng.sample(vocab[5:], 2) + [rng.choice(["says", "reports", "update"])]
                rng.shuffle(words)
                out.append({"id": f"d{day}s{s}a{j}", "story": f"d{day}s{s}", "title": " ".join(words).capitalize(),
                            "date": f"2026-03-{day + 1:02d}T{8 + 2 * j + s:02d}:00:00Z"})
    return out


RERUN = ("Dunmarsh copper miners walked out on Tuesday over a three percent pay offer, and the union said "
         "fourteen hundred workers joined the strike while the pits stay closed until talks resume")


def _records(rows: list[dict]) -> list[InputRecord]:
    return [InputRecord("feed", i + 1, {k: r[k] for k in ("id", "title", "date")} | {"text": r.get("text", "")})
            for i, r in enumerate(rows)]


def _build(db, hot_days: float, rows: list[dict]) -> Corpus:
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False, hot_days=hot_days)
    corpus.add(_records(rows), batch_size=16)
    corpus.store.set_meta("encoder_spec", "hashing")     # so that the CLI and the service open it
    return corpus


def _partition(corpus: Corpus) -> set[frozenset[str]]:
    return {frozenset(m.record_id for m in s.members) for s in corpus.stories(members=True)}


@pytest.fixture(scope="module")
def windowed(tmp_path_factory):
    rows = _headlines()
    rows.insert(3, {"id": "wire-1", "title": "Dunmarsh miners strike", "text": RERUN, "date": "2026-03-01T09:30:00Z"})
    rows.append({"id": "wire-1-rerun", "title": "Dunmarsh miners strike over pay",
                 "text": RERUN + " (first published last week)", "date": "2026-03-08T20:00:00Z"})
    hot = _build(tmp_path_factory.mktemp("w") / "hot.db", 1.0, rows)
    everything = _build(tmp_path_factory.mktemp("a") / "all.db", float("inf"), rows)
    return hot, everything


def test_the_writer_keeps_only_the_window_and_archives_the_rest(windowed):
    hot, everything = windowed
    total = hot.store.count()
    assert total == DAYS * STORIES * PER_STORY + 2
    held = len(hot.state().prints)
    assert held < total / 3                             # about two days of eight are in memory
    assert len(everything.state().prints) == total      # no window: everything
    assert segments(hot.store)                          # the rest is in the archive's segments
    live = dict(hot.store.db.execute("SELECT segment, COUNT(*) FROM articles WHERE segment IS NOT NULL "
                                     "GROUP BY segment"))
    assert merge_plan({s[0]: live.get(s[0], 0) for s in segments(hot.store)}) == []   # merged as it went
    assert len(segments(hot.store)) == 1                # every sweep appended to it (far below MAX_SEGMENT) ...
    assert sorted(p.name for p in folder(hot.store).iterdir()) == [segments(hot.store)[0][1],
                                                                   segments(hot.store)[0][1] + ".json"]   # ... one file
    assert sum(live.values()) == total - held
    assert all(not s.startswith("d0") for s in
               {hot.store.article(r).record_id.rsplit("a", 1)[0] for r in hot.state().prints if r != 0
                if hot.store.article(r).record_id.startswith("d")})
    assert len(hot.state().clusterer.stories) < len(everything.state().clusterer.stories)


def test_the_window_changes_no_story_of_a_stream_in_time_order(windowed):
    hot, everything = windowed
    wire = {"wire-1", "wire-1-rerun"}
    assert {p - wire for p in _partition(hot)} - {frozenset()} == {p - wire for p in _partition(everything)} - {
        frozenset()}
    # The re-run a week later opens a story of its own: its archived source's story closed long
    # before (without a window, settling pulls the week-old source into the re-run's new story).
    assert {frozenset({"wire-1"}), frozenset({"wire-1-rerun"})} <= _partition(hot)


def test_similar_finds_articles_that_left_memory(windowed):
    hot, _ = windowed
    hits = hot.similar("d0s1a0", k=4, rescore=False)
    assert {h.record_id for h in hits} >= {"d0s1a1", "d0s1a2"}      # day-1 siblings, all archived
    assert hot.store.article("d0s1a1").rowid not in hot.state()


def test_a_full_segment_is_left_and_a_new_one_started(tmp_path, monkeypatch):
    monkeypatch.setattr(archive_mod, "MAX_SEGMENT", 30)
    corpus = _build(tmp_path / "small-segments.db", 1.0, _headlines())
    segs = segments(corpus.store)
    live = dict(corpus.store.db.execute("SELECT segment, COUNT(*) FROM articles WHERE segment IS NOT NULL "
                                        "GROUP BY segment"))
    assert len(segs) >= 3 and all(n <= 30 for _, _, n in segs) and sum(live.values()) == sum(n for *_, n in segs)
    hits = corpus.similar("d0s1a0", k=4, rescore=False)
    assert {h.record_id for h in hits} >= {"d0s1a1", "d0s1a2"}


def test_an_append_that_fails_to_commit_leaves_the_segment_as_it_was(windowed, tmp_path, monkeypatch):
    hot, _ = windowed
    store = hot.store
    (sid, name, n), = segments(store)
    hot_rowids = sorted(hot.state().prints)[:5]

    def fail(_store):
        raise RuntimeError("killed inside the transaction")

    monkeypatch.setattr(archive_mod, "bump_hot_epoch", fail)
    with store.writer(), pytest.raises(RuntimeError):
        archive(store, hot_rowids, hot.state().ann.dim)
    assert segments(store) == [(sid, name, n)]          # the row still names the old file, which is there
    assert len(list(folder(store).glob("seg-*.usearch"))) == 2      # and the new one, which no row names
    assert store.db.execute(f"SELECT COUNT(*) FROM articles WHERE segment IS NOT NULL AND rowid IN "
                            f"({','.join(map(str, hot_rowids))})").fetchone()[0] == 0
    with store.writer():
        remove_orphans(store)
    assert [p.name for p in folder(store).glob("seg-*.usearch")] == [name]
    assert len(ColdArchive(store)) == n


def test_a_copy_of_an_archived_article_is_still_found_as_a_copy(windowed):
    hot, _ = windowed
    source = hot.store.article("wire-1")
    assert source.rowid not in hot.state()            # it left memory days before the re-run came
    groups = hot.duplicates()
    group = next(g for g in groups if g["source"]["record_id"] == "wire-1")
    assert [c["record_id"] for c in group["copies"]] == ["wire-1-rerun"]


def test_a_restart_loads_only_the_window_and_goes_on(windowed, tmp_path):
    hot, _ = windowed
    again = Corpus(hot.store.path, encoder=load_encoder("hashing"), progress=False, hot_days=1.0)
    assert set(again.state().prints) == set(hot.state().prints)
    report = again.add(_records([{"id": "late", "title": "Kelmora ferry timetable changes", "date":
                                  "2026-03-09T06:00:00Z"}]))
    assert report.added == 1
    assert again.similar("late", k=3, rescore=False)
    again.close()


@pytest.fixture()
def small(tmp_path):
    rows = _headlines()[:2 * STORIES * PER_STORY]
    rows.append({"id": "copy-of-d0s0a0", "title": rows[0]["title"], "text": "Reported by the wire.",
                 "date": "2026-03-01T23:00:00Z"})
    corpus = _build(tmp_path / "small.db", float("inf"), rows)
    return corpus


def test_index_delete_removes_a_copy_groups_source_and_a_storys_last_member(small):
    db = str(small.store.path)
    before = {s.id: s for s in small.stories(members=True)}
    groups = small.duplicates()
    source = next(g for g in groups if g["source"]["record_id"] == "d0s0a0")
    lone_story = next(s for s in before.values() if {m.record_id for m in s.members} <= {"d1s3a0", "d1s3a1", "d1s3a2",
                                                                                         "d1s3a3", "d1s3a4"})
    victims = ["d0s0a0", *[m.record_id for m in lone_story.members]]
    small.close()
    out = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "delete", *victims, "nope", "--db", db,
                          "--format", "json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["removed"] == len(victims) and report["not_found"] == ["nope"]
    assert lone_story.id in report["stories_removed"]
    assert "no article 'nope'" in out.stderr
    after = Corpus(db, encoder=load_encoder("hashing"), progress=False, readonly=True)
    stored = {m.record_id for s in after.stories(members=True) for m in s.members}
    assert not stored & set(victims)
    assert lone_story.id not in {s.id for s in after.stories()}
    regrouped = [g for g in after.duplicates() if "copy-of-d0s0a0" in
                 [g["source"]["record_id"], *[c["record_id"] for c in g["copies"]]]]
    assert not regrouped or regrouped[0]["source"]["record_id"] != "d0s0a0"
    assert source["copies"]
    for rid in victims:
        assert after.store.article(rid) is None
    hits = after.similar("d0s0a1", k=20, rescore=False)
    assert not {h.record_id for h in hits} & set(victims)


def test_delete_over_http_needs_the_token_and_answers_404_after(small):
    db = str(small.store.path)
    small.close()
    from samestory.pipeline import Comparer

    encoder = load_encoder("hashing")
    app = create_app(ServiceSettings(db=db, token="s3cret", allowed_hosts=("testserver",)),
                     comparer=Comparer(encoder=encoder), corpus=Corpus(db, encoder=encoder, progress=False))
    with TestClient(app) as client:
        assert client.get("/articles/d0s2a1").status_code == 200
        assert client.delete("/articles/d0s2a1").status_code == 401
        gone = client.delete("/articles/d0s2a1", headers={"Authorization": "Bearer s3cret"})
        assert gone.status_code == 200 and gone.json()["removed"] == 1
        assert client.get("/articles/d0s2a1").status_code == 404
        assert client.delete("/articles/d0s2a1", headers={"Authorization": "Bearer s3cret"}).status_code == 404
        assert client.get("/articles/d0s2a1/similar").status_code == 404
        similar = client.get("/articles/d0s2a0/similar", params={"k": 20}).json()["results"]
        assert "d0s2a1" not in {h["record_id"] for h in similar}
        members = [m["record_id"] for s in client.get("/stories").json()["stories"]
                   for m in client.get(f"/stories/{s['id']}").json()["members"]]
        assert "d0s2a1" not in members and "d0s2a0" in members


def test_index_prune_and_backup_on_the_command_line(small, tmp_path):
    db = str(small.store.path)
    small.close()
    env = {**os.environ}
    copy = tmp_path / "copy.db"
    out = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "backup", str(copy), "--db", db],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "prune", "--older-than",
                          "2026-03-02", "--db", db, "--format", "json"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["removed"] == STORIES * PER_STORY + 1        # day 1 and its copy
    pruned = Corpus(db, encoder=load_encoder("hashing"), progress=False, readonly=True)
    assert pruned.store.count() == STORIES * PER_STORY
    restored = Corpus(copy, encoder=load_encoder("hashing"), progress=False, readonly=True)
    assert restored.store.count() == 2 * STORIES * PER_STORY + 1             # the backup kept what it saw
    assert restored.similar("d0s0a1", k=3, rescore=False)
    out = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "backup", str(copy), "--db", db],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2 and "exists already" in out.stderr


KILLED_DELETE = """
import sys, time
from samestory.corpus import Corpus
from samestory.embed import load_encoder
corpus = Corpus(sys.argv[1], encoder=load_encoder("hashing"), progress=False)

def slow(statement):        # stop inside the delete's transaction, where the kill lands
    if statement.startswith("DELETE FROM articles"):
        print("inside", flush=True)
        time.sleep(30)

corpus.store.db.set_trace_callback(slow)
corpus.delete(sys.argv[2:])
"""


def test_a_delete_killed_inside_its_transaction_leaves_everything_and_the_same_command_finishes(small):
    import signal
    import sqlite3

    db = str(small.store.path)
    victims = [f"d0s{s}a{j}" for s in range(STORIES) for j in range(PER_STORY)]
    small.close()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_DELETE, db, *victims], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "inside"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 2 * STORIES * PER_STORY + 1   # all there
    con.close()
    out = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "delete", *victims, "--db", db],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    con = sqlite3.connect(db)
    q = lambda sql: con.execute(sql).fetchall()
    assert q("SELECT COUNT(*) FROM articles") == [(STORIES * PER_STORY + 1,)]
    assert q("SELECT * FROM links WHERE a NOT IN (SELECT rowid FROM articles) OR b NOT IN (SELECT rowid FROM articles)") == []
    assert q("SELECT * FROM record_ids WHERE article NOT IN (SELECT id FROM articles)") == []
    assert q("SELECT rowid FROM articles WHERE dup_of IS NOT NULL AND dup_of NOT IN (SELECT rowid FROM articles)") == []
    assert q("SELECT s.id FROM stories s WHERE s.merged_into IS NULL AND "
             "s.n != (SELECT COUNT(*) FROM articles a WHERE a.story = s.id)") == []
    assert q("PRAGMA integrity_check") == [("ok",)]
