"""``samestory index delete``, ``index prune`` and ``index backup``: what a team that leaves the
index running needs for takedowns, retention and backups."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from samestory.cli.render import dump_json
from samestory.types import InputError


def _existing(db: str) -> str:
    if not Path(db).is_file():
        raise InputError(f"no index at {db} (--db names an existing index here)")
    return db


def _print_report(args: argparse.Namespace, summary: dict[str, object]) -> None:
    if args.format == "json":
        dump_json(summary)
    else:
        print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items() if k != "ids"))


def cmd_index_delete(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    corpus = Corpus(_existing(args.db), progress=False, lock_timeout=args.lock_timeout)
    try:
        report = corpus.delete(args.ids)
    finally:
        corpus.close()
    for key in report.not_found:
        print(f"error: no article {key!r} in {args.db}", file=sys.stderr)
    _print_report(args, report.to_dict())
    return 1 if report.not_found and not report.removed else 0


def cmd_index_prune(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    corpus = Corpus(_existing(args.db), lock_timeout=args.lock_timeout)
    try:
        report = corpus.prune(args.older_than, keep_text=args.keep_text)
    finally:
        corpus.close()
    _print_report(args, {k: v for k, v in report.to_dict().items() if k != "not_found"})
    return 0


def cmd_index_backup(args: argparse.Namespace) -> int:
    from samestory.corpus import Corpus

    Corpus(args.db, readonly=True, progress=False).backup(args.dest)
    print(f"backed up {args.db} to {args.dest} (restore: --db {args.dest})", file=sys.stderr)
    return 0
