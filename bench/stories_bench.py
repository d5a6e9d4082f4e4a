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
  fold's stories clusters the whole file through the real ``Corpus``; scores
  are computed on the fold's articles and averaged over folds. This is the
  honest figure.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from train_linker import dev_files  # noqa: E402

from samestory.corpus import DEFAULT_ENCODER  # noqa: E402
from samestory.embed import CachedEncoder, load_encoder  # noqa: E402
from samestory.evaluate.stories import cluster_scores, evaluate_stories  # noqa: E402
from samestory.train_linker import LinkExamples, candidate_pairs, fit_linker, read_examples, story_folds  # noqa: E402

HEADLINE = {"multilingual": "pairwise_f1", "stream": "bcubed_f1", "text only": "bcubed_f1"}


def baseline(ex: LinkExamples, use_time: bool, metric: str) -> tuple[dict, float]:
    """Average link on cosine distance (+0.02 per day apart), the threshold tuned on the file."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    dist = pdist(ex.vectors.astype(np.float64), "cosine")
    if use_time:
        dist = dist + 0.02 * pdist(ex.ts[:, None] / 86400.0, "cityblock")
    tree = linkage(dist, "average")
    best: tuple[float, dict, float] = (-1.0, {}, 0.0)
    for threshold in np.arange(0.02, 0.40, 0.005):
        scores = cluster_scores(fcluster(tree, threshold, "distance").tolist(), ex.labels)
        if scores[metric] > best[0]:
            best = (scores[metric], scores, float(threshold))
    return best[1], best[2]


def on_lines(result_lines: dict[int, object], labels: dict[int, str], lines: set[int]) -> dict:
    keep = sorted(n for n in lines if n in labels)
    return cluster_scores([result_lines.get(n, f"error:{n}") for n in keep], [labels[n] for n in keep])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--folds", type=int, default=3)
    args = ap.parse_args()
    files = dev_files(args.data)
    encoder = CachedEncoder(load_encoder(DEFAULT_ENCODER), progress=True)
    examples = {name: read_examples(spec, encoder) for name, spec in files.items()}
    folds = {name: story_folds(ex, args.folds) for name, ex in examples.items()}
    models = []
    for f in range(args.folds):
        rest = {name: set(ex.lines) - folds[name][f] for name, ex in examples.items()}
        models.append(fit_linker([candidate_pairs(ex, keep=rest[name]) for name, ex in examples.items()]))
    rows = []
    for name, spec in files.items():
        ex = examples[name]
        start = time.perf_counter()
        base, threshold = baseline(ex, spec.time_col is not None, HEADLINE[name])
        rows.append((name, f"plain baseline (average link, threshold {threshold:.3f} tuned here)", base,
                     time.perf_counter() - start))
        shipped = evaluate_stories(spec, progress=False, corpus_options={"encoder": encoder.inner})
        rows.append((name, "samestory, shipped linker (in-sample)", shipped, shipped["seconds"]))
        labels = dict(zip(ex.lines, ex.labels))
        fold_scores, seconds = [], 0.0
        for f, model in enumerate(models):
            result = evaluate_stories(spec, progress=False, corpus_options={"encoder": encoder.inner, "linker": model},
                                      return_stories=True)
            seconds += result["seconds"]
            fold_scores.append(on_lines(result["story_of_line"], labels, folds[name][f]))
        cv = {k: round(float(np.mean([s[k] for s in fold_scores])), 4) for k in fold_scores[0]}
        rows.append((name, f"samestory, story-grouped {args.folds}-fold CV", cv, seconds / args.folds))
    print(f"\n{'setting':<13} {'system':<58} {'pairwise F1':>11} {'BCubed F1':>9} {'ARI':>6} {'stories':>7} {'s':>6}")
    for name, system, s, secs in rows:
        print(f"{name:<13} {system:<58} {s['pairwise_f1']:>11.3f} {s['bcubed_f1']:>9.3f} {s['ari']:>6.3f} "
              f"{s['stories_found']:>7.0f} {secs:>6.1f}")
    print("\nheadline figure: pairwise F1 for multilingual (stories of 1-2 articles), BCubed F1 for the UCI files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
