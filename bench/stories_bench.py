"""Story clustering on the three development settings, beside the plain baseline, in one run.

    python bench/stories_bench.py ../shared/data [--folds 3]      (make bench-stories)

Settings: full multilingual articles (multilingual_stories/dev.csv: pairwise F1
is its figure, most stories have one or two articles), UCI headlines arriving
over hours (uci_stories/dev_stream.csv: BCubed) and the same headlines text only
(uci_stories/dev.csv without its give-away timestamps: BCubed).

Rows:
- plain baseline: the same head vectors, offline average-link clustering with
  one cosine threshold tuned on the file itself (plus 0.02 distance per day
  apart on the stream, as in ../shared/README.md), the best it can do here;
- samestory (shipped linker): in-sample, the linker was trained on these files;
- samestory (story-grouped CV): for each fold, a linker trained without that
  fold's stories clusters the whole file through the real ``Corpus``; the
  fold's articles are scored, every link from one of them to another fold's
  article counting as a false link (at half weight: the other fold's run counts
  it too), and the counts are pooled over folds (ARI is not defined for that,
  so it shows nan). This is the honest figure.
  It is repeated for ``--seeds`` draws of the folds and averaged, with the range
  of the headline figure beside it: on the multilingual file one big news event
  that the gold splits into several stories (a dozen reports of the attack on the
  US embassy in Baghdad, six gold "stories") moves pairwise F1 by 0.05 depending
  on whether it merges, so one draw is not a measurement.
- plain baseline, CV: the baseline scored the same way, each fold cut at the
  threshold that is best on the pairs within the other folds.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from samestory.corpus import DEFAULT_ENCODER
from samestory.embed import CachedEncoder, load_encoder
from samestory.evaluate.stories import cluster_scores, evaluate_stories
from samestory.training.linker import LinkExamples, dev_files, fold_linkers, read_examples

HEADLINE = {"multilingual": "pairwise_f1", "stream": "bcubed_f1", "text only": "bcubed_f1"}


def baseline_cuts(ex: LinkExamples, use_time: bool) -> dict[float, dict[int, int]]:
    """Average link on cosine distance (+0.02 per day apart): line -> cluster, per threshold."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    dist = pdist(ex.vectors.astype(np.float64), "cosine")
    if use_time:
        dist = dist + 0.02 * pdist(ex.ts[:, None] / 86400.0, "cityblock")
    tree = linkage(dist, "average")
    return {round(float(t), 3): dict(zip(ex.lines, fcluster(tree, t, "distance").tolist()))
            for t in np.arange(0.02, 0.40, 0.005)}


def baseline(ex: LinkExamples, cuts: dict[float, dict[int, int]], metric: str) -> tuple[dict, float]:
    """The baseline's best cut, the threshold tuned on the file itself."""
    best: tuple[float, dict, float] = (-1.0, {}, 0.0)
    for threshold, cut in cuts.items():
        scores = cluster_scores([cut[line] for line in ex.lines], ex.labels)
        if scores[metric] > best[0]:
            best = (scores[metric], scores, threshold)
    return best[1], best[2]


def baseline_cv(ex: LinkExamples, cuts: dict[float, dict[int, int]], folds: list[set[int]], metric: str
                ) -> dict[str, float]:
    """The baseline scored like samestory's CV rows: each fold cut at the threshold that is best
    on the pairs within the other folds."""
    labels = dict(zip(ex.lines, ex.labels))
    counts, found = [], []
    for held in folds:
        rest = set(ex.lines) - held
        rest_labels = {line: labels[line] for line in rest}
        threshold = max(cuts, key=lambda t: pooled([held_out_counts({k: c for k, c in cuts[t].items() if k in rest},
                                                                    rest_labels, rest)], 0)[metric])
        counts.append(held_out_counts(cuts[threshold], labels, held))
        found.append(len(set(cuts[threshold].values())))
    return pooled(counts, float(np.mean(found)))


def held_out_counts(story_of_line: dict[int, object], labels: dict[int, str], held: set[int]) -> dict[str, float]:
    """Pair and BCubed counts for the held-out lines of one fold's run, counting their
    false links to the other folds' articles (which are always other stories) at half
    weight: each such pair has one end in either fold, and is counted in both folds' runs.
    Pooled over the folds, the counts of one fixed clustering then add up to that
    clustering's own pairwise figures."""
    clusters: dict[object, list[int]] = {}
    for line in labels:
        clusters.setdefault(story_of_line.get(line, f"error:{line}"), []).append(line)
    tp = fp = fn = 0
    precision = recall = 0.0
    gold_size = Counter(labels[n] for n in held)
    for members in clusters.values():
        inside = [n for n in members if n in held]
        if not inside:
            continue
        by_gold = Counter(labels[n] for n in inside)
        same = sum(c * (c - 1) // 2 for c in by_gold.values())
        tp += same
        # A false link to another fold's article is judged again in that fold's run: half here.
        fp += len(inside) * (len(inside) - 1) // 2 - same + len(inside) * (len(members) - len(inside)) / 2
        for g, c in by_gold.items():
            precision += c * c / len(members)
            recall += c * c / gold_size[g]
    fn = sum(c * (c - 1) // 2 for c in gold_size.values()) - tp
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "n": len(held)}


def pooled(counts: list[dict[str, float]], stories_found: float) -> dict[str, float]:
    tp, fp, fn = (sum(c[k] for c in counts) for k in ("tp", "fp", "fn"))
    n = sum(c["n"] for c in counts)
    p, r = sum(c["precision"] for c in counts) / n, sum(c["recall"] for c in counts) / n
    return {"pairwise_f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
            "bcubed_f1": 2 * p * r / (p + r) if p + r else 0.0, "ari": float("nan"), "stories_found": stories_found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=3, help="draws of the story folds to average the CV over")
    args = ap.parse_args()
    files = dev_files(args.data)
    encoder = CachedEncoder(load_encoder(DEFAULT_ENCODER), progress=True)
    examples = {name: read_examples(spec, encoder) for name, spec in files.items()}
    draws = [fold_linkers(examples, args.folds, seed) for seed in range(args.seeds)]
    rows, spread = [], {}
    for name, spec in files.items():
        ex = examples[name]
        start = time.perf_counter()
        cuts = baseline_cuts(ex, spec.time_col is not None)
        base, threshold = baseline(ex, cuts, HEADLINE[name])
        rows.append((name, f"plain baseline (average link, threshold {threshold:.3f} tuned here)", base,
                     time.perf_counter() - start))
        base_cv = [baseline_cv(ex, cuts, folds[name], HEADLINE[name]) for folds, _ in draws]
        rows.append((name, f"plain baseline, threshold tuned on the other folds, {args.seeds} draws",
                     {k: float(np.mean([s[k] for s in base_cv])) for k in base_cv[0]}, 0.0))
        shipped = evaluate_stories(spec, progress=False, corpus_options={"encoder": encoder.encoder})
        rows.append((name, "samestory, shipped linker (in-sample)", shipped, shipped["seconds"]))
        labels = dict(zip(ex.lines, ex.labels))
        per_seed, seconds = [], 0.0
        for folds, models in draws:
            counts, found = [], []
            for f, model in enumerate(models):
                options = {"encoder": encoder.encoder, "linker": model}
                result = evaluate_stories(spec, progress=False, corpus_options=options, return_stories=True)
                seconds += result["seconds"]
                found.append(result["stories_found"])
                counts.append(held_out_counts(result["story_of_line"], labels, folds[name][f]))
            per_seed.append(pooled(counts, float(np.mean(found))))
        mean = {k: float(np.mean([s[k] for s in per_seed])) for k in per_seed[0]}
        spread[name] = [s[HEADLINE[name]] for s in per_seed]
        rows.append((name, f"samestory, story-grouped {args.folds}-fold CV, {args.seeds} draws", mean,
                     seconds / (args.folds * args.seeds)))
    print(f"\n{'setting':<13} {'system':<58} {'pairwise F1':>11} {'BCubed F1':>9} {'ARI':>6} {'stories':>7} {'s':>6}")
    for name, system, s, secs in rows:
        print(f"{name:<13} {system:<58} {s['pairwise_f1']:>11.3f} {s['bcubed_f1']:>9.3f} {s['ari']:>6.3f} "
              f"{s['stories_found']:>7.0f} {secs:>6.1f}")
    print("\nheadline figure: pairwise F1 for multilingual (stories of 1-2 articles), BCubed F1 for the UCI files")
    for name, values in spread.items():
        print(f"CV {HEADLINE[name]} per draw of the folds, {name}: " + ", ".join(f"{v:.3f}" for v in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
