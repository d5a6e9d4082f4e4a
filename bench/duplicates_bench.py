"""Near-duplicates on the dev file: samestory beside plain MinHash (Jaccard 0.5), per kind, in one run.

    python bench/duplicates_bench.py ../shared/data      (make bench-duplicates)

Data: ``multilingual_stories/dup_dev.jsonl`` (1,472 articles in 10 languages, 150
copies: wire copies with debris, partial copies, edited copies, machine
translations) and ``dup_dev_truth.json`` (the true copy clusters; same-story pairs
that are not copies count neither way). Every pair inside one reported group is a
predicted duplicate pair; precision and recall are over pairs, recall also per kind.

- plain MinHash: the cleaned texts' word 3-gram signatures (the same 64-permutation
  MinHash samestory stores), LSH, estimated Jaccard >= 0.5, connected into groups;
- samestory: ``index add`` into a fresh index, then ``duplicates`` (resemblance for
  candidates, containment to decide; across languages, head-vector neighbours whose
  opening sentences align one by one).
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from samestory.corpus import Corpus
from samestory.index.minhash import DuplicateIndex, signatures
from samestory.ingest import clean_record, iter_records
from samestory.types import InputError

LANGS = {"ar", "de", "en", "es", "fr", "it", "pl", "ru", "tr", "zh"}


def kind(pair: frozenset[str]) -> str:
    """The kind of a true pair, from the test set's id suffixes (``wire``, ``partial``, ...)."""
    suffixes = sorted(re.sub(r"^\d+", "", x) for x in pair)
    if any(s in LANGS for s in suffixes):
        return "translation"
    return next((s for s in suffixes if s), "copy")


def pairs_of(groups: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}


def minhash_groups(records: list[dict]) -> list[list[str]]:
    ids, texts = [], []
    for r in records:
        try:
            texts.append(clean_record(r).full_text)
            ids.append(r["id"])
        except InputError:
            continue
    index = DuplicateIndex(0.5)
    root: dict[int, int] = {}
    for i, sig in enumerate(signatures(texts)):
        hits = index.query(sig)
        root[i] = root[hits[0][0]] if hits else i
        index.add(i, sig)
    groups: dict[int, list[str]] = {}
    for i, r in root.items():
        groups.setdefault(r, []).append(ids[i])
    return [g for g in groups.values() if len(g) > 1]


def samestory_groups(path: Path) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp) / "dup.db", progress=True)
        corpus.add(iter_records([path]))
        return [[g["source"]["record_id"], *[c["record_id"] for c in g["copies"]]] for g in corpus.duplicates()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    args = ap.parse_args()
    folder = args.data / "multilingual_stories"
    truth = json.loads((folder / "dup_dev_truth.json").read_text())
    true_pairs = pairs_of(truth["clusters"])
    neutral = pairs_of(truth["same_story_not_copies"])
    records = [json.loads(line) for line in (folder / "dup_dev.jsonl").read_text().splitlines() if line.strip()]
    kinds = sorted({kind(p) for p in true_pairs})
    rows = []
    for name, run in (("plain MinHash (Jaccard >= 0.5)", lambda: minhash_groups(records)),
                      ("samestory", lambda: samestory_groups(folder / "dup_dev.jsonl"))):
        start = time.perf_counter()
        found = pairs_of(run())
        seconds = time.perf_counter() - start
        judged = found - neutral
        hits = len(judged & true_pairs)
        per_kind = {k: (sum(p in found for p in true_pairs if kind(p) == k), sum(kind(p) == k for p in true_pairs))
                    for k in kinds}
        rows.append((name, hits / max(len(judged), 1), hits / len(true_pairs), per_kind, seconds))
    print(f"\n{len(records)} articles, {len(true_pairs)} true duplicate pairs; recall per kind (found/true)\n")
    print(f"{'system':<32}{'precision':>10}{'recall':>8}" + "".join(f"{k:>13}" for k in kinds) + f"{'s':>7}")
    for name, precision, recall, per_kind, seconds in rows:
        cells = "".join(f"{f'{a}/{b} {a / b:.2f}':>13}" for a, b in per_kind.values())
        print(f"{name:<32}{precision:>10.3f}{recall:>8.3f}{cells}{seconds:>7.1f}")
    print("\n(samestory's time includes encoding, cached after the first run; MinHash reads no vectors)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
