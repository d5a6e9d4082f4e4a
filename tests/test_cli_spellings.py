"""The command line shaped like the product: ``index {similar, stories, duplicates, timeline,
serve, embed}``, ``dev train``, one ``--format``, ``--db`` from ``SAMESTORY_DB``; and the older
spellings, each still working for one release with a one-line note on standard error. In process
(``main``), on an index built with the hashing encoder (no model load)."""
import argparse
import csv
import io
import json

import pytest

from samestory.cli import build_parser, main
from samestory.cli.commands import cmd_serve, cmd_train

STORM = ("Storm Ingrid closed the port of Rotterdam on Tuesday. Ships queued at the entrance and "
         "the harbour master said the port would reopen once the wind dropped below gale force.")
BUDGET = ("Valdoria's parliament passed the 2027 budget after an all-night session. Lawmakers approved "
          "it by 61 votes to 54 after a late amendment kept the fuel subsidy cut.")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """An index of three articles (two copies of one story, one other), hashing encoder."""
    from samestory.corpus import Corpus
    from samestory.embed import load_encoder
    from samestory.ingest import InputRecord

    path = tmp_path_factory.mktemp("spellings") / "news.db"
    corpus = Corpus(path, encoder=load_encoder("hashing"), progress=False)
    with corpus.store.writer():
        corpus.store.set_meta("encoder", corpus.encoder.name)
        corpus.store.set_meta("encoder_spec", "hashing")
    records = [{"id": "s1", "title": "Port closes", "text": STORM, "date": "2026-02-11T08:00:00Z"},
               {"id": "s2", "title": "Port closes", "text": STORM + " Update: ferries wait.",
                "date": "2026-02-11T09:00:00Z"},
               {"id": "b1", "title": "Budget passes", "text": BUDGET, "date": "2026-02-10T08:00:00Z"}]
    corpus.add([InputRecord("t", i + 1, r) for i, r in enumerate(records)])
    corpus.close()
    return str(path)


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.startswith("samestory")]


@pytest.mark.parametrize("old, new", [
    (["stories"], ["index", "stories"]),
    (["similar", "s1", "--no-rescore", "-k", "2"], ["index", "similar", "s1", "--no-rescore", "-k", "2"]),
    (["duplicates"], ["index", "duplicates"]),
])
def test_old_corpus_commands_still_work_with_a_note(db, old, new, capsys):
    code, out, notes = _run([*old, "--db", db], capsys)
    assert code == 0 and out
    assert notes == [f"samestory: note: 'samestory {old[0]}' is now 'samestory index {old[0]}'"]
    assert _run([*new, "--db", db], capsys) == (0, out, [])


def test_old_timeline_still_works_with_a_note(db, tmp_path, capsys):
    code, out, notes = _run(["timeline", "--db", db, "--out", str(tmp_path / "old.html")], capsys)
    assert code == 0 and "stories" in out and "<svg" in (tmp_path / "old.html").read_text()
    assert notes == ["samestory: note: 'samestory timeline' is now 'samestory index timeline'"]
    assert _run(["index", "timeline", "--db", db, "--out", str(tmp_path / "new.html")], capsys)[0] == 0
    assert (tmp_path / "old.html").read_text() == (tmp_path / "new.html").read_text()


def test_old_embed_still_works_with_a_note(tmp_path, capsys):
    """``embed`` reaches ``index embed``: the same refusal of a report path that cannot be written
    (exit 2, before the model loads or anything is written)."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": STORM}) + "\n")
    bad = str(tmp_path / "no" / "report.jsonl")
    code, _, said = _run(["embed", str(feed), "--out", str(tmp_path / "parts"), "--report", bad], capsys)
    assert code == 2 and said[0] == "samestory: note: 'samestory embed' is now 'samestory index embed'"
    assert said[1].startswith("samestory: error: --report: cannot write")
    assert _run(["index", "embed", str(feed), "--out", str(tmp_path / "parts"), "--report", bad], capsys)[2] == \
        said[1:]


@pytest.mark.parametrize("old, new, func", [
    (["serve", "--db", "x.db", "--port", "8123"], "samestory index serve", cmd_serve),
    (["train", "gold.csv", "--out", "s.json.gz", "--folds", "3"], "samestory dev train", cmd_train),
])
def test_old_serve_and_train_reach_the_new_commands_with_a_note(old, new, func, capsys):
    from samestory.cli.deprecated import modern

    args = build_parser().parse_args(modern(old))
    assert args.func is func
    assert capsys.readouterr().err == f"samestory: note: 'samestory {old[0]}' is now '{new}'\n"
    assert vars(args) == vars(build_parser().parse_args(new.split()[1:] + old[1:]))


def test_json_is_a_deprecated_alias_of_format_json(db, capsys):
    code, out, notes = _run(["index", "duplicates", "--db", db, "--json"], capsys)
    assert code == 0 and notes == ["samestory: note: '--json' is now '--format json'"]
    assert _run(["index", "duplicates", "--db", db, "--format", "json"], capsys) == (0, out, [])


def test_old_format_names_still_work_with_a_note(db, tmp_path, capsys):
    code, table, notes = _run(["index", "stories", "--db", db, "--format", "table"], capsys)
    assert code == 0 and notes == ["samestory: note: '--format table' is now '--format text'"]
    assert _run(["index", "stories", "--db", db], capsys) == (0, table, [])
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": BUDGET}) + "\n")
    code, out, notes = _run(["cluster", str(feed), "--out", str(tmp_path / "s.csv"), "--format", "csv"], capsys)
    assert code == 0 and notes == ["samestory: note: '--format csv' is now '--out-format csv'"]
    assert out.startswith("added 1,")                           # the summary, as text
    assert next(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text())))["size"] == "1"


@pytest.mark.parametrize("argv", [
    ["index", "stories"], ["index", "similar", "s1", "--no-rescore"], ["index", "duplicates"],
    ["index", "timeline", "--out", "t.html"], ["index", "check"],
])
def test_format_json_is_one_object_on_one_line(db, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, notes = _run([*argv, "--db", db, "--format", "json"], capsys)
    assert code == 0 and not notes
    assert out.count("\n") == 1 and out.endswith("\n") and isinstance(json.loads(out), dict)


def test_jsonl_and_csv_carry_one_record_a_line(db, capsys):
    groups = json.loads(_run(["index", "duplicates", "--db", db, "--format", "json"], capsys)[1])["groups"]
    lines = _run(["index", "duplicates", "--db", db, "--format", "jsonl"], capsys)[1].splitlines()
    assert [json.loads(line) for line in lines] == groups
    rows = list(csv.DictReader(io.StringIO(_run(["index", "duplicates", "--db", db, "--format", "csv"], capsys)[1])))
    assert len(rows) == sum(1 + len(g["copies"]) for g in groups) and rows[0]["kind"] == "source"
    assert {r["group"] for r in rows} == {str(n) for n in range(1, len(groups) + 1)}

    hits = json.loads(_run(["index", "similar", "s1", "--db", db, "--no-rescore", "--format", "json"],
                           capsys)[1])["results"]
    lines = _run(["index", "similar", "s1", "--db", db, "--no-rescore", "--format", "jsonl"], capsys)[1].splitlines()
    assert [json.loads(line) for line in lines] == hits and hits
    rows = list(csv.DictReader(io.StringIO(_run(["index", "similar", "s1", "--db", db, "--no-rescore", "--format",
                                                 "csv"], capsys)[1])))
    assert [r["id"] for r in rows] == [h["id"] for h in hits]

    stories = json.loads(_run(["index", "stories", "--db", db, "--format", "json"], capsys)[1])["stories"]
    lines = _run(["index", "stories", "--db", db, "--format", "jsonl"], capsys)[1].splitlines()
    assert [json.loads(line) for line in lines] == stories and all(s["members"] for s in stories)


def test_a_format_a_command_does_not_take_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "a.txt", "b.txt", "--format", "csv"])
    assert exit_.value.code == 2 and "'csv': choose from text, json" in capsys.readouterr().err


def test_db_comes_from_samestory_db_else_a_clear_error(db, monkeypatch, capsys):
    monkeypatch.delenv("SAMESTORY_DB", raising=False)
    code, out, said = _run(["index", "stories"], capsys)
    assert code == 2 and not out and said == ["samestory: error: no index: give --db PATH or set SAMESTORY_DB"]
    monkeypatch.setenv("SAMESTORY_DB", db)
    code, out, said = _run(["index", "stories", "--format", "csv"], capsys)
    assert code == 0 and not said and out == _run(["index", "stories", "--db", db, "--format", "csv"], capsys)[1]
    monkeypatch.setenv("SAMESTORY_DB", "/nonexistent/elsewhere.db")       # --db wins over the variable
    assert _run(["index", "stories", "--db", db, "--format", "csv"], capsys)[1] == out


def _leaves(parser, path=()):
    """Every command the parser runs, as (its words, its parser)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def test_help_lists_the_commands_in_groups_and_every_command_has_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    headings = ["Articles, no index kept:", "A corpus that grows", "Evaluation against", "For developers:"]
    assert [out.index(h) for h in headings] == sorted(out.index(h) for h in headings)
    leaves = dict(_leaves(build_parser()))
    assert {" ".join(words) for words in leaves} == {
        "compare", "cluster", "eval semeval", "eval stories", "dev train", "dev eval semeval", "dev eval stories",
        *(f"index {c}" for c in ("add", "check", "similar", "stories", "duplicates", "timeline", "serve", "embed",
                                  "follow", "delete", "prune", "backup", "upgrade"))}
    for words, parser in leaves.items():
        shown = " ".join(words[1:] if words[0] == "dev" and words[1] == "eval" else words)
        assert shown.split()[-1] in out, words                         # listed in the overview
        assert parser.epilog.startswith("example:\n  ") and f"samestory {' '.join(words)}" in parser.epilog, words
