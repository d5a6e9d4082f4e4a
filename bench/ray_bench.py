"""Articles/s with --engine local against --engine ray (1 and 2 encoder workers), same run,
and where an article's time goes (the per-article figures docs/scale.md projects from).

    python bench/ray_bench.py ../shared/data [--articles 240] [--headlines 2989]

Inputs: full articles (``multilingual_stories/dev.csv``, an even sample over its 10
languages) and the UCI stream headlines. Each configuration is one fresh
``samestory index add`` process with an empty index and an empty vector cache (the
built ONNX model copied in), so every article is cleaned, embedded, signed and
linked. "wall" is the whole command (Ray's start-up included), "add" the command's
own ``seconds``. The stories of each Ray run are compared with the local run's (ARI).
Then, in this process, the per-article stages are timed one by one on the full
articles: clean + language tag, MinHash + per-article features, head vector, and the
serial writer (candidates, linker, assignment, SQLite) fed with those results.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def sample_articles(shared: Path, n: int, out: Path) -> Path:
    df = pd.read_csv(shared / "multilingual_stories" / "dev.csv")
    step = max(1, len(df) // n)
    df.iloc[::step].head(n)[["id", "lang", "story", "text"]].to_csv(out, index=False)
    return out


def fresh_cache(root: Path, model_cache: Path) -> Path:
    root.mkdir(parents=True)
    for f in model_cache.iterdir():
        if f.suffix in (".onnx", ".spm", ".json", ".npz"):
            shutil.copy(f, root / f.name)
    return root


def run(cmd: list[str], cache: Path) -> tuple[float, dict]:
    env = {**os.environ, "SAMESTORY_CACHE": str(cache)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "samestory.cli", *cmd, "--format", "json"], env=env, capture_output=True, check=False,
                          text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout.strip().splitlines()[-1])


def stories(report: Path) -> list:
    return [json.loads(line).get("story", -1) for line in report.open(encoding="utf-8")]


def engines(name: str, path: Path, flags: list[str], tmp: Path, model_cache: Path, n: int) -> list[str]:
    from sklearn.metrics import adjusted_rand_score

    rows, base = [], None
    for label, extra in [("local", []), ("ray, 1 worker", ["--engine", "ray", "--ray-workers", "1"]),
                         ("ray, 2 workers", ["--engine", "ray", "--ray-workers", "2"])]:
        tag = label.replace(", ", "-").replace(" ", "")
        cache = fresh_cache(tmp / f"cache-{name}-{tag}", model_cache)
        report = tmp / f"{name}-{tag}.jsonl"
        wall, summary = run(["index", "add", str(path), "--db", str(tmp / f"{name}-{tag}.db"), *flags, *extra,
                             "--report", str(report)], cache)
        labels = stories(report)
        if base is None:
            base = (wall, labels)
        ari = adjusted_rand_score(base[1], labels)
        rows.append(f"| {name} | {label} | {n} | {wall:.1f} | {summary['seconds']:.1f} | {n / wall:.2f} | "
                    f"{base[0] / wall:.2f}x | {ari:.4f} |")
        print(rows[-1], flush=True)
    return rows


def stages(path: Path, tmp: Path, model_cache: Path) -> list[str]:
    """Per-article cost of each stage, on one core's worth of this machine (ONNX on all cores)."""
    os.environ["SAMESTORY_CACHE"] = str(fresh_cache(tmp / "cache-stages", model_cache))
    from samestory.corpus import DEFAULT_ENCODER, Corpus
    from samestory.embed import CachedEncoder, load_encoder
    from samestory.ingest import Columns, iter_records
    from samestory.scale.embedded import corpus_clean, embed_rows, prepare_rows, read_rows, sign_rows, to_batches

    cols = Columns(text="text", lang="lang")
    t0 = time.perf_counter()
    rows = list(read_rows(0, str(path), cols))
    t1 = time.perf_counter()
    rows = prepare_rows(rows, corpus_clean())
    t2 = time.perf_counter()
    rows = sign_rows(rows)
    t3 = time.perf_counter()
    encoder = CachedEncoder(load_encoder(DEFAULT_ENCODER))
    encoder.encode(["warm up"])
    t4 = time.perf_counter()
    for i in range(0, len(rows), 128):        # the writer's batches, as a worker embeds them
        embed_rows(rows[i:i + 128], encoder)
    t5 = time.perf_counter()
    worker_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    corpus = Corpus(tmp / "stages.db", progress=False)
    corpus.linker  # noqa: B018 - load it outside the timing
    t6 = time.perf_counter()
    report = corpus.add_prepared(to_batches(rows, 128, corpus.encoder.name))
    t7 = time.perf_counter()
    n = len(rows)
    assert report.added + report.already_stored + report.errors == n and sum(1 for _ in iter_records([path], cols)) == n
    total = (t1 - t0) + (t2 - t1) + (t3 - t2) + (t5 - t4) + (t7 - t6)
    out = []
    for stage, s, where in [("read", t1 - t0, "parallel (tasks, one per file)"),
                            ("clean + language tag", t2 - t1, "parallel (tasks)"),
                            ("MinHash + per-article features", t3 - t2, "parallel (tasks)"),
                            ("head vector (int8 e5, all cores)", t5 - t4, "parallel (actor pool)"),
                            ("link + assign + store (the writer)", t7 - t6, "serial (one writer)")]:
        out.append(f"| {stage} | {1000 * s / n:.1f} | {100 * s / total:.0f} % | {where} |")
        print(out[-1], flush=True)
    writer_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process after the per-article stages (what a worker holds: encoder, language "
          f"and word models): {worker_mb:.0f} MB; after the writer too: {writer_mb:.0f} MB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("shared", type=Path)
    ap.add_argument("--articles", type=int, default=240)
    ap.add_argument("--headlines", type=int, default=2989)
    args = ap.parse_args()
    from samestory.corpus import DEFAULT_ENCODER
    from samestory.embed import cache_dir, load_encoder

    load_encoder(DEFAULT_ENCODER)          # the ONNX build, once, outside every timing
    model_cache = cache_dir()
    print(f"samestory ray bench: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        articles = sample_articles(args.shared, args.articles, tmp / "articles.csv")
        headlines = tmp / "headlines.csv"
        pd.read_csv(args.shared / "uci_stories" / "dev_stream.csv").head(args.headlines).to_csv(headlines, index=False)
        print("\n| input | engine | records | wall s | add s | records/s (wall) | vs local | ARI vs local |")
        print("|---|---|---|---|---|---|---|---|")
        engines("full articles", articles, ["--text-col", "text", "--lang-col", "lang"], tmp, model_cache,
                args.articles)
        engines("headlines", headlines, ["--text-col", "TITLE", "--title-col", "TITLE", "--time-col", "TIMESTAMP"],
                tmp, model_cache, args.headlines)
        print(f"\nPer-article cost by stage ({args.articles} full articles, in one process):\n")
        print("| stage | ms/article | share | on Ray |")
        print("|---|---|---|---|")
        stages(articles, tmp, model_cache)


if __name__ == "__main__":
    main()
