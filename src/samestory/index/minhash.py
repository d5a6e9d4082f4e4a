"""Near-duplicate detection: MinHash signatures over word 3-gram shingles and
LSH buckets (datasketch), so copies are found without comparing all pairs."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import LeanMinHash

from samestory.signals.normalize import tokens

NUM_PERM = 64
SCHEME = "affine32"  # datasketch 2.x default; signatures are stored as uint32


def shingle_bytes(text: str, n: int = 3) -> list[bytes]:
    words = tokens(text)
    if len(words) < n:
        return [" ".join(words).encode()] if words else [b""]
    return [" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)]


def signatures(texts: list[str]) -> list[np.ndarray]:
    from datasketch import MinHash

    return [m.hashvalues.astype(np.uint32) for m in
            MinHash.bulk([shingle_bytes(t) for t in texts], num_perm=NUM_PERM)]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity of two shingle sets."""
    return float(np.mean(a == b))


class DuplicateIndex:
    """LSH buckets over signatures; candidates are verified by their estimate."""

    def __init__(self, threshold: float = 0.5):
        from datasketch import MinHashLSH

        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._sigs: dict[int, np.ndarray] = {}

    def _minhash(self, sig: np.ndarray) -> LeanMinHash:
        from datasketch import LeanMinHash

        return LeanMinHash(seed=1, hashvalues=sig.astype(np.uint64), scheme=SCHEME)

    def add(self, key: int, sig: np.ndarray) -> None:
        if key not in self._sigs:
            self._lsh.insert(key, self._minhash(sig))
            self._sigs[key] = sig

    def query(self, sig: np.ndarray) -> list[tuple[int, float]]:
        """Stored keys whose estimated Jaccard with ``sig`` reaches the threshold, best first."""
        hits = [(k, jaccard(sig, self._sigs[k])) for k in self._lsh.query(self._minhash(sig))]
        return sorted((h for h in hits if h[1] >= self.threshold), key=lambda h: -h[1])
