"""What the per-article stages computed ahead of the writer (``samestory index embed``, Ray
workers: ``scale``), as the write path reads it: head vectors, MinHash signatures and the
linker's text-derived features, each found by the exact text the writer would compute it
from. Where the corpus's learned boilerplate stripping changed an article on the writer,
the text differs and the writer computes that one itself.

The producer's side (``features_json``) and the reader's (``Precomputed``) share this one
module, so the format is written down once.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np

from samestory.embed import Encoder
from samestory.index.minhash import signatures
from samestory.stories.link import Fingerprint, fingerprint
from samestory.types import IndexMismatch

#: Fingerprint fields that depend on the batch or on the neighbours, not on the text alone.
_CONTEXT_FIELDS = {"signature", "ts", "dated", "density"}


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return {"set": sorted(int(v) for v in value)}
    if isinstance(value, dict):
        return {"map": [[int(k), float(v)] for k, v in value.items()]}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} feature")


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and "set" in value:
        return frozenset(value["set"])
    if isinstance(value, dict) and "map" in value:
        return {k: v for k, v in value["map"]}
    return value


def features_json(fp: Fingerprint) -> str | None:
    """The text-derived fields of a fingerprint (whatever ``Fingerprint`` holds), or None when
    one of them cannot be kept as data (then the writer computes the fingerprint itself)."""
    try:
        return json.dumps({f.name: _plain(getattr(fp, f.name)) for f in dataclasses.fields(fp)
                           if f.init and f.name not in _CONTEXT_FIELDS})
    except TypeError:
        return None


class Precomputed:
    """What one batch's rows carry, found by the exact text the write path computes it from."""

    def __init__(self, encoder_name: str | None = None):
        self.encoder_name = encoder_name
        self.vectors: dict[str, np.ndarray] = {}
        self.sigs: dict[str, np.ndarray] = {}
        self.features: dict[tuple[str, str], dict[str, Any]] = {}
        self.hits = self.misses = 0

    def add(self, row: dict[str, Any]) -> None:
        if row.get("head_hash") and row.get("vector") is not None:
            self.vectors[row["head_hash"]] = np.asarray(row["vector"], np.float32)
        if row.get("text_hash") and row.get("signature") is not None:
            self.sigs[row["text_hash"]] = np.asarray(row["signature"], np.uint32)
            if row.get("features"):
                self.features[(row["text_hash"], row["lang"])] = json.loads(row["features"])

    def encoder(self, fallback: Encoder) -> Encoder:
        if self.encoder_name and self.encoder_name != fallback.name:
            raise IndexMismatch(f"the vectors were made with encoder {self.encoder_name}, the index uses "
                                f"{fallback.name}; embed again with that encoder or use a new index")
        return _LookupEncoder(self, fallback)

    def signatures(self, texts: list[str]) -> list[np.ndarray]:
        keys = [text_key(t) for t in texts]
        missing = [t for t, k in zip(texts, keys) if k not in self.sigs]
        computed = dict(zip(missing, signatures(missing))) if missing else {}
        self._count(len(texts) - len(missing), len(missing))
        return [self.sigs[k] if k in self.sigs else computed[t] for t, k in zip(texts, keys)]

    def fingerprint(self, text: str, lang: str, signature: np.ndarray, ts: float, dated: bool,
                    neighbour_sims: np.ndarray) -> Fingerprint:
        parts = self.features.get((text_key(text), lang))
        if parts is None:
            self._count(0, 1)
            return fingerprint(text, lang, signature, ts, dated, neighbour_sims)
        self._count(1, 0)
        base = fingerprint("", lang, signature, ts, dated, neighbour_sims)
        return dataclasses.replace(base, **{k: _unplain(v) for k, v in parts.items()})

    def _count(self, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses


class _LookupEncoder:
    def __init__(self, ahead: Precomputed, fallback: Encoder):
        self.ahead, self.fallback = ahead, fallback
        self.name, self.dim = fallback.name, fallback.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = [t for t, k in zip(texts, keys) if k not in self.ahead.vectors]
        computed = dict(zip(missing, self.fallback.encode(missing))) if missing else {}
        self.ahead._count(len(texts) - len(missing), len(missing))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.ahead.vectors[k] if k in self.ahead.vectors else computed[t]
                         for t, k in zip(texts, keys)]).astype(np.float32)
