"""The linker's fingerprints of the articles in the writer's memory, packed.

A ``Fingerprint`` as Python objects (frozensets of names and numbers, a dictionary of
keyword weights) takes about 2 KB; packed, a headline's takes about 0.1 KB. ``PackedPrints``
keeps the packed forms one after another in a single buffer, with each one's offset in a
``RowMap`` (no Python object per article: small long-lived objects would pin the
allocator's pages), and decodes on demand, with the most recently used decoded ones at
hand (linking reads the same recent articles again and again). The space of removed ones
is reclaimed by copying the buffer once they make up half of it.
The signature is not packed: the ``DuplicateIndex`` holds it once, and ``get`` takes it.
"""
from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from samestory.index.rowmap import RowMap
from samestory.stories.link import Fingerprint

_HEAD = struct.Struct("<ddIBHHHH")     # ts, density, tokens, dated, language, names, keywords, numbers


class PackedPrints:
    """rowid -> packed fingerprint.

    Args:
        cache: how many decoded fingerprints to keep at hand.
    """

    def __init__(self, cache: int = 8192):
        self._where = RowMap()                  # rowid -> offset of its packed form in _buf
        self._buf = bytearray()
        self._garbage = 0                       # bytes of _buf that no rowid points at
        self._langs: list[str] = []
        self._lang_id: dict[str, int] = {}
        self._cache: OrderedDict[int, Fingerprint] = OrderedDict()
        self._cache_size = cache

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, rowid: object) -> bool:
        return rowid in self._where

    def __iter__(self) -> Iterator[int]:
        return iter(self._where)

    @property
    def nbytes(self) -> int:
        return len(self._buf) + self._where.nbytes

    def add(self, rowid: int, fp: Fingerprint) -> None:
        lang = self._lang_id.get(fp.lang)
        if lang is None:
            lang = self._lang_id[fp.lang] = len(self._langs)
            self._langs.append(fp.lang)
        kw = np.fromiter(fp.keywords.keys(), np.uint32, len(fp.keywords))
        weights = np.fromiter(fp.keywords.values(), np.float32, len(fp.keywords))
        names = np.fromiter(sorted(fp.names), np.uint32, len(fp.names))
        numbers = np.fromiter(sorted(fp.numbers), np.uint32, len(fp.numbers))
        self.remove(rowid)
        self._where[rowid] = len(self._buf)
        self._buf += _HEAD.pack(fp.ts, fp.density, fp.tokens, fp.dated, lang, len(names), len(kw), len(numbers))
        self._buf += names.tobytes() + kw.tobytes() + weights.tobytes() + numbers.tobytes()

    def _size(self, at: int) -> int:
        n_names, n_kw, n_num = _HEAD.unpack_from(self._buf, at)[5:]
        return int(_HEAD.size + 4 * n_names + 8 * n_kw + 4 * n_num)

    def remove(self, rowid: int) -> None:
        at = self._where.pop(rowid)
        self._cache.pop(rowid, None)
        if at is None:
            return
        self._garbage += self._size(at)
        if self._garbage > max(len(self._buf) // 2, 1 << 20):
            self._compact()

    def _compact(self) -> None:
        buf = bytearray()
        for rowid, at in list(self._where.items()):
            self._where[rowid] = len(buf)
            buf += self._buf[at:at + self._size(at)]
        self._buf, self._garbage = buf, 0

    def _head(self, rowid: int) -> tuple[Any, ...]:
        at = self._where.get(rowid)
        if at is None:
            raise KeyError(rowid)
        return _HEAD.unpack_from(self._buf, at)

    def lang(self, rowid: int) -> str:
        return self._langs[int(self._head(rowid)[4])]

    def ts(self, rowid: int) -> float:
        return float(self._head(rowid)[0])

    def get(self, rowid: int, signature: np.ndarray) -> Fingerprint:
        """The fingerprint of ``rowid`` with ``signature``. Raises KeyError for an absent rowid."""
        fp = self._cache.get(rowid)
        if fp is not None:
            self._cache.move_to_end(rowid)
            return fp
        at = self._where.get(rowid)
        if at is None:
            raise KeyError(rowid)
        blob = bytes(self._buf[at:at + self._size(at)])
        ts, density, tokens, dated, lang, n_names, n_kw, n_num = _HEAD.unpack_from(blob)
        at = _HEAD.size
        names = np.frombuffer(blob, np.uint32, n_names, at)
        at += 4 * n_names
        kw = np.frombuffer(blob, np.uint32, n_kw, at)
        weights = np.frombuffer(blob, np.float32, n_kw, at + 4 * n_kw)
        numbers = np.frombuffer(blob, np.uint32, n_num, at + 8 * n_kw)
        fp = Fingerprint(signature, frozenset(names.tolist()), dict(zip(kw.tolist(), weights.tolist())),
                         frozenset(numbers.tolist()), tokens, self._langs[lang], ts, bool(dated), density)
        self._cache[rowid] = fp
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return fp
