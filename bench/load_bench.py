"""Load on the HTTP service, over loopback only, bounded in time and count.

    python bench/load_bench.py [--seconds 60] [--concurrency 4]

Starts ``samestory serve`` on a free 127.0.0.1 port with a fresh index of the
UCI dev headlines (as arrival-ordered articles), then drives, for ``--seconds``
each:
  - POST /compare on short articles (pairs of headlines with their story mates;
    vectors are cached by content hash, starting from an empty cache),
  - GET /articles/{id}/similar?k=10 for random stored ids,
and prints requests/second, p50/p99 latency and errors. The baseline, measured in
the same run, is GET /healthz (the framework's floor on this machine).
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, server: subprocess.Popen, seconds: float = 120) -> None:
    """Until the service at ``base`` answers /healthz; raises if it exits or takes too long."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise RuntimeError("samestory serve exited before it became healthy")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"samestory serve was not healthy after {seconds:.0f} s")


def drive(name: str, make_request, seconds: float, concurrency: int, max_requests: int = 100_000) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        with httpx.Client(timeout=60) as client:
            while time.perf_counter() < stop and len(latencies) < max_requests:
                t = time.perf_counter()
                try:
                    ok = make_request(client, rng).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies.append(time.perf_counter() - t)
                    errors += not ok

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {"name": name, "requests": len(latencies), "rps": len(latencies) / wall,
            "p50_ms": 1000 * q[49], "p99_ms": 1000 * q[98], "errors": errors}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--csv", default=str(SHARED / "uci_stories/dev.csv"))
    args = ap.parse_args()

    df = pd.read_csv(args.csv).sort_values("TIMESTAMP")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SAMESTORY_CACHE"] = str(Path(tmp) / "cache")  # start cold, like a fresh deployment
        db = Path(tmp) / "load.db"
        print("indexing the headlines ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "samestory.cli", "index", "add", args.csv, "--db", str(db),
                        "--title-col", "TITLE", "--time-col", "TIMESTAMP"], check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "samestory.cli", "index", "serve", "--db", str(db),
                                   "--port", str(port)], stderr=subprocess.DEVNULL, env=dict(os.environ))
        try:
            wait_healthy(base, server)
            ids = [s["id"] for s in httpx.get(f"{base}/stories", params={"limit": 10_000}).json()["stories"]]
            members = [m["id"] for sid in ids[:50] for m in httpx.get(f"{base}/stories/{sid}").json()["members"]]
            # /compare rejects texts under 20 characters (422, by design): send real articles.
            long_enough = df[df.TITLE.str.len() >= 20]
            groups = long_enough.groupby("STORY").TITLE.apply(list).tolist()

            def compare(client, rng):
                story = rng.choice(groups)
                return client.post(f"{base}/compare", json={"a": {"text": rng.choice(story)},
                                                            "b": {"text": rng.choice(story)}})

            def similar(client, rng):
                return client.get(f"{base}/articles/{rng.choice(members)}/similar", params={"k": 10})

            rows = [drive("GET /healthz (floor)", lambda c, r: c.get(f"{base}/healthz"), min(args.seconds, 10),
                          args.concurrency),
                    drive("POST /compare", compare, args.seconds, args.concurrency),
                    drive("GET /similar k=10", similar, args.seconds, args.concurrency)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\n{'endpoint':<22}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for r in rows:
        print(f"{r['name']:<22}{r['requests']:>9}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}")
    print(f"\n/similar p99 vs /healthz p99: {rows[2]['p99_ms'] / rows[0]['p99_ms']:.1f}x "
          f"(goal: /similar p99 under 100 ms on this machine)")


if __name__ == "__main__":
    main()
