"""The linker's fingerprints of the articles in the writer's memory, packed.

A ``Fingerprint`` as Python objects (frozensets of names and numbers, a dictionary of
keyword weights) takes about 2 KB; packed into one ``bytes`` value it takes about 0.2 KB.
``PackedPrints`` keeps the packed form and decodes on demand, with the most recently
used decoded ones at hand (linking reads the same recent articles again and again).
The signature is not packed: the ``DuplicateIndex`` holds it once, and ``get`` takes it.
"""
from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from samestory.stories.link import Fingerprint

_HEAD = struct.Struct("<ddIBHHHH")     # ts, density, tokens, dated, language, names, keywords, numbers


class PackedPrints:
    """rowid -> packed fingerprint.

    Args:
        cache: how many decoded fingerprints to keep at hand.
    """

    def __init__(self, cache: int = 8192):
        self._packed: dict[int, bytes] = {}
        self._langs: list[str] = []
        self._lang_id: dict[str, int] = {}
        self._cache: OrderedDict[int, Fingerprint] = OrderedDict()
        self._cache_size = cache

    def __len__(self) -> int:
        return len(self._packed)

    def __contains__(self, rowid: object) -> bool:
        return rowid in self._packed

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._packed))

    def add(self, rowid: int, fp: Fingerprint) -> None:
        lang = self._lang_id.get(fp.lang)
        if lang is None:
            lang = self._lang_id[fp.lang] = len(self._langs)
            self._langs.append(fp.lang)
        kw = np.fromiter(fp.keywords.keys(), np.uint32, len(fp.keywords))
        weights = np.fromiter(fp.keywords.values(), np.float32, len(fp.keywords))
        names = np.fromiter(sorted(fp.names), np.uint32, len(fp.names))
        numbers = np.fromiter(sorted(fp.numbers), np.uint32, len(fp.numbers))
        self._packed[rowid] = (_HEAD.pack(fp.ts, fp.density, fp.tokens, fp.dated, lang, len(names), len(kw),
                                          len(numbers)) + names.tobytes() + kw.tobytes() + weights.tobytes()
                               + numbers.tobytes())
        self._cache.pop(rowid, None)

    def remove(self, rowid: int) -> None:
        self._packed.pop(rowid, None)
        self._cache.pop(rowid, None)

    def lang(self, rowid: int) -> str:
        return self._langs[int(_HEAD.unpack_from(self._packed[rowid])[4])]

    def ts(self, rowid: int) -> float:
        return float(_HEAD.unpack_from(self._packed[rowid])[0])

    def get(self, rowid: int, signature: np.ndarray) -> Fingerprint:
        """The fingerprint of ``rowid`` with ``signature``. Raises KeyError for an absent rowid."""
        fp = self._cache.get(rowid)
        if fp is not None:
            self._cache.move_to_end(rowid)
            return fp
        blob = self._packed[rowid]
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
