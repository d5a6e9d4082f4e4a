"""Story clustering evaluation: cluster labelled rows from scratch, compare with
the gold story labels (BCubed, pairwise F1, adjusted Rand index)."""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from samestory.ingest import Columns, iter_records, normalise_date, parse_timestamp
from samestory.types import InputError


def bcubed(pred: list, gold: list) -> tuple[float, float, float]:
    """(precision, recall, F1), averaged over items (Bagga & Baldwin, 1998)."""
    cp, cg, both = Counter(pred), Counter(gold), Counter(zip(pred, gold))
    p = sum(both[(a, b)] / cp[a] for a, b in zip(pred, gold)) / len(pred)
    r = sum(both[(a, b)] / cg[b] for a, b in zip(pred, gold)) / len(pred)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pairwise_f1(pred: list, gold: list) -> float:
    """F1 over same-cluster pairs, counted from the contingency table (no all-pairs loop)."""
    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    tp, p_pairs, g_pairs = pairs(Counter(zip(pred, gold))), pairs(Counter(pred)), pairs(Counter(gold))
    return 2 * tp / (p_pairs + g_pairs) if p_pairs + g_pairs else 1.0


def evaluate_stories(csv_path: str | Path, text_col: str, label_col: str, time_col: str | None = None,
                     corpus_options: dict[str, Any] | None = None, progress: bool = True) -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score

    import csv as _csv

    from samestory.corpus import Corpus

    with open(csv_path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(_csv.reader(fh), [])
    for col in (text_col, label_col, time_col):
        if col and col not in header:
            raise InputError(f"{csv_path}: no column {col!r} (columns: {', '.join(header)})")
    labels: dict[int, str] = {}
    with open(csv_path, newline="", encoding="utf-8", errors="replace") as fh:
        for n, row in enumerate(_csv.DictReader(fh), 1):
            labels[n] = row.get(label_col, "")
    cols = Columns(title=text_col, date=time_col or "date")
    items = list(iter_records([csv_path], cols))

    def when(item) -> float:
        ts = parse_timestamp(normalise_date(item.record.get("date"))) if item.record else None
        return ts if ts is not None else float("inf")

    items.sort(key=when)  # the stream as it would have arrived
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "eval.db", progress=progress, **(corpus_options or {}))
        report = corpus.add(items, total=len(items))
        seconds = time.perf_counter() - start
    story_of_line = {o["line"]: o.get("story") for o in report.outcomes}
    lines = sorted(labels)
    pred = [story_of_line.get(n) if story_of_line.get(n) is not None else f"error:{n}" for n in lines]
    gold = [labels[n] for n in lines]
    p, r, f = bcubed(pred, gold)
    return {
        "articles": len(lines), "errors": report.errors,
        "bcubed_precision": round(p, 4), "bcubed_recall": round(r, 4), "bcubed_f1": round(f, 4),
        "pairwise_f1": round(pairwise_f1(pred, gold), 4),
        "ari": round(float(adjusted_rand_score(gold, pred)), 4),
        "stories_found": len(set(pred)), "stories_gold": len(set(gold)),
        "seconds": round(seconds, 2),
    }
