"""The corpus write path: one article at a time, failed batches, other writers,
damaged derived files. Real encoder, real linker, real SQLite."""
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES

from samestory.corpus import Corpus
from samestory.ingest import InputRecord, iter_records
from samestory.stories.cluster import StoryClusterer, StorySettings

# Short articles written for these tests (fictional events).
FERRY = [
    "Ferry Nordlys runs aground off Tromsø harbour. The Nordlys ferry ran aground near Tromsø on Tuesday "
    "morning with 212 passengers on board; the coastguard said nobody was hurt and tugs were on the way.",
    "Passengers evacuated after Nordlys ferry grounding near Tromsø. All 212 passengers of the ferry Nordlys "
    "were taken ashore by lifeboats after it hit rocks outside Tromsø harbour, the coastguard said.",
    "Tromsø ferry grounding: investigators board the Nordlys. Accident investigators boarded the ferry Nordlys, "
    "which ran aground off Tromsø with 212 people on board, to look at its navigation records.",
]
BUDGET = [
    "Valdoria parliament passes 2027 budget after all-night session. Lawmakers in Valdoria approved the 2027 "
    "budget by 61 votes to 54, raising spending on schools and cutting the fuel subsidy.",
    "Valdoria budget vote: fuel subsidy cut survives. The fuel subsidy cut in Valdoria's 2027 budget survived a "
    "late amendment, and the budget passed by 61 votes to 54 in parliament.",
]


def _records(texts, start=1, day="2026-03-03"):
    return [InputRecord("test", start + i, {"text": t, "date": f"{day}T{8 + i:02d}:00:00Z"})
            for i, t in enumerate(texts)]


def _snapshot(corpus):
    st = corpus.state()
    sums = {s.id: s.vsum for s in corpus.store.stories()}        # the store keeps the sums (memory: only a batch's change)
    stories = {sid: (s.n, s.first, s.last, dict(s.langs), sums.get(sid)) for sid, s in st.clusterer.stories.items()}
    return (st.next_rowid, st.clusterer.next_id, len(st.ann), {r: st.story(r) for r in st.story_of}, dict(st.dup_root),
            set(st.prints), stories)


def _same(a, b):
    assert a[:6] == b[:6]
    assert a[6].keys() == b[6].keys()
    for sid in a[6]:
        assert a[6][sid][:4] == b[6][sid][:4]
        assert np.array_equal(a[6][sid][4], b[6][sid][4])


def test_one_article_at_a_time_into_a_non_empty_index(tmp_path):
    corpus = Corpus(tmp_path / "x.db", progress=False)
    outcomes = [corpus.add([r]).outcomes[0] for r in _records(FERRY + BUDGET)]
    assert [o.status for o in outcomes] == ["added"] * 5
    ferry, budget = {o.story for o in outcomes[:3]}, {o.story for o in outcomes[3:]}
    assert len(ferry) == 1 and len(budget) == 1 and ferry != budget
    assert len(corpus.state().ann) == corpus.store.count() == 5
    # a fresh process sees the same index, and can add one more
    again = Corpus(tmp_path / "x.db", progress=False).add(_records([FERRY[0] + " Updated at noon."], start=9))
    assert again.outcomes[0].status == "added" and again.outcomes[0].story in ferry


def test_cli_adds_a_single_record_to_a_non_empty_index(tmp_path):
    db = tmp_path / "x.db"
    def run(path):
        return subprocess.run([sys.executable, "-m", "samestory.cli", "index", "add", str(path), "--db", str(db),
                               "--format", "json"], capture_output=True, text=True, timeout=300)

    for i, text in enumerate(FERRY):
        one = tmp_path / f"one{i}.jsonl"
        one.write_text(json.dumps({"text": text, "date": f"2026-03-03T0{8 + i}:00:00Z"}) + "\n")
        proc = run(one)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["added"] == 1
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(DISTINCT story) FROM articles").fetchone()[0] == 1


def test_a_failed_batch_leaves_no_trace(tmp_path):
    db = tmp_path / "x.db"
    corpus = Corpus(db, progress=False)
    corpus.add(_records(FERRY[:2]))
    before = _snapshot(corpus)
    ann_bytes = (tmp_path / "x.db.usearch").read_bytes()
    # A real failure inside the batch's transaction: the database refuses one row.
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.text LIKE '%Valdoria%' "
                "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END")
    con.commit()
    state = corpus.state()
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        corpus.add(_records(FERRY[2:] + BUDGET, start=3))
    assert corpus.state() is state         # the very same in-memory index, not a reload
    assert corpus.store.count() == 2
    assert (tmp_path / "x.db.usearch").read_bytes() == ann_bytes
    _same(_snapshot(corpus), before)
    con.execute("DROP TRIGGER refuse")
    con.commit()
    retried = corpus.add(_records(FERRY[2:] + BUDGET, start=3))
    assert retried.added == 3 and corpus.store.count() == 5
    rowids = [r[0] for r in con.execute("SELECT rowid FROM articles ORDER BY rowid")]
    assert rowids == [1, 2, 3, 4, 5]
    # the same as if nothing had failed
    clean = Corpus(tmp_path / "clean.db", progress=False)
    clean.add(_records(FERRY[:2]))
    clean.add(_records(FERRY[2:] + BUDGET, start=3))
    def story_sizes(c):
        return sorted(s.size for s in c.stories())

    assert story_sizes(corpus) == story_sizes(clean) == [2, 3]


def test_clusterer_rollback_restores_stories():
    clusterer = StoryClusterer(StorySettings())
    v = np.eye(4)[0]
    first = clusterer.assign(v, 0.0, "en", [])
    clusterer.commit()
    state = (clusterer.next_id, clusterer.stories[first].n)
    clusterer.assign(v, 10.0, "de", [(first, 0.99)])
    clusterer.assign(np.eye(4)[1], 20.0, "en", [])
    assert clusterer.stories[first].n == 2 and clusterer.next_id == state[0] + 1
    clusterer.rollback()
    assert (clusterer.next_id, clusterer.stories[first].n) == state
    assert clusterer.stories[first].langs == {"en": 1} and set(clusterer.stories) == {first}


def test_settling_moves_an_early_article_to_the_story_later_links_favour():
    """An article that opened its own story moves when later articles link it to another
    story more strongly than to its own; the emptied story counts as merged."""
    clusterer = StoryClusterer(StorySettings())
    e = np.eye(4)
    big = clusterer.assign(e[0], 0.0, "en", [])
    clusterer.assign(e[0], 1.0, "en", [(big, 0.9)])
    early = clusterer.assign(e[1], 2.0, "de", [(big, 0.3)])     # too weak a link: a story of its own
    clusterer.commit()
    assert early != big
    # Later links say it belongs with `big`; it scores nothing with its own (now empty without it).
    assert clusterer.best_move(early, 2.0, [(big, 0.8), (big, 0.7)]) == big
    assert clusterer.best_move(early, 2.0, [(big, 0.3), (big, 0.2)]) is None        # below the link threshold
    assert clusterer.best_move(big, 1.0, [(big, 0.9), (early, 0.6)]) is None        # its own story is better
    clusterer.move(early, big, e[1], "de", 2.0)
    assert clusterer.stories[big].n == 3 and clusterer.stories[big].langs == {"en": 2, "de": 1}
    assert early not in clusterer.stories and clusterer.merged == {early: big}
    assert np.allclose(clusterer.stories[big].vsum, e[1])      # the change since the commit (the store has the rest)
    clusterer.rollback()
    assert clusterer.stories[early].n == 1 and clusterer.stories[big].n == 2 and not clusterer.merged


def test_moves_keep_the_store_and_memory_in_step(tmp_path, shared):
    """Headlines of a few real stories in small batches: whatever settling moved, every
    story's size and languages agree with its articles in the store, the outcomes report
    where each article ended, and a fresh load sees the same index as the live one."""
    import pandas as pd

    df = pd.read_csv(shared / "uci_stories/dev_stream.csv").sort_values("TIMESTAMP")
    small = df[df.STORY.isin(df.STORY.drop_duplicates().head(5))].groupby("STORY").head(12)
    records = [InputRecord("s", n, {"text": t, "date": float(ts) / 1000}) for n, (t, ts) in
               enumerate(zip(small.TITLE, small.TIMESTAMP))]
    corpus = Corpus(tmp_path / "x.db", progress=False)
    report = corpus.add(records, batch_size=7)
    db = corpus.store.db
    assert db.execute("SELECT COUNT(*) FROM links").fetchone()[0] > len(records)
    story_of = dict(db.execute("SELECT id, story FROM articles"))
    assert {o.article: o.story for o in report.outcomes} == story_of
    live = corpus.state().clusterer.stories
    for sid, st in live.items():
        rows = db.execute("SELECT lang, COUNT(*) FROM articles WHERE story=? GROUP BY lang", (sid,)).fetchall()
        assert dict(rows) == dict(st.langs) and st.n == sum(n for _, n in rows)
    assert sum(st.n for st in live.values()) == len(records)
    _same(_snapshot(corpus), _snapshot(Corpus(tmp_path / "x.db", progress=False)))


def test_another_process_writes_while_a_corpus_is_open(tmp_path):
    db = tmp_path / "x.db"
    corpus = Corpus(db, progress=False)
    corpus.add(_records(FERRY[:1]))
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"text": t, "date": f"2026-03-03T1{i}:00:00Z"})
                              for i, t in enumerate(FERRY[1:] + BUDGET[:1])) + "\n")
    proc = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "add", str(feed), "--db", str(db)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = corpus.add(_records(BUDGET[1:], start=20))      # the open corpus notices and reloads first
    assert report.added == 1
    con = sqlite3.connect(db)
    counts = con.execute("SELECT COUNT(*), COUNT(DISTINCT rowid), COUNT(DISTINCT id) FROM articles").fetchone()
    assert counts == (5, 5, 5)
    assert len(corpus.state().ann) == 5
    stories = {s.size for s in corpus.stories()}
    assert stories == {3, 2}
    hits = corpus.similar(report.outcomes[0].article, k=1, rescore=False)
    assert hits and "Valdoria" in hits[0].title + " " + corpus.store.article(hits[0].id).text


@pytest.mark.parametrize("damage", ["truncate", "random"])
def test_a_damaged_ann_file_is_rebuilt(tmp_path, damage):
    db = tmp_path / "x.db"
    Corpus(db, progress=False).add(_records(FERRY + BUDGET))
    path = tmp_path / "x.db.usearch"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncate" else np.random.default_rng(0).bytes(len(data)))
    corpus = Corpus(db, progress=False)
    assert len(corpus.ann()) == 5
    hits = corpus.similar(corpus.store.article(1).id, k=2, rescore=False)
    assert len(hits) == 2
    report = corpus.add(_records(["Ferry Nordlys refloated at high tide off Tromsø; no fuel leaked, the "
                                  "coastguard said, and the 212 passengers were home by evening."], start=30))
    assert report.added == 1
    assert len(Corpus(db, progress=False).ann()) == 6   # the rewritten file is whole again


def test_headline_only_records_get_a_story_label(tmp_path):
    feed = tmp_path / "heads.csv"
    feed.write_text("TITLE,STORY\nFerry Nordlys runs aground off Tromsø,a\nNordlys ferry grounding near Tromsø,a\n")
    corpus = Corpus(tmp_path / "x.db", progress=False)
    from samestory.ingest import Columns

    corpus.add(iter_records([str(feed)], Columns(text="TITLE")))
    labels = [s.label for s in corpus.stories()]
    assert labels and all("Nordlys" in label for label in labels)


def test_cross_language_story_lists_its_languages(tmp_path):
    wire = (EXAMPLES / "wire_storm.html").read_text()
    german = json.loads((EXAMPLES / "translation_storm_de.json").read_text())
    corpus = Corpus(tmp_path / "x.db", progress=False)
    report = corpus.add([InputRecord("t", 1, {"html": wire, "date": "2026-02-10T07:45:00Z"}),
                         InputRecord("t", 2, {**german, "date": "2026-02-10T10:30:00Z"})])
    assert report.outcomes[0].story == report.outcomes[1].story
    assert corpus.story(report.outcomes[0].story).languages == ["de", "en"]


def test_an_index_from_the_previous_release_opens_and_grows(tmp_path):
    """Files written before fingerprints were stored: the columns are added, old rows'
    fingerprints are derived from their text, and the old NOT NULL story column is filled."""
    db = tmp_path / "x.db"
    Corpus(db, progress=False).add(_records(FERRY[:2] + BUDGET[:1]))
    con = sqlite3.connect(db)
    for col in ("names", "keywords", "numbers", "tokens", "density", "dated"):
        con.execute(f"ALTER TABLE articles DROP COLUMN {col}")
    con.executescript("""
        CREATE TABLE old_stories (id INTEGER PRIMARY KEY, vsum BLOB NOT NULL, n INTEGER NOT NULL,
            tsum REAL NOT NULL, first REAL, last REAL, label TEXT, langs TEXT, merged_into INTEGER);
        INSERT INTO old_stories SELECT id, vsum, n, 0, first, last, label, langs, merged_into FROM stories;
        DROP TABLE stories;
        ALTER TABLE old_stories RENAME TO stories;
        PRAGMA user_version = 0;
    """)     # (releases before schema versions left user_version at 0)
    con.commit()
    corpus = Corpus(db, progress=False)
    report = corpus.add(_records(FERRY[2:], start=10))
    assert report.added == 1
    assert sorted(s.size for s in corpus.stories()) == [1, 3]


def test_bad_fields_are_per_record_errors_and_the_rest_is_added(tmp_path):
    feed = tmp_path / "feed.jsonl"
    good = {"text": FERRY[0], "date": "2026-03-03T08:00:00Z"}
    lines = [json.dumps(good),
             json.dumps({"text": FERRY[1], "date": "1e20"}),
             json.dumps({"text": FERRY[2], "date": "inf"}),
             json.dumps({"text": BUDGET[0], "date": "nan"}),
             '{"text": "' + BUDGET[1] + '", "lang": "\\ud800"}',
             '{"text": "' + BUDGET[1] + '", "url": "https://example.org/\\udfff"}',
             json.dumps({"text": "\u200b" * 50 + "\n" + "\u2060" * 20}),
             json.dumps({"text": BUDGET[1], "date": "2026-03-03T09:00:00Z"})]
    feed.write_text("\n".join(lines) + "\n")
    corpus = Corpus(tmp_path / "x.db", progress=False)
    report = corpus.add(iter_records([str(feed)]))
    status = [o.status for o in report.outcomes]
    assert [o.line for o in report.outcomes] == list(range(1, 9))
    # a lang that is not a language code is set aside with a note, and the language detected
    assert status == ["added", "error", "error", "error", "added", "error", "error", "exists"]
    assert "not a language code" in report.outcomes[4].notes[0] and report.outcomes[4].to_dict()["notes"]
    assert corpus.store.article(report.outcomes[4].article).lang == "en"
    errors = [o.error for o in report.outcomes if o.status == "error"]
    assert all("date" in e for e in errors[:3])
    assert "lone surrogate" in errors[3] and "'url'" in errors[3]
    assert "no article text" in errors[4]
    assert corpus.store.count() == 2


def test_a_truncated_gzip_feed_keeps_what_came_before_the_cut(tmp_path):
    import gzip

    feed = tmp_path / "feed.jsonl.gz"
    records = [{"text": f"{FERRY[i % 3]} Update number {i}.", "date": f"2026-03-03T{i:02d}:00:00Z"}
               for i in range(12)]
    data = gzip.compress(("\n".join(json.dumps(r) for r in records) + "\n").encode())
    feed.write_bytes(data[: len(data) * 2 // 3])
    items = list(iter_records([str(feed)]))
    assert items[-1].error and "breaks off" in items[-1].error
    good = [i for i in items if i.error is None]
    assert 0 < len(good) < 12 and [i.line for i in good] == list(range(1, len(good) + 1))
    report = Corpus(tmp_path / "x.db", progress=False).add(items)
    assert report.added == len(good) and report.errors == 1


def test_json_nested_too_deeply_is_an_error_not_a_crash(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("[" * 100_000 + "\n" + json.dumps({"text": FERRY[0]}) + "\n")
    items = list(iter_records([str(feed)]))
    assert items[0].error == "invalid JSON: nested too deeply" and items[1].error is None
    deep = tmp_path / "deep.json"
    deep.write_text('{"text": ' + "[" * 100_000)
    proc = subprocess.run([sys.executable, "-m", "samestory.cli", "compare", str(deep),
                           str(EXAMPLES / "rewrite_storm.txt")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "nested too deeply" in proc.stderr


def test_a_damaged_vector_cache_is_never_trusted(tmp_path, caplog):
    from samestory.embed import CachedEncoder, load_encoder

    path = tmp_path / "vectors.sqlite"
    texts = ["Ferry Nordlys runs aground off Tromsø", "Valdoria passes its 2027 budget"]
    fresh = load_encoder("hashing").encode(texts)
    CachedEncoder(load_encoder("hashing"), path=path).encode(texts)
    con = sqlite3.connect(path)
    con.execute("UPDATE vec SET v = substr(v, 1, 100)")        # blobs of the wrong length
    con.commit()
    assert np.allclose(CachedEncoder(load_encoder("hashing"), path=path).encode(texts), fresh)
    assert {len(v) for (v,) in con.execute("SELECT v FROM vec")} == {4 * fresh.shape[1]}   # and repaired
    con.close()
    import gc

    gc.collect()                                               # close the caches above, then damage the file
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(np.random.default_rng(1).bytes(8192))    # not a database at all
    with caplog.at_level("WARNING"):
        again = CachedEncoder(load_encoder("hashing"), path=path)
    assert "unreadable" in caplog.text
    assert np.allclose(again.encode(texts), fresh)


def test_a_damaged_index_and_an_encoder_mismatch_say_so(tmp_path):
    from samestory.embed import load_encoder

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "samestory.cli", *args], capture_output=True, text=True,
                              timeout=300)

    bad = tmp_path / "bad.db"
    bad.write_bytes(np.random.default_rng(2).bytes(4096))
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": FERRY[0]}) + "\n")
    for args in (["index", "stories", "--db", str(bad)], ["index", "add", str(feed), "--db", str(bad)]):
        proc = cli(*args)
        assert proc.returncode == 2 and f"not a samestory index (or damaged): {bad}" in proc.stderr
    hashed = tmp_path / "hashed.db"
    Corpus(hashed, encoder=load_encoder("hashing"), progress=False).add(_records(FERRY[:1]))
    proc = cli("index", "add", str(feed), "--db", str(hashed))
    assert proc.returncode == 3 and "index mismatch" in proc.stderr and "hashing" in proc.stderr


def test_site_boilerplate_is_learned_from_the_corpus_and_copies_are_not():
    from samestory.corpus.boilerplate import article_keys, strip_boilerplate
    from samestory.types import Article

    banner = "Wir setzen Cookies ein, um unsere Website für Sie zu verbessern. Mit OK stimmen Sie zu."
    bodies = [f"Meldung {i}: Die Fähre Nordlys lief am Montag vor Tromsø auf Grund, {i} Menschen wurden gerettet. "
              f"Die Polizei untersucht den Unfall im Hafen Nummer {i}." for i in range(6)]
    site = [Article(text=f"{body} {banner}") for body in bodies]
    stripped, keys = strip_boilerplate(site, lambda ks: {})
    assert all("Cookies" not in a.text and "Nordlys" in a.text for a in stripped)
    assert all(any("Cookies" in r for r in a.cleaning.removed) for a in stripped)
    assert all(keys)
    # a banner already in four stored articles: the fifth is caught alone
    banner_keys = set(article_keys(Article(text=banner)))
    one, _ = strip_boilerplate([site[0]], lambda ks: {k: 4 for k in ks if k in banner_keys})
    assert "Cookies" not in one[0].text
    # six copies of one wire story share every sentence: they are copies, not boilerplate
    wire = [Article(text=bodies[0] + " " + bodies[1]) for _ in range(6)]
    assert strip_boilerplate(wire, lambda ks: {})[0] == wire
