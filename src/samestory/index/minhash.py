"""Near-duplicate detection: MinHash signatures over word 3-gram shingles (datasketch) and
LSH buckets, so copies are found without comparing all pairs.

The buckets are datasketch's banding (its ``MinHashLSH`` picks the bands ``b`` and rows
``r`` for the threshold), kept compact for an index that runs for months: each article's
``b`` band hashes are 64-bit integers in sorted NumPy arrays (a dictionary takes the most
recent few thousand until they are merged in), and the signatures sit in one array. That
is about 0.5 KB an article, where ``MinHashLSH``'s sets of keys take over 7 KB. The same
band hashes (``band_hashes``) index the cold archive on disk, so a copy of an article that
left memory months ago is still found. A candidate is any stored key sharing a whole band
with the query, as in ``MinHashLSH``; ``query`` keeps those whose estimated Jaccard
reaches the threshold.
"""
from __future__ import annotations

import numpy as np

from samestory.index.rowmap import RowMap
from samestory.signals.normalize import tokens

NUM_PERM = 64
SCHEME = "affine32"  # datasketch 2.x default; signatures are stored as uint32
_MIX = np.uint64(0x9E3779B97F4A7C15)


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


def bands_for(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) that datasketch's ``MinHashLSH`` chooses for ``threshold``."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return int(lsh.b), int(lsh.r)


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out: np.ndarray = x ^ (x >> np.uint64(31))
        return out


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One signed 64-bit hash per band of each signature: an (n, bands) int64 array; two
    signatures share a band's hash when (barring a 2^-64 collision) they agree on all its rows."""
    sigs = np.asarray(sigs, np.uint32).reshape(-1, NUM_PERM)[:, :bands * rows].astype(np.uint64)
    per_band = sigs.reshape(len(sigs), bands, rows)
    with np.errstate(over="ignore"):
        h = np.broadcast_to((np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _MIX, (len(sigs), bands)).copy()
        for j in range(rows):
            h = _splitmix(h ^ per_band[:, :, j])
    hashes: np.ndarray = h.view(np.int64)
    return hashes


def _low32(hashes: np.ndarray) -> np.ndarray:
    """The low 32 bits of band hashes: in memory a chance collision only adds a candidate, which
    its estimate then turns away."""
    low: np.ndarray = (hashes.view(np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return low


class DuplicateIndex:
    """LSH buckets over signatures; candidates are verified by their estimate.

    Args:
        threshold: the estimated Jaccard a stored signature must reach to be returned.
        recent: how many articles the dictionary holds before they are merged into the
            sorted arrays.
    """

    def __init__(self, threshold: float = 0.5, recent: int = 8192):
        self.threshold = threshold
        self.bands, self.rows = bands_for(threshold)
        self.recent_limit = recent
        self._slot = RowMap()                       # key -> its row in _sigs
        self._sigs = np.zeros((1024, NUM_PERM), np.uint32)
        self._free: list[int] = []
        self._hashes = np.zeros(0, np.uint32)       # sorted band hashes (their low 32 bits) ...
        self._keys = np.zeros(0, np.int32)          # ... and the key of each (rowids below 2^31)
        self._recent: dict[int, list[int]] = {}     # band hash -> keys, not yet merged
        self._recent_keys: list[int] = []
        self._removed = 0                           # entries in the arrays whose key has gone

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (the dictionaries' Python objects apart)."""
        return int(self._sigs.nbytes + self._hashes.nbytes + self._keys.nbytes)

    def signature(self, key: int) -> np.ndarray:
        """A stored key's signature (a view: do not change it). Raises KeyError for another key."""
        sig: np.ndarray = self._sigs[self._slot[key]]
        return sig

    def add(self, key: int, sig: np.ndarray) -> None:
        """Store ``sig`` under ``key`` (a key stored already is left as it is)."""
        self.add_many([key], np.asarray(sig).reshape(1, -1))

    def add_many(self, keys: list[int], sigs: np.ndarray) -> None:
        """``add`` for several keys (their band hashes computed at once)."""
        if not len(keys):
            return
        for key, sig, hashes in zip(keys, sigs, _low32(band_hashes(sigs, self.bands, self.rows)).tolist()):
            self._add(key, sig, hashes)

    def _add(self, key: int, sig: np.ndarray, hashes: list[int]) -> None:
        if key in self._slot:
            return
        if self._free:
            slot = self._free.pop()
        else:
            slot = len(self._slot)
            if slot >= len(self._sigs):       # grow by a quarter: the spare rows cost memory too
                self._sigs = np.concatenate([self._sigs, np.zeros((len(self._sigs) // 4, NUM_PERM), np.uint32)])
        self._sigs[slot] = sig
        self._slot[key] = slot
        for h in hashes:
            self._recent.setdefault(h, []).append(key)
        self._recent_keys.append(key)
        if len(self._recent_keys) >= self.recent_limit:
            self._merge()

    def remove(self, keys: list[int]) -> None:
        """Forget these keys (absent ones are ignored); their bucket entries go at the next merge."""
        for key in keys:
            slot = self._slot.pop(key, None)
            if slot is not None:
                self._free.append(slot)
                self._removed += self.bands
        if self._removed > len(self._keys) // 4:
            self._merge()

    def _merge(self) -> None:
        """The dictionary's entries into the sorted arrays, dropping entries of removed keys."""
        keep = np.isin(self._keys, self._slot.keys_array().astype(np.int32)) if self._removed else None
        hashes, keys = (self._hashes, self._keys) if keep is None else (self._hashes[keep], self._keys[keep])
        new_h = [h for h, ks in self._recent.items() for k in ks if k in self._slot]
        new_k = [k for ks in self._recent.values() for k in ks if k in self._slot]
        if new_h:
            order = np.argsort(np.array(new_h, np.uint32), kind="stable")
            nh, nk = np.array(new_h, np.uint32)[order], np.array(new_k, np.int32)[order]
            at = np.searchsorted(hashes, nh)
            hashes, keys = np.insert(hashes, at, nh), np.insert(keys, at, nk)
        self._hashes, self._keys = hashes, keys
        self._recent, self._recent_keys, self._removed = {}, [], 0

    def _candidates(self, hs: np.ndarray) -> set[int]:
        """Stored keys that share a whole band with a signature of band hashes ``hs``."""
        found: set[int] = set()
        for h in hs.tolist():
            found.update(self._recent.get(h, ()))
        lo, hi = np.searchsorted(self._hashes, hs, "left"), np.searchsorted(self._hashes, hs, "right")
        for a, b in zip(lo.tolist(), hi.tolist()):
            if b > a:
                found.update(self._keys[a:b].tolist())
        return {k for k in found if k in self._slot}

    def query(self, sig: np.ndarray) -> list[tuple[int, float]]:
        """Stored keys whose estimated Jaccard with ``sig`` reaches the threshold, best first
        (ties: the lower key)."""
        return self.query_many(np.asarray(sig).reshape(1, -1))[0]

    def query_many(self, sigs: np.ndarray) -> list[list[tuple[int, float]]]:
        """``query`` for several signatures (their band hashes computed at once)."""
        if not len(sigs):
            return []
        return [self._query(sig, hs) for sig, hs in zip(sigs, _low32(band_hashes(sigs, self.bands, self.rows)))]

    def _query(self, sig: np.ndarray, hs: np.ndarray) -> list[tuple[int, float]]:
        keys = sorted(self._candidates(hs))
        if not keys:
            return []
        agree = (self._sigs[[self._slot[k] for k in keys]] == np.asarray(sig, np.uint32)).mean(axis=1)
        hits = [(k, float(a)) for k, a in zip(keys, agree.tolist()) if a >= self.threshold]
        return sorted(hits, key=lambda h: (-h[1], h[0]))
