"""A map from store rowids to integers, held in one NumPy array instead of Python objects.

The writer's in-memory structures are keyed by rowid: which story an article is in, where
its signature or its packed fingerprint sits. As dictionaries they cost about 100 bytes an
entry, and their small objects, interleaved with a batch's temporary ones, keep the
allocator's pages from ever being given back. The hot set's rowids are nearly contiguous
(they only grow, and articles leave roughly in the order they came), so a ``RowMap``
holds one int64 per rowid from the oldest it holds to the newest: 8 bytes an entry,
plus the gaps left by the articles that left, which it drops from the front as the window
moves on. Rowids far older than the rest (an undated article kept hot for months) go to
a small dictionary instead, so that one of them never stretches the array.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np

_MISSING = np.iinfo(np.int64).min


class RowMap:
    """rowid -> int, for non-negative rowids. ``dict``'s methods that the writer uses."""

    def __init__(self, items: Mapping[int, int] | None = None):
        self._base = 0                                   # the rowid of _vals[0]
        self._vals = np.full(0, _MISSING, np.int64)
        self._n = 0
        self._far: dict[int, int] = {}                    # keys below _base (see _make_room)
        if items:
            self.update(items)

    def __len__(self) -> int:
        return self._n

    def _at(self, key: object) -> int:
        """The array index of ``key``, or -1 when it is outside the array."""
        if not isinstance(key, int | np.integer):
            return -1
        i = int(key) - self._base
        return i if 0 <= i < len(self._vals) else -1

    def __contains__(self, key: object) -> bool:
        i = self._at(key)
        return self._vals[i] != _MISSING if i >= 0 else key in self._far

    def get(self, key: int, default: int | None = None) -> int | None:
        i = self._at(key)
        if i < 0:
            return self._far.get(int(key), default) if isinstance(key, int | np.integer) else default
        v = self._vals[i]
        return default if v == _MISSING else int(v)

    def __getitem__(self, key: int) -> int:
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __setitem__(self, key: int, value: int) -> None:
        key, value = int(key), int(value)
        if key in self._far:
            self._far[key] = value
            return
        i = self._at(key)
        if i < 0:
            i = self._make_room(key)
            if i < 0:
                self._far[key] = value
                self._n += 1
                return
        if self._vals[i] == _MISSING:
            self._n += 1
        self._vals[i] = value

    def _make_room(self, key: int) -> int:
        """Reallocate so that ``key`` fits, dropping the gap the oldest rowids left at the front
        and moving any rowid far older than the rest to ``_far``; returns ``key``'s index, or
        -1 when it belongs in ``_far`` itself."""
        if key < 0:
            raise KeyError(key)
        present = np.flatnonzero(self._vals != _MISSING)
        if not len(present):
            self._base, self._vals = key, np.full(1024, _MISSING, np.int64)
            return 0
        first, last = self._base + int(present[0]), self._base + int(present[-1])
        hi = max(key, last) + 1
        lo = max(min(key, first), hi - 2 * (len(present) + 1) - 65536)    # dense enough
        for i in present[present + self._base < lo].tolist():
            self._far[i + self._base] = int(self._vals[i])
        first = max(first, lo)
        spare = (hi - lo) // 4 + 1024          # room at the end, where the newest rowids arrive
        vals = np.full(hi - lo + spare, _MISSING, np.int64)
        if first <= last:
            vals[first - lo:last + 1 - lo] = self._vals[first - self._base:last + 1 - self._base]
        self._base, self._vals = lo, vals
        return key - lo if key >= lo else -1

    def pop(self, key: int, default: int | None = None) -> int | None:
        i = self._at(key)
        if i < 0 or self._vals[i] == _MISSING:
            if i < 0 and isinstance(key, int | np.integer) and int(key) in self._far:
                self._n -= 1
                return self._far.pop(int(key))
            return default
        v = int(self._vals[i])
        self._vals[i] = _MISSING
        self._n -= 1
        return v

    def update(self, items: Mapping[int, int] | Iterable[tuple[int, int]]) -> None:
        for key, value in (items.items() if isinstance(items, Mapping) else items):
            self[key] = value

    def keys_array(self) -> np.ndarray:
        """The keys, ascending."""
        far = np.fromiter(sorted(self._far), np.int64, len(self._far))
        keys: np.ndarray = np.concatenate([far, np.flatnonzero(self._vals != _MISSING) + self._base])
        return keys

    def values_array(self) -> np.ndarray:
        """The values, in the order of ``keys_array``."""
        far = np.fromiter((self._far[k] for k in sorted(self._far)), np.int64, len(self._far))
        values: np.ndarray = np.concatenate([far, self._vals[self._vals != _MISSING]])
        return values

    def __iter__(self) -> Iterator[int]:
        return iter(self.keys_array().tolist())

    def items(self) -> Iterator[tuple[int, int]]:
        return zip(self.keys_array().tolist(), self.values_array().tolist(), strict=True)

    @property
    def nbytes(self) -> int:
        return int(self._vals.nbytes)
