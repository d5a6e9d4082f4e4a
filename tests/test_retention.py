"""Deleting, pruning, reclaiming and backing up an index (index.retention): at the store level
and through a real Corpus with the hashing encoder (no model), on articles written for these
tests (fictional events). Processes that write or prune while another backs up or is killed
are real subprocesses."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import samestory
from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.index.retention import backup, prune, prune_candidates, pruned_text, reclaim, remove, resolve
from samestory.index.store import Store
from samestory.ingest import InputRecord
from samestory.types import InputError

SRC = str(Path(samestory.__file__).resolve().parents[1])
BRIDGE = ("A cargo crane struck the Kelmora harbour bridge on Monday night and the city closed it to all traffic; "
          "engineers said the eastern span had shifted by 14 centimetres and that repairs could take six weeks.")
BRIDGE2 = ("Kelmora's harbour bridge will stay shut for weeks after a crane barge hit its eastern span, the city "
           "engineer told reporters, adding that ferries would run every 20 minutes while it is repaired.")
MINE = ("Workers at the Dunmarsh copper mine walked out on Tuesday over a pay offer of 3 percent; the union said "
        "1,400 miners joined the strike and that the pits would stay closed until the company returned to talks.")
MINE2 = ("The strike at Dunmarsh copper mine entered its second day as the company said the 3 percent pay offer was "
         "final; the miners' union said 1,400 workers had joined and the pits remained closed.")
LIBRARY = ("Orvale's central library reopened its doors on Thursday, eight months after floodwater ruined the ground "
           "floor and about 30,000 books; the council spent 2.1 million on the repairs.")
DAY3 = 1772496000.0       # 2026-03-03T00:00:00Z: rows 1-3 are older


def _rec(line, title, text, day, hour, rid, source="feed"):
    return InputRecord(source, line, {"id": rid, "title": title, "text": text,
                                      "date": f"2026-03-{day:02d}T{hour:02d}:00:00Z"})


RECORDS = [_rec(1, "Crane hits Kelmora bridge", BRIDGE, 2, 8, "b1"),              # rowid 1: a copy group's root
           _rec(2, "Dunmarsh miners strike", MINE, 2, 9, "m1"),                   # 2: also under record id m1-again
           _rec(3, "Orvale library reopens", LIBRARY, 2, 10, "l1"),               # 3: a story of its own
           _rec(4, "Kelmora bridge to stay shut", BRIDGE2, 3, 8, "b2"),
           _rec(5, "Kelmora bridge closed after crane strike", BRIDGE + " Ferries will run instead.", 3, 9, "b3"),
           _rec(6, "Bridge shut in Kelmora", "Reported by our wire service. " + BRIDGE, 3, 10, "b4"),
           _rec(7, "Dunmarsh strike enters second day", MINE2, 3, 11, "m2"),
           _rec(8, "Dunmarsh miners strike", MINE, 3, 12, "m1-again")]


def _corpus(db, **kw):
    return Corpus(db, encoder=load_encoder("hashing"), progress=False, **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    db = tmp_path_factory.mktemp("built") / "x.db"
    corpus = _corpus(db)
    corpus.add(RECORDS)
    corpus.close()
    return db


@pytest.fixture
def index(built, tmp_path):
    """A private copy of the built index, its copy group checked first."""
    db = tmp_path / "x.db"
    with sqlite3.connect(built) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    con = sqlite3.connect(db)
    assert con.execute("SELECT rowid, dup_of FROM articles WHERE dup_of IS NOT NULL").fetchall() == [(5, 1), (6, 1)]
    assert {r[0] for r in con.execute("SELECT story FROM articles WHERE rowid IN (1, 5, 6)")} == {1}
    con.close()
    return db


def _consistent(db) -> sqlite3.Connection:
    """Assert that nothing points at a missing article and every story agrees with its members."""
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    q = lambda sql: con.execute(sql).fetchall()
    assert q("SELECT * FROM links WHERE a NOT IN (SELECT rowid FROM articles) "
             "OR b NOT IN (SELECT rowid FROM articles)") == []
    assert q("SELECT * FROM record_ids WHERE article NOT IN (SELECT id FROM articles)") == []
    assert q("SELECT * FROM cold_bands WHERE article NOT IN (SELECT rowid FROM articles)") == []
    assert q("SELECT * FROM inputs WHERE article NOT IN (SELECT id FROM articles) AND error IS NULL") == []
    assert q("SELECT a.rowid FROM articles a LEFT JOIN articles r ON r.rowid = a.dup_of "
             "WHERE a.dup_of IS NOT NULL AND (r.rowid IS NULL OR r.dup_of IS NOT NULL)") == []
    assert q("SELECT a.rowid FROM articles a LEFT JOIN stories s ON s.id = a.story "
             "WHERE s.id IS NULL OR s.n = 0 OR s.merged_into IS NOT NULL") == []
    for sid, n, first, last, vsum in q("SELECT id, n, first, last, vsum FROM stories WHERE merged_into IS NULL"):
        rows = q(f"SELECT ts, vec FROM articles WHERE story = {sid}")
        assert n == len(rows), sid
        if rows:
            assert (first, last) == (min(r[0] for r in rows), max(r[0] for r in rows))
            members = np.sum([np.frombuffer(r[1], np.float32).astype(np.float64) for r in rows], axis=0)
            assert np.allclose(np.frombuffer(vsum, np.float64), members, atol=1e-4)
    return con


def test_deleting_a_copy_groups_source_hands_the_group_to_the_next_earliest(index):
    store = Store(index)
    with store.writer():
        removal = remove(store, [1])
    assert removal.rowids == [1] and removal.new_roots == {5: None, 6: 5}
    con = _consistent(index)
    assert con.execute("SELECT rowid, dup_of, copied FROM articles WHERE rowid IN (5, 6)").fetchall() == \
        [(5, None, None), (6, 5, None)]
    groups = _corpus(index, readonly=True).duplicates()
    assert [(g["source"]["record_id"], [m["record_id"] for m in g["copies"]]) for g in groups
            if g["copies"]] == [("b3", ["b4"])]


def test_deleting_a_member_recounts_and_relabels_its_story(index):
    before = _corpus(index, readonly=True).story(1)
    assert before.label == "Crane hits Kelmora bridge" and before.size == 3
    store = Store(index)
    with store.writer():
        removal = remove(store, [1])
    assert removal.removed_stories == [] and [s.id for s in removal.stories] == [1]
    changed = removal.stories[0]
    stored = store.stories(story_id=1)[0]
    assert (changed.n, changed.first, changed.last, changed.langs) == (2, 1772528400.0, 1772532000.0, {"en": 2})
    assert (stored.n, stored.first, stored.last, stored.langs) == (2, 1772528400.0, 1772532000.0, {"en": 2})
    assert np.array_equal(stored.vsum, changed.vsum)
    assert np.allclose(changed.vsum, store.vector(5).astype(np.float64) + store.vector(6))
    after = _corpus(index, readonly=True).story(1)
    assert after.size == 2 and after.label in {"Kelmora bridge closed after crane strike", "Bridge shut in Kelmora"}
    _consistent(index)


def test_deleting_a_storys_last_member_removes_the_story(index):
    store = Store(index)
    assert [s.id for s in store.stories(story_id=3)] == [3]
    with store.writer():
        removal = remove(store, [3, 999])       # an unknown rowid is ignored
    assert removal.rowids == [3] and removal.removed_stories == [3] and removal.stories == []
    assert store.stories(story_id=3) == [] and 3 not in {s.id for s in store.stories()}
    assert store.db.execute("SELECT n, merged_into FROM stories WHERE id=3").fetchone() == (0, None)
    assert _corpus(index, readonly=True).story(3) is None
    _consistent(index)


def test_links_record_ids_cold_bands_go_and_the_ledger_says_deleted(index):
    store = Store(index)
    store.db.executemany("INSERT INTO cold_bands VALUES (?, ?)", [(11, 2), (12, 2), (11, 4)])
    found, missing = resolve(store, ["m1-again", "b2", "27114396c9d352e9", "nope", "nope"])
    assert found == {"m1-again": 2, "b2": 4, "27114396c9d352e9": 2} and missing == ["nope"]
    assert store.db.execute("SELECT COUNT(*) FROM links WHERE a = 1 OR b = 1").fetchone()[0] == 2
    with store.writer():
        removal = remove(store, [found["m1-again"], 1])
    assert removal.rowids == [1, 2] and removal.ids == ["68fae2bf35957406", "27114396c9d352e9"]
    assert resolve(store, ["m1", "m1-again", "b1"]) == ({}, ["m1", "m1-again", "b1"])
    con = _consistent(index)
    assert con.execute("SELECT * FROM cold_bands").fetchall() == [(11, 4)]
    assert con.execute("SELECT COUNT(*) FROM record_ids WHERE user_id IN ('m1', 'm1-again', 'b1')").fetchone()[0] == 0
    assert con.execute("SELECT line, article, error FROM inputs WHERE error IS NOT NULL ORDER BY line").fetchall() == \
        [(1, "68fae2bf35957406", "deleted"), (2, "27114396c9d352e9", "deleted"), (8, "27114396c9d352e9", "deleted")]
    assert con.execute("SELECT COUNT(*) FROM inputs").fetchone()[0] == len(RECORDS)
    assert remove(store, [1, 2]).rowids == []        # already gone: nothing to do


def test_prune_by_age_without_and_with_keep_text(index, tmp_path):
    kept = tmp_path / "kept.db"
    with sqlite3.connect(index) as src, sqlite3.connect(kept) as dst:
        src.backup(dst)
    for db, keep_text in ((index, False), (kept, True)):
        store = Store(db)
        assert prune_candidates(store, DAY3, 2) == [1, 2]
        with store.writer():
            removals = list(prune(store, DAY3, keep_text=keep_text, chunk=2))
        assert [r.rowids for r in removals] == [[1, 2], [3]]
        assert sorted(s for r in removals for s in r.removed_stories) == [2, 3]
        con = _consistent(db)
        assert [r[0] for r in con.execute("SELECT rowid FROM articles ORDER BY rowid")] == [4, 5, 6, 7]
        assert {r[0] for r in con.execute("SELECT error FROM inputs WHERE line IN (1, 2, 3, 8)")} == {"pruned"}
        assert (pruned_text(store, "b1") is not None) is keep_text
        if keep_text:
            text = pruned_text(store, "68fae2bf35957406")
            assert (text.title, text.text, text.record_id, text.url) == ("Crane hits Kelmora bridge", BRIDGE, "b1", None)
            assert pruned_text(store, "l1").text == LIBRARY and pruned_text(store, "b2") is None
        assert prune_candidates(store, DAY3, 10) == []
        assert [s.id for s in _corpus(db, readonly=True).stories()] == [5, 1, 4]


def _fill(store: Store, n: int, start: int, size: int = 20000) -> list[int]:
    rng = np.random.default_rng(start)
    rows = [(start + i, f"id{start + i}", "t", "x" * size, "en", float(start + i), 1,
             rng.random(size // 4, np.float32).tobytes(), b"\0" * 16) for i in range(n)]
    with store.batch() as db:
        db.execute("INSERT OR IGNORE INTO stories (id, vsum, n, first, last, langs) VALUES (1, zeroblob(8), 0, 0, 0, '')")
        db.executemany("INSERT INTO articles (rowid, id, title, text, lang, ts, story, vec, minhash) "
                       "VALUES (?,?,?,?,?,?,?,?,?)", rows)
    return [r[0] for r in rows]


def test_reclaim_gives_freed_pages_back(tmp_path):
    store = Store(tmp_path / "r.db")
    with store.writer():
        rowids = _fill(store, 100, 1)
        assert reclaim(store) == 0                       # nothing free
        remove(store, rowids[:90])
        given = reclaim(store)
    assert given > 90 * 30000
    assert store.db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2        # incremental from now on
    assert os.path.getsize(store.path) < 20 * 40000
    with store.writer():                                  # the second time: incremental_vacuum
        rowids = _fill(store, 50, 1000)
        remove(store, rowids)
        assert reclaim(store) > 50 * 30000
    assert _consistent(store.path).execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 10
    with store.snapshot(), pytest.raises(RuntimeError, match="inside a transaction"):
        reclaim(store)


WRITER = """
import sys, pathlib
from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.ingest import InputRecord
corpus = Corpus(sys.argv[1], encoder=load_encoder("hashing"), progress=False)
stop, i = pathlib.Path(sys.argv[2]), 0
while not stop.exists():
    i += 1
    text = f"Report {i} from the Kelmora harbour: crane number {i * 7} was moved and {i * 3} ships waited at anchor."
    corpus.add([InputRecord("loop", i, {"id": f"w{i}", "title": f"Harbour update {i}", "text": text,
                                         "date": f"2026-03-04T{i % 24:02d}:{i % 60:02d}:00Z"})])
    print(i, flush=True)
corpus.close()
"""


def test_backup_while_another_process_writes(index, tmp_path):
    stop = tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(index), str(stop)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": SRC})
    copies = []
    try:
        assert proc.stdout.readline().strip() == "1", "the writer did not start"
        store = Store(index, readonly=True)
        for k in range(3):
            assert proc.stdout.readline().strip(), "the writer stopped"     # one more article committed
            copies.append(tmp_path / f"copy{k}.db")
            backup(store, copies[-1])
    finally:
        stop.touch()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    original = Store(index, readonly=True).store_id()
    sizes = []
    for copy in copies:
        assert not Path(str(copy) + ".tmp").exists()
        con = _consistent(copy)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        copied = Store(copy)
        assert copied.store_id() not in (None, original)
        sizes.append(copied.count())
        assert len(_corpus(copy, readonly=True).stories()) > 0
    assert len({Store(c, readonly=True).store_id() for c in copies}) == 3 and sizes[0] < sizes[1] < sizes[2]
    with pytest.raises(InputError, match="exists already"):
        backup(Store(index, readonly=True), copies[0])
    with pytest.raises(InputError, match="no such folder"):
        backup(Store(index, readonly=True), tmp_path / "missing" / "copy.db")


PRUNER = """
import sys, time
from samestory.index.retention import prune
from samestory.index.store import Store
store = Store(sys.argv[1])
store.db.set_progress_handler(lambda: time.sleep(0.0005) or 0, 50)     # slow statements: the kill lands inside one
with store.writer():
    for removal in prune(store, float(sys.argv[2]), chunk=1):
        print(removal.rowids[0], flush=True)
"""


def test_a_prune_killed_part_way_leaves_whole_articles_and_runs_again(tmp_path):
    db = tmp_path / "k.db"
    corpus = _corpus(db)
    records = [_rec(i + 1, f"{title} ({i})", f"{text} Update {i}: {i * 11} people were counted at {i + 3} sites.",
                    2 + i // 12, i % 12 + 6, f"k{i}", source="kill")
               for i, (title, text) in enumerate([("Kelmora bridge", BRIDGE), ("Kelmora bridge shut", BRIDGE2),
                                                  ("Dunmarsh strike", MINE), ("Dunmarsh day two", MINE2),
                                                  ("Orvale library", LIBRARY)] * 6)]
    corpus.add(records)
    corpus.close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO cold_bands SELECT articles.rowid * 31 + k.value, articles.rowid FROM articles, "
                "(SELECT 1 AS value UNION SELECT 2) k")
    con.commit()
    old = con.execute("SELECT COUNT(*) FROM articles WHERE ts < ?", (DAY3 + 86400,)).fetchone()[0]
    assert old == 24 and con.execute("SELECT COUNT(*) FROM links").fetchone()[0] > 0
    con.close()
    proc = subprocess.Popen([sys.executable, "-c", PRUNER, str(db), str(DAY3 + 86400)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": SRC})
    try:
        for _ in range(3):
            assert proc.stdout.readline().strip(), "the pruner stopped early"
        time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    left = _consistent(db).execute("SELECT COUNT(*) FROM articles WHERE ts < ?", (DAY3 + 86400,)).fetchone()[0]
    assert 0 < left < old - 2
    store = Store(db)
    with store.writer():
        done = [r for removal in prune(store, DAY3 + 86400, chunk=5) for r in removal.rowids]
    assert len(done) == left
    con = _consistent(db)
    assert con.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 6
    assert con.execute("SELECT COUNT(*) FROM inputs WHERE error = 'pruned'").fetchone()[0] == old
    assert json.loads(con.execute("SELECT value FROM meta WHERE key='hot_epoch'").fetchone()[0]) > 0
