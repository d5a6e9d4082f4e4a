"""``samestory index upgrade`` (corpus.upgrade): an index built with an "older" encoder (the hashing
encoder, 384 dimensions, seed 0) re-embedded with another (128 dimensions, seed 3), killed part-way
and run again: every article embedded exactly once, the meta and everything derived from the old
vectors replaced, and the index answers with the new encoder."""
import argparse
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from samestory.corpus import Corpus
from samestory.corpus.upgrade import PROGRESS_KEY, pending, upgrade
from samestory.embed import load_encoder
from samestory.embed.backends import HashingEncoder
from samestory.index.archive import segments
from samestory.index.store import Store
from samestory.ingest import InputRecord
from samestory.text import opening
from samestory.types import IndexMismatch

ROOT = Path(__file__).resolve().parents[1]
DAYS, STORIES, PER_STORY, BATCH = 6, 3, 4, 16
WORDS = [f"{a}{b}" for a in ("kel", "dun", "orv", "mar", "tes", "vil", "zan", "pro")
         for b in ("mora", "marsh", "ale", "ton", "ville", "berg", "dor", "nix")]


class Counting:
    """A hashing encoder of its own dimension and seed (the "new" encoder), counting what it embeds."""

    def __init__(self, dim: int = 128, seed: int = 3) -> None:
        self.inner = HashingEncoder(dim, seed)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.texts: Counter[str] = Counter()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.update(texts)
        return self.inner.encode(texts)


def _records() -> list[InputRecord]:
    import random

    rng = random.Random(5)
    rows = []
    for day in range(DAYS):
        for s in range(STORIES):
            vocab = rng.sample(WORDS, 8)
            for j in range(PER_STORY):
                words = vocab[:5] + rng.sample(vocab[5:], 2) + [f"{day}{s}{j}"]
                rng.shuffle(words)
                rows.append({"id": f"d{day}s{s}a{j}", "title": " ".join(words).capitalize(), "text": "",
                             "date": f"2026-03-{day + 1:02d}T{8 + 2 * j + s:02d}:00:00Z"})
    return [InputRecord("feed", i + 1, r) for i, r in enumerate(rows)]


def _old_index(db: Path) -> Path:
    """An index built with the "older" encoder, with a cold archive and an ANN checkpoint."""
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False, hot_days=1.0)
    corpus.add(_records(), batch_size=BATCH)
    with corpus.store.writer():
        corpus.store.set_meta("encoder_spec", "hashing")
    corpus.close()
    assert Path(f"{db}.usearch").exists() and Path(f"{db}.cold").is_dir()
    return db


def _expected(db: Path) -> dict[int, str]:
    store = Store(db, readonly=True)
    try:
        rowids = [r[0] for r in store.db.execute("SELECT rowid FROM articles ORDER BY rowid")]
        return {a.rowid: opening(a.to_article()) for a in store.articles(rowids)}
    finally:
        store.db.close()


def _assert_upgraded(db: Path, encoder: Counting) -> None:
    store = Store(db, readonly=True)
    try:
        assert store.get_meta("encoder") == encoder.name and store.get_meta("encoder_spec") == "hashing-128-3"
        assert store.get_meta(PROGRESS_KEY) is None
        assert not store.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'upgrade_vecs'").fetchall()
        assert segments(store) == [] and store.db.execute("SELECT COUNT(*) FROM cold_bands").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM articles WHERE segment IS NOT NULL").fetchone()[0] == 0
        assert store.get_meta("hot_epoch") >= 2
        rows = store.db.execute("SELECT rowid, story, vec FROM articles ORDER BY rowid").fetchall()
        texts = _expected(db)
        fresh = encoder.inner.encode([texts[r] for r, _, _ in rows])
        stored = np.stack([np.frombuffer(v, np.float32) for _, _, v in rows])
        np.testing.assert_allclose(stored, fresh, atol=1e-6)
        for story in store.live_stories():
            members = [i for i, (_, s, _) in enumerate(rows) if s == story.id]
            np.testing.assert_allclose(story.vsum, stored[members].astype(np.float64).sum(0), atol=1e-5)
    finally:
        store.db.close()
    assert not Path(f"{db}.usearch").exists() and not Path(f"{db}.usearch.json").exists()
    assert not Path(f"{db}.cold").exists()


def _mismatch(corpus: Corpus) -> None:
    with pytest.raises(IndexMismatch):
        assert corpus.encoder
    corpus.close()


def _similar_works(db: Path) -> None:
    corpus = Corpus(db, encoder=HashingEncoder(128, 3), progress=False, hot_days=1.0)
    hits = corpus.similar("d0s1a0", k=3, rescore=False)
    assert {h.record_id for h in hits} >= {"d0s1a1", "d0s1a2"}
    assert corpus.add([InputRecord("late", 1, {"id": "late", "title": "Kelmora ferry timetable changes",
                                               "date": "2026-03-07T06:00:00Z"})]).added == 1
    assert segments(corpus.store)                  # the writer's sweep archived old stories again
    assert corpus.similar("late", k=2, rescore=False)
    corpus.close()
    _mismatch(Corpus(db, encoder=load_encoder("hashing"), progress=False))


def test_an_upgrade_stopped_between_batches_goes_on_and_embeds_each_article_once(tmp_path):
    db = _old_index(tmp_path / "news.db")
    texts = _expected(db)
    first = Counting()

    def stop(done: int) -> None:
        raise KeyboardInterrupt

    store = Store(db)
    assert pending(store, first) == len(texts)
    with pytest.raises(KeyboardInterrupt):
        upgrade(store, first, batch_size=BATCH, progress=stop, spec="hashing-128-3")
    assert store.get_meta(PROGRESS_KEY) == {"to": first.name, "done_upto": sorted(texts)[BATCH - 1]}
    assert store.get_meta("encoder") == "hashing-384-0"          # the old vectors are still the index's
    assert pending(store, first) == len(texts) - BATCH
    second = Counting()
    assert upgrade(store, second, batch_size=BATCH, spec="hashing-128-3") == len(texts) - BATCH
    assert upgrade(store, Counting(), batch_size=BATCH) == 0     # nothing left to do
    store.db.close()
    assert first.texts + second.texts == Counter(texts.values())
    assert sum(first.texts.values()) == BATCH
    _assert_upgraded(db, second)
    _similar_works(db)


def test_an_upgrade_killed_after_its_first_batch_goes_on_where_it_stopped(tmp_path):
    db = _old_index(tmp_path / "news.db")
    texts = _expected(db)
    script = textwrap.dedent(f"""
        import os, signal
        from samestory.corpus.upgrade import upgrade
        from samestory.embed.backends import HashingEncoder
        from samestory.index.store import Store
        upgrade(Store({str(db)!r}), HashingEncoder(128, 3), batch_size={BATCH}, spec="hashing-128-3",
                progress=lambda n: os.kill(os.getpid(), signal.SIGKILL))
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert run.returncode == -9, run.stderr
    again = Counting()
    store = Store(db)
    assert store.get_meta(PROGRESS_KEY)["done_upto"] == sorted(texts)[BATCH - 1]
    assert upgrade(store, again, batch_size=BATCH, spec="hashing-128-3") == len(texts) - BATCH
    store.db.close()
    first_batch = Counter(texts[r] for r in sorted(texts)[:BATCH])
    assert again.texts + first_batch == Counter(texts.values())
    _assert_upgraded(db, again)
    _similar_works(db)


def test_the_command_re_embeds_with_the_default_encoder_and_the_index_opens_without_one(tmp_path, capsys):
    from samestory.cli.upgrade import cmd_index_upgrade
    from samestory.corpus import DEFAULT_ENCODER

    db = tmp_path / "small.db"
    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False)
    corpus.add([InputRecord("t", i, {"text": t}) for i, t in enumerate(
        ["Storm Ingrid closed the port of Rotterdam on Tuesday.", "Rotterdam port shut as Storm Ingrid hits.",
         "Valdoria's parliament passed the 2027 budget."], 1)])
    corpus.close()
    _mismatch(Corpus(db, progress=False))                    # an "older" index, the current default encoder
    args = argparse.Namespace(db=str(db), lock_timeout=5.0, batch_size=2, format="json")
    assert cmd_index_upgrade(args) == 0
    out = json.loads(capsys.readouterr().out)
    name = load_encoder(DEFAULT_ENCODER).name
    assert out["from"] == "hashing-384-0" and out["to"] == name and out["embedded"] == out["articles"] == 3
    reopened = Corpus(db, progress=False)
    assert reopened.encoder.name == name and reopened.store.get_meta("encoder_spec") == DEFAULT_ENCODER
    assert reopened.similar(reopened.store.article(1).id, k=1, rescore=False)[0].id == reopened.store.article(2).id
    reopened.close()
    assert cmd_index_upgrade(argparse.Namespace(db=str(db), lock_timeout=5.0, batch_size=2, format="text")) == 0
    assert "nothing to do" in capsys.readouterr().out
