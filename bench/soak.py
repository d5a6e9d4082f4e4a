"""Crash and fault campaign: kill -9 during `index add`, then a long mixed load on the service.

    python bench/soak.py [--kills 20] [--minutes 10] [--records 600]

1. **kill -9 and resume.** The first ``--records`` UCI dev headlines (arrival order) are
   indexed once without interruption (the reference), then again into a second index
   while ``index add`` is killed with SIGKILL at random moments ``--kills`` times, each
   time resumed by running the same command. After the last resume the two indexes must
   hold the same articles (ids), each once, and every record must be accounted for in the
   final ``--report``. Story memberships are compared by adjusted Rand index (1.0 = the
   same stories) with the number of articles whose story differs.
2. **Mixed load.** ``samestory serve`` on that index, loopback only, 4 clients for
   ``--minutes``: POST /compare, POST /articles (new headlines), GET /similar and
   GET /stories in turn. Prints requests, errors, p50/p99 per endpoint and the
   service's resident memory after a 30 s warm-up and at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
from load_bench import SHARED, free_port, wait_healthy

CLI = [sys.executable, "-m", "samestory.cli"]


def index_cmd(csv: Path, db: Path, report: Path) -> list[str]:
    return [*CLI, "index", "add", str(csv), "--db", str(db), "--title-col", "TITLE", "--time-col", "TIMESTAMP",
            "--report", str(report)]


def memberships(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT id, story FROM articles"))


def kill_campaign(csv: Path, tmp: Path, kills: int, rng: random.Random) -> dict:
    ref_db, db = tmp / "reference.db", tmp / "killed.db"
    start = time.perf_counter()
    subprocess.run(index_cmd(csv, ref_db, tmp / "ref.jsonl"), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    full = time.perf_counter() - start
    done = 0
    attempts = 0
    while done < kills and attempts < 5 * kills:
        attempts += 1
        proc = subprocess.Popen(index_cmd(csv, db, tmp / "killed.jsonl"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, full))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            done += 1
            print(f"kill {done}/{kills}", file=sys.stderr)
        else:
            proc.wait()                       # finished before the kill: the index is complete; start anew
            db.unlink()
            for extra in tmp.glob("killed.db*"):
                extra.unlink()
    final = subprocess.run(index_cmd(csv, db, tmp / "killed.jsonl"), check=False, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    report = [json.loads(line) for line in (tmp / "killed.jsonl").read_text().splitlines()]
    ref, got = memberships(ref_db), memberships(db)
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM articles").fetchone()
    common = sorted(ref)
    from sklearn.metrics import adjusted_rand_score

    ari = adjusted_rand_score([ref[i] for i in common], [got.get(i, -1) for i in common])
    # the same partition up to story numbering: map each reference story to the killed run's
    mapping: dict[int, int] = {}
    differing = 0
    for i in common:
        if mapping.setdefault(ref[i], got.get(i, -1)) != got.get(i, -1):
            differing += 1
    return {"kills": done, "final_exit": final.returncode, "records": len(pd.read_csv(csv)),
            "report_lines": len(report), "report_lines_distinct": len({(r["source"], r["line"]) for r in report}),
            "stored": rows[0], "stored_distinct": rows[1], "reference_stored": len(ref),
            "same_ids": set(ref) == set(got), "ari": ari, "articles_in_other_story": differing,
            "uninterrupted_s": full}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def mixed_load(db: Path, extra: list[str], groups: list[list[str]], minutes: float, clients: int) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*CLI, "index", "serve", "--db", str(db), "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    stats: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    try:
        wait_healthy(base, server)
        with sqlite3.connect(db) as con:
            ids = [row[0] for row in con.execute("SELECT id FROM articles")]
        fresh = iter(extra)

        def request(client: httpx.Client, rng: random.Random, kind: str) -> httpx.Response:
            if kind == "POST /compare":
                story = rng.choice(groups)
                return client.post(f"{base}/compare", json={"a": {"text": rng.choice(story)},
                                                            "b": {"text": rng.choice(story)}})
            if kind == "POST /articles":
                with lock:
                    text = next(fresh, None) or f"Soak headline number {rng.random()} about the harbour"
                return client.post(f"{base}/articles", json={"title": text, "date": "2014-05-01"})
            if kind == "GET /similar":
                return client.get(f"{base}/articles/{rng.choice(ids)}/similar", params={"k": 10})
            return client.get(f"{base}/stories", params={"limit": 50})

        kinds = ["POST /compare", "POST /articles", "GET /similar", "GET /stories"]
        stop = time.perf_counter() + 60 * minutes
        warm = {"at": time.perf_counter() + 30, "rss": None}

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(timeout=120) as client:
                while time.perf_counter() < stop:
                    kind = kinds[rng.randrange(len(kinds))]
                    t = time.perf_counter()
                    try:
                        ok = request(client, rng, kind).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    with lock:
                        stats.setdefault(kind, []).append(time.perf_counter() - t)
                        errors[kind] = errors.get(kind, 0) + (not ok)
                        if warm["rss"] is None and time.perf_counter() > warm["at"]:
                            warm["rss"] = rss_mb(server.pid)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        end_rss = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = {}
    for kind, lat in stats.items():
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
        rows[kind] = {"requests": len(lat), "errors": errors[kind], "p50_ms": 1000 * q[49], "p99_ms": 1000 * q[98]}
    # a run shorter than the warm-up has only the end figure
    return {"endpoints": rows, "rss_after_warmup_mb": warm["rss"] or end_rss, "rss_end_mb": end_rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--records", type=int, default=600)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    df = pd.read_csv(SHARED / "uci_stories/dev_stream.csv").sort_values("TIMESTAMP")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        csv = tmp / "stream.csv"
        df.head(args.records).to_csv(csv, index=False)
        crash = kill_campaign(csv, tmp, args.kills, rng)
        print(f"\nkill -9 campaign: {crash['kills']} kills during `index add` of {crash['records']} records, "
              f"each resumed (uninterrupted run: {crash['uninterrupted_s']:.1f} s)")
        print(f"  final run exit {crash['final_exit']}; report lines {crash['report_lines']} "
              f"({crash['report_lines_distinct']} distinct records)")
        print(f"  stored {crash['stored']} (distinct {crash['stored_distinct']}) vs uninterrupted "
              f"{crash['reference_stored']}; same ids: {crash['same_ids']}")
        print(f"  stories vs uninterrupted: adjusted Rand {crash['ari']:.4f}, "
              f"{crash['articles_in_other_story']} articles in another story")
        long_enough = df[df.TITLE.str.len() >= 20]
        groups = long_enough.groupby("STORY").TITLE.apply(list).tolist()
        extra = df.TITLE.iloc[args.records:].tolist()
        load = mixed_load(tmp / "killed.db", extra, groups, args.minutes, args.clients)
    print(f"\nmixed load: {args.minutes:g} min, {args.clients} clients, loopback")
    print(f"{'endpoint':<18}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for kind, r in sorted(load["endpoints"].items()):
        print(f"{kind:<18}{r['requests']:>9}{r['errors']:>8}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}")
    print(f"service resident memory: {load['rss_after_warmup_mb']:.0f} MB after 30 s, "
          f"{load['rss_end_mb']:.0f} MB at the end")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
