"""One function per command: read the arguments, call the library, print through ``render``.

``args.format`` is what standard output carries (``text``, ``json``: one object on one line,
``jsonl``, ``csv``; each command's parser says which it takes)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from samestory.cli.deprecated import note
from samestory.cli.render import dump_json, render, write_duplicates, write_similar, write_stories
from samestory.types import AddOutcome, AddReport, IndexWriteError, InputError

if TYPE_CHECKING:
    from samestory.corpus import Corpus
    from samestory.ingest import Columns, InputRecord


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
    if args.format == "json":
        dump_json(result.to_dict())
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
    if args.format == "json":
        dump_json(result)
        return 0
    print(f"{result['scored']}/{result['pairs']} pairs scored in {result['seconds']:.1f}s "
          f"({result['documents_per_second']} documents/s)")
    cols = list(result["pearson"])
    print(f"\n{'':<14}{'pairs':>6}" + "".join(f"{c[:9]:>10}" for c in cols))

    def row(name: str, block: dict[str, Any]) -> str:
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
    from samestory.training.scorer import train

    summary = train(args.csv, args.out, encoder_spec=args.encoder, folds=args.folds)
    if args.format == "json":
        dump_json(summary)
    else:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def _columns(args: argparse.Namespace) -> Columns:
    from samestory.ingest import Columns

    return Columns(text=args.text_col, title=args.title_col, date=args.time_col, id=args.id_col,
                   url=args.url_col, lang=args.lang_col)


def _count_and_iter(args: argparse.Namespace) -> Iterator[InputRecord]:
    from samestory.ingest import iter_records

    return iter_records(args.inputs, _columns(args), follow_symlinks=args.follow_symlinks)


def open_report(path: str | None, mode: str = "w") -> IO[str] | None:
    """The ``--report`` file, created (or, with ``mode="a"``, appended to) before any work, so a
    path that cannot be written ends the command at once (exit 2) with nothing indexed.
    Raises ``InputError``."""
    if not path:
        return None
    try:
        return open(path, mode, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--report: cannot write {path}: {exc.strerror or exc}") from None


def _write_outcomes(outcomes: Iterable[AddOutcome], fh: IO[str] | None) -> None:
    if fh is not None:
        with fh:
            fh.writelines(json.dumps(o.to_dict(), ensure_ascii=False) + "\n" for o in outcomes)


def _run_add(args: argparse.Namespace, corpus: Corpus) -> AddReport:
    """``index add``'s ingest, by the engine asked for (``scale.ingest``); on this process, with
    the records counted first where that is cheap, so the progress bar has a total and an ETA."""
    from samestory.cli.counting import count_records
    from samestory.scale.ingest import ingest

    total = count_records(args.inputs, args.follow_symlinks) if corpus.progress and args.inputs else None
    return ingest(corpus, args.inputs, _columns(args), engine=args.engine, batch_size=args.batch_size,
                  follow_symlinks=args.follow_symlinks, ray_address=args.ray_address, ray_workers=args.ray_workers,
                  from_embedded=args.from_embedded, total=total, update=args.update)


def cmd_index_add(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from samestory.corpus import Corpus
    from samestory.corpus.corpus import DEFAULT_CLEAN

    if args.inputs and args.from_embedded:
        raise InputError("give INPUTS or --from-embedded DIR, not both")
    if not (args.inputs or args.from_embedded):
        raise InputError("nothing to add: give INPUTS or --from-embedded DIR")
    report_file = open_report(args.report)
    corpus = Corpus(args.db, lock_timeout=args.lock_timeout, clean=replace(DEFAULT_CLEAN, bad_dates=args.bad_dates),
                    hot_days=args.hot_days)
    try:
        report = _run_add(args, corpus)
    except IndexWriteError as exc:      # a full disk part-way: the batches before it stand, and say so
        _write_outcomes(exc.outcomes, report_file)
        raise
    _write_outcomes(report.outcomes, report_file)
    for o in report.outcomes:
        if o.status == "error":
            print(f"error: {o.source}:{o.line}: {o.error}", file=sys.stderr)
        elif o.status == "updated":
            print(f"updated: {o.source}:{o.line}: {'; '.join(o.notes)}", file=sys.stderr)
    summary = report.summary()
    if args.format == "json":
        dump_json(summary)
    else:
        print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    # Some bad records are normal in a feed; nothing but errors means the input itself is wrong.
    return 1 if report.errors and not (report.added or report.already_stored or report.updated) else 0


def cmd_index_check(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    corpus = Corpus(args.db, readonly=not args.repair, progress=False, lock_timeout=args.lock_timeout)
    report = corpus.check(repair=args.repair).to_dict()
    if args.format == "json":
        dump_json(report)
    else:
        print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.items()))
    return 1 if report["problems"] and not report["repaired"] else 0


def _encoder_spec(corpus: Corpus) -> str:
    from samestory.corpus import DEFAULT_ENCODER

    return corpus.store.get_meta("encoder_spec") or DEFAULT_ENCODER


def cmd_embed(args: argparse.Namespace) -> int:
    import time

    from samestory.corpus import DEFAULT_ENCODER
    from samestory.embed import CachedEncoder, load_encoder
    from samestory.scale.embedded import corpus_clean, embed_records, write_parquet

    start = time.perf_counter()
    report_file = open_report(args.report)
    encoder = CachedEncoder(load_encoder(DEFAULT_ENCODER))
    if args.engine == "ray":
        from itertools import islice

        from samestory.scale.ray_engine import RaySession, ray_rows

        with RaySession(args.ray_address):
            rows = ray_rows(args.inputs, _columns(args), corpus_clean(), DEFAULT_ENCODER, args.batch_size,
                            args.ray_workers, follow_symlinks=args.follow_symlinks)
            batches = iter(lambda: list(islice(rows, args.batch_size)), [])
            counts = write_parquet(batches, args.out, encoder.name)
    else:
        counts = write_parquet(embed_records(_count_and_iter(args), encoder, corpus_clean(), args.batch_size),
                               args.out, encoder.name)
    if report_file is not None:
        _write_embed_report(args.out, report_file)
    summary = {**counts, "seconds": round(time.perf_counter() - start, 2), "engine": args.engine, "out": args.out}
    dump_json(summary) if args.format == "json" else print(", ".join(f"{k} {v}" for k, v in summary.items()))
    return 1 if counts["errors"] and not counts["articles"] else 0


def _write_embed_report(folder: str, fh: IO[str]) -> None:
    """One line per input record: ``embedded`` (with the article id) or ``error``."""
    from samestory.scale.embedded import read_parquet

    _, rows = read_parquet(folder)
    with fh:
        for r in rows:
            line = {"source": r["source"], "line": r["line"], "status": "error" if r["error"] else "embedded"}
            if r["record_id"] is not None:
                line["record_id"] = r["record_id"]
            line.update({"error": r["error"]} if r["error"] else {"article": r["id"]})
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def cmd_stories(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    corpus = Corpus(args.db, readonly=True, progress=False)   # --since: seconds (flags.iso_date)
    found = corpus.stories(since=args.since, members=args.format in ("json", "jsonl"))
    if args.format == "json":
        dump_json({"stories": [s.to_dict() for s in found]})
    else:
        write_stories(found, args.format, sys.stdout)
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
    if args.format == "json":
        dump_json({"results": [h.to_dict() for h in hits]})
    else:
        write_similar(hits, args.format, sys.stdout)
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    groups = Corpus(args.db, readonly=True, progress=False).duplicates()
    if args.format == "json":
        dump_json({"groups": groups})
    else:
        write_duplicates(groups, args.format, sys.stdout)
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from samestory.corpus import Corpus

    if args.format in ("jsonl", "csv", "table"):      # release 0.1: --format was the stories file's
        args.out_format = "text" if args.format == "table" else args.format
        note(f"--format {args.format}", f"--out-format {args.out_format}")
        args.format = "text"
    report_file = open_report(args.report)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "cluster.db")
        report = corpus.add(_count_and_iter(args), batch_size=args.batch_size)
        stories = corpus.stories(members=True)
        with open(args.out, "w", encoding="utf-8") as fh:
            write_stories(stories, args.out_format, fh)
    _write_outcomes(report.outcomes, report_file)
    summary = {**report.summary(), "stories": len(stories), "out": args.out}
    dump_json(summary) if args.format == "json" else print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus
    from samestory.stories.timeline import timeline_html

    corpus = Corpus(args.db, readonly=True, progress=False)
    stories = corpus.stories()
    undated = corpus.store.count() > 0 and corpus.store.count(dated=True) == 0    # times are ingest times
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(timeline_html(stories, top=args.top, undated=undated))
    if args.format == "json":
        dump_json({"out": args.out, "stories": len(stories)})
    else:
        print(f"wrote {args.out} ({len(stories)} stories)")
    return 0


def cmd_eval_stories(args: argparse.Namespace) -> int:
    from samestory.evaluate.stories import LabelledFile, evaluate_stories
    from samestory.stories.cluster import StorySettings

    settings = StorySettings(window_hours=args.window_hours, link_threshold=args.threshold)
    spec = LabelledFile(args.csv, args.text_col, args.label_col, args.time_col, args.lang_col, args.title_col)
    result = evaluate_stories(spec, corpus_options={"settings": settings})
    if args.format == "json":
        dump_json(result)
    else:
        for k, v in result.items():
            print(f"{k:<18} {v}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from samestory.service import serve

    token = service_token(args)
    print(f"samestory serving {args.db} on http://{args.host}:{args.port}/ (API docs at /docs)"
          f"{'; writes need the token' if token else ''}", file=sys.stderr)
    serve(args.db, host=args.host, port=args.port, token=token, max_body_bytes=args.max_body_bytes,
          allowed_hosts=tuple(args.allowed_host), lock_timeout=args.lock_timeout, follow=tuple(args.follow),
          hot_days=args.hot_days)
    return 0


def cmd_index_follow(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus
    from samestory.sources import FollowSettings, follow

    report = open_report(args.report, mode="a")

    def sink(line: dict[str, Any]) -> None:
        if report is not None:
            report.write(json.dumps(line, ensure_ascii=False) + "\n")
            report.flush()
        if line.get("status") == "error":
            print(f"error: {line.get('url', line.get('source'))}: {line.get('error')}", file=sys.stderr)

    corpus = Corpus(args.db, progress=False, lock_timeout=args.lock_timeout, hot_days=args.hot_days)
    settings = FollowSettings(every=args.every, host_delay=args.host_delay, concurrency=args.concurrency,
                              user_agent=args.user_agent, max_bytes=args.max_bytes)
    try:
        summary = follow(args.sources, corpus, settings, once=args.once, report_sink=sink).to_dict()
    finally:
        corpus.close()
        if report is not None:
            report.close()
    if args.format == "json":
        dump_json(summary)
    else:
        print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    return 0


def service_token(args: argparse.Namespace) -> str | None:
    """The token writes need: ``--token``, else the first line of ``--token-file``, else
    ``SAMESTORY_TOKEN``, else None (an open service). Raises ``InputError`` for a token file
    that cannot be read or whose first line is empty."""
    if args.token:
        return str(args.token)
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as fh:
                token = fh.readline().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--token-file: cannot read {args.token_file}: {exc}") from None
        if not token:
            raise InputError(f"--token-file: the first line of {args.token_file} is empty")
        return token
    return os.environ.get("SAMESTORY_TOKEN") or None
