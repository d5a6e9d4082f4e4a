"""A newcomer's first hour (issue 31): mistakes that used to pass in silence."""
import json
import subprocess
import sys

from conftest import SHARED

from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.ingest import Columns, InputRecord, iter_records
from samestory.text import with_prior


def test_a_misspelt_column_flag_is_an_error_naming_the_columns(tmp_path):
    feed = tmp_path / "uci.csv"
    feed.write_text("ID,TITLE,TIMESTAMP\n1,Fed holds rates steady as inflation cools,1394470370698\n")
    out = list(iter_records([str(feed)], Columns(text="TITLE", date="TIME")))
    assert len(out) == 1 and out[0].record is None
    assert "'TIME' (--time-col) is not in the file" in out[0].error and "TIMESTAMP" in out[0].error
    proc = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "add", str(feed), "--db",
                           str(tmp_path / "x.db"), "--text-col", "TITLE", "--time-col", "TIME", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "--time-col" in proc.stderr
    assert json.loads(proc.stdout)["added"] == 0
    good = list(iter_records([str(feed)], Columns(text="TITLE", date="TIMESTAMP")))
    assert good[0].record["date"] == "1394470370698"


def test_an_empty_csv_says_so(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    [out] = list(iter_records([str(empty)]))
    assert out.error == "empty file: no header row, no records"


def test_a_short_headline_takes_its_feeds_language_when_the_text_allows_it(tmp_path):
    from samestory.ingest import clean_record
    from samestory.text import tag_language

    short = tag_language(clean_record({"text": "Jon Favreau sizzles as 'Chef' at SXSW"}))
    assert short.lang == "und"          # too short for detection alone
    assert with_prior(short, {"en": 0.9, "de": 0.1}).lang == "en"
    assert with_prior(short, {"en": 0.4, "de": 0.3, "fr": 0.3}).lang == "und"    # no clear feed language
    corpus = Corpus(tmp_path / "x.db", encoder=load_encoder("hashing"), progress=False)
    heads = ["Federal Reserve holds interest rates steady as inflation cools in March",
             "Apple unveils a cheaper iPhone model for emerging markets this spring",
             "Storm Ingrid closes the port of Rotterdam and grounds flights in Amsterdam",
             "Jon Favreau sizzles as 'Chef' at SXSW"]
    report = corpus.add([InputRecord("feed.csv", i, {"text": t}) for i, t in enumerate(heads, 1)])
    assert corpus.store.article(report.outcomes[-1].article).lang == "en"


def test_uci_headlines_get_a_language_and_no_english_translations(tmp_path):
    uci = SHARED / "uci_stories" / "dev.csv"
    if not uci.exists():
        import pytest
        pytest.skip("../shared is not beside the repository")
    corpus = Corpus(tmp_path / "x.db", encoder=load_encoder("hashing"), progress=False)
    lines = uci.read_text(encoding="utf-8").splitlines()
    sample = tmp_path / "uci.csv"
    sample.write_text("\n".join(lines[:601]) + "\n")      # the header and 600 headlines
    corpus.add(iter_records([str(sample)], Columns(text="TITLE", id="ID")))
    langs = [a.lang for a in corpus.store.articles(list(range(1, corpus.store.count() + 1)))]
    assert sum(lang != "und" for lang in langs) >= 0.98 * len(langs)
    kinds = [c["kind"] for g in corpus.duplicates() for c in g["copies"]]
    assert "translation" not in kinds


def test_a_pdf_or_an_image_is_named_not_scored(tmp_path):
    from samestory.ingest import read_record
    from samestory.types import InputError

    cases = {"a.pdf": (b"%PDF-1.7\n" + b"BT /F1 12 Tf (Storm Ingrid closes the port) Tj ET\n" * 40, "a PDF document"),
             "b.txt": (b"\x89PNG\r\n\x1a\n" + b"x" * 200, "a PNG image"),
             "c.docx": (b"PK\x03\x04" + b"word/document.xml" * 20, "ZIP archive")}
    for name, (data, what) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        try:
            read_record(str(path))
        except InputError as exc:
            assert what in str(exc)
        else:
            raise AssertionError(f"{name} was read as an article")


def test_a_missing_index_is_a_clear_error_with_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "samestory.cli", "stories", "--db", str(tmp_path / "nope.db")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no such index" in proc.stderr


def test_story_labels_and_similar_rows_name_the_article(tmp_path):
    corpus = Corpus(tmp_path / "x.db", encoder=load_encoder("hashing"), progress=False)
    long_run = ("Storm Ingrid closed the port of Rotterdam on Monday and grounded flights at Schiphol, "
                "while dike wardens in South Holland patrolled through the night " * 6)
    corpus.add([InputRecord("t", 1, {"text": long_run + ". More follows."}),
                InputRecord("t", 2, {"text": "Storm Ingrid closes Rotterdam port. Flights grounded at Schiphol."})])
    for story in corpus.stories():
        assert len(story.label) <= 160 and not story.label.endswith(" ")
        assert story.label.startswith("Storm Ingrid")
    first = corpus.stories(members=True)[0].members[0].id
    hits = corpus.similar(first, k=3, rescore=False)
    assert hits and all(h.title.startswith("Storm Ingrid") for h in hits)
