"""Train the story linker shipped as src/samestory/models/story-linker-v1.json.gz.

    python training/fit_linker.py ../shared/data        (about 3 minutes with a warm vector cache)

Fits one StoryLinker on the three development settings at once: full
multilingual articles (multilingual_stories/dev.csv, no dates), UCI headlines
arriving over hours (uci_stories/dev_stream.csv) and the same headlines text only
(uci_stories/dev.csv without its time column, whose timestamps give the stories
away). Prints each file's pair-level ROC AUC under story-grouped 3-fold
cross-validation; bench/stories_bench.py clusters the held-out folds with the
real corpus.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sklearn.metrics import roc_auc_score

from samestory.corpus import DEFAULT_ENCODER
from samestory.embed import CachedEncoder, load_encoder
from samestory.training.linker import candidate_pairs, dev_files, fit_linker, fold_linkers, read_examples

MODEL = Path(__file__).resolve().parents[1] / "src/samestory/models/story-linker-v1.json.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="the shared data folder (../shared/data)")
    ap.add_argument("--out", type=Path, default=MODEL)
    ap.add_argument("--folds", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    encoder = CachedEncoder(load_encoder(DEFAULT_ENCODER), progress=True)
    examples = {name: read_examples(spec, encoder) for name, spec in dev_files(args.data).items()}
    folds, models = fold_linkers(examples, args.folds)
    summary = {}
    for name, ex in examples.items():
        held = [candidate_pairs(ex, keep=folds[name][f]) for f in range(args.folds)]
        aucs = [roc_auc_score(y, model.predict_proba(X)) for (X, y), model in zip(held, models)]
        summary[name] = {"pair_auc_cv": round(sum(aucs) / len(aucs), 4), "pairs": sum(len(y) for _, y in held)}
        print(f"{name:<14} pair ROC AUC (story-grouped {args.folds}-fold CV): {summary[name]['pair_auc_cv']:.3f}")
    linker = fit_linker([candidate_pairs(ex) for ex in examples.values()])
    linker.summary = {"trained_on": {n: s.path for n, s in dev_files(args.data).items()}, "cv": summary,
                      "encoder": encoder.name}
    linker.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
