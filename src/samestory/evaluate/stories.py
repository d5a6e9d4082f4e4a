"""Story clustering evaluation: cluster labelled rows from scratch, in arrival
order, through the real ``Corpus.add`` path, and compare with the gold story
labels (pairwise F1, BCubed, adjusted Rand index).

Pairwise F1 is the figure for files where most stories have one or two articles
(there BCubed rewards leaving everything alone); BCubed for files of large
stories. Both are reported, always.
"""
from __future__ import annotations

import csv
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samestory.ingest import Columns, InputRecord, iter_records, normalise_date, parse_timestamp
from samestory.types import InputError


@dataclass(frozen=True)
class LabelledFile:
    """A CSV of articles with a gold story column, and which columns hold what."""

    path: str
    text_col: str
    label_col: str
    time_col: str | None = None
    lang_col: str | None = None
    title_col: str | None = None


def bcubed(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> tuple[float, float, float]:
    """(precision, recall, F1), averaged over items (Bagga & Baldwin, 1998)."""
    cp, cg, both = Counter(pred), Counter(gold), Counter(zip(pred, gold))
    p = sum(both[(a, b)] / cp[a] for a, b in zip(pred, gold)) / len(pred)
    r = sum(both[(a, b)] / cg[b] for a, b in zip(pred, gold)) / len(pred)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pairwise_f1(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> float:
    """F1 over same-cluster pairs, from the pair confusion matrix (no all-pairs loop)."""
    from sklearn.metrics.cluster import pair_confusion_matrix

    (_, fp), (fn, tp) = pair_confusion_matrix(gold, pred)
    return float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 1.0


def cluster_scores(pred: Sequence[Hashable], gold: Sequence[Hashable]) -> dict[str, Any]:
    from sklearn.metrics import adjusted_rand_score

    p, r, f = bcubed(pred, gold)
    return {"pairwise_f1": round(pairwise_f1(pred, gold), 4), "bcubed_f1": round(f, 4),
            "bcubed_precision": round(p, 4), "bcubed_recall": round(r, 4),
            "ari": round(float(adjusted_rand_score(gold, pred)), 4),
            "stories_found": len(set(pred)), "stories_gold": len(set(gold))}


def labelled_records(spec: LabelledFile, lines: Collection[int] | None = None
                     ) -> tuple[list[InputRecord], dict[int, str]]:
    """The file's records in arrival order (by the time column, else file order),
    and the gold story of each line; ``lines`` keeps only those rows."""
    with open(spec.path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    for col in (spec.text_col, spec.label_col, spec.time_col, spec.lang_col, spec.title_col):
        if col and col not in header:
            raise InputError(f"{spec.path}: no column {col!r} (columns: {', '.join(header)})")
    labels: dict[int, str] = {}
    with open(spec.path, newline="", encoding="utf-8", errors="replace") as fh:
        for n, row in enumerate(csv.DictReader(fh), 1):
            if lines is None or n in lines:
                labels[n] = row.get(spec.label_col, "")
    cols = Columns(text=spec.text_col, title=spec.title_col or "title", date=spec.time_col or "date",
                   lang=spec.lang_col or "lang")
    items = [i for i in iter_records([spec.path], cols) if i.line in labels]

    def when(item: InputRecord) -> float:
        try:
            ts = parse_timestamp(normalise_date(item.record.get("date"))) if item.record else None
        except InputError:      # the corpus reports it; here it only sorts last
            ts = None
        return ts if ts is not None else float("inf")

    items.sort(key=when)  # the stream as it would have arrived (stable: file order otherwise)
    return items, labels


def evaluate_stories(spec: LabelledFile, corpus_options: dict[str, Any] | None = None, progress: bool = True,
                     lines: Collection[int] | None = None, return_stories: bool = False) -> dict[str, Any]:
    """Scores (and with ``return_stories``, ``story_of_line``: each line's predicted story)."""
    from samestory.corpus import Corpus

    items, labels = labelled_records(spec, lines)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "eval.db", progress=progress, **(corpus_options or {}))
        report = corpus.add(items, total=len(items))
        seconds = time.perf_counter() - start
    story_of_line = {o.line: o.story for o in report.outcomes}
    order = sorted(labels)
    pred = [story_of_line.get(n) if story_of_line.get(n) is not None else f"error:{n}" for n in order]
    result = {"articles": len(order), "errors": report.errors, **cluster_scores(pred, [labels[n] for n in order]),
              "seconds": round(seconds, 2)}
    if return_stories:
        result["story_of_line"] = story_of_line
    return result
