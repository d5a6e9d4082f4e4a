"""Word frequencies from wordfreq's tables, held compactly for a process that runs for months.

``wordfreq.zipf_frequency`` keeps every language it has been asked about as a Python dict of
all its words, for the life of the process: 15 to 60 MB a language. A writer that follows
news meets a new language every few days (a short headline is easily taken for Estonian or
Danish), so its memory grows step by step, and one that reads forty languages holds over
a gigabyte of word lists. Here each language is two NumPy arrays instead: the sorted 64-bit
hashes of its words and each word's frequency bucket (wordfreq stores frequencies in
centibels), 10 bytes a word, built once from wordfreq's file and kept in the cache folder.

``zipf`` answers what ``wordfreq.zipf_frequency(word, lang)`` answers: the same tokenizer,
the same treatment of digits, the same combination of several tokens and the same rounding,
with the dict lookup replaced by the table's (a 64-bit hash collision apart: about one chance
in 10^13 per lookup). Languages whose tokenizer is not wordfreq's regex tokenizer (Chinese,
Japanese, Korean) are answered by wordfreq itself.
"""
from __future__ import annotations

import hashlib
import logging
import math
import zipfile
from functools import cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1        # of the cached tables: change it when their layout or hashing changes
_MIN_FREQ = 1e-9  # Zipf 0, what zipf_frequency's default minimum stands for


def _hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


class FrequencyTable:
    """One language's wordfreq list as sorted word hashes and their centibel buckets.

    Args:
        hashes: sorted int64 hashes of the words (``_hash``).
        buckets: for each hash, the word's bucket: its frequency is ``10 ** (-bucket / 100)``.
    """

    def __init__(self, hashes: np.ndarray, buckets: np.ndarray):
        self.hashes = np.ascontiguousarray(hashes, np.int64)
        self.buckets = np.ascontiguousarray(buckets, np.uint16)

    @classmethod
    def from_buckets(cls, buckets: list[list[str]]) -> FrequencyTable:
        """From wordfreq's list of buckets (``read_cBpack``: bucket ``i`` holds the words of frequency -i cB)."""
        hashes = np.fromiter((_hash(w) for bucket in buckets for w in bucket), np.int64)
        ranks = np.repeat(np.arange(len(buckets), dtype=np.uint16), [len(b) for b in buckets])
        order = np.argsort(hashes, kind="stable")
        hashes, ranks = hashes[order], ranks[order]
        last = np.ones(len(hashes), bool)           # a word listed twice keeps its last bucket, as wordfreq's
        last[:-1] = hashes[1:] != hashes[:-1]       # dict does (the sort is stable)
        return cls(hashes[last], ranks[last])

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def nbytes(self) -> int:
        return int(self.hashes.nbytes + self.buckets.nbytes)

    def freq(self, token: str) -> float | None:
        """The token's frequency (a probability), or None when the list lacks it."""
        h = _hash(token)
        i = int(np.searchsorted(self.hashes, h))
        if i < len(self.hashes) and int(self.hashes[i]) == h:
            return float(10 ** (-int(self.buckets[i]) / 100))
        return None


@cache
def _regex_languages() -> frozenset[str]:
    from wordfreq import available_languages
    from wordfreq.language_info import get_language_info

    return frozenset(lang for lang in available_languages() if get_language_info(lang)["tokenizer"] == "regex")


@cache           # one small table per language met (tens of them at most)
def table(lang: str) -> FrequencyTable:
    """``lang``'s table: from the cache folder, or built from wordfreq's file and kept there.

    Raises:
        KeyError: wordfreq has no list for ``lang``.
    """
    from importlib import metadata

    from wordfreq import available_languages, read_cBpack

    from samestory.embed.base import cache_dir, save_derived

    source = available_languages("best")[lang]
    path = cache_dir() / f"wordfreq-{lang}-{metadata.version('wordfreq')}-f{FORMAT}.npz"
    try:
        with np.load(path) as doc:
            return FrequencyTable(doc["hashes"], doc["buckets"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):   # absent or damaged: build again
        pass
    built = FrequencyTable.from_buckets(read_cBpack(source))
    save_derived(path, lambda tmp: _save(tmp, built), cost=f"wordfreq's {lang} list is read on every start")
    log.debug("word frequencies for %s: %d words in %.1f MB", lang, len(built), built.nbytes / 2**20)
    return built


def _save(path: Path, t: FrequencyTable) -> None:
    with path.open("wb") as f:
        np.savez(f, hashes=t.hashes, buckets=t.buckets)


def zipf(word: str, lang: str) -> float:
    """``wordfreq.zipf_frequency(word, lang)``, from the compact tables (``lang``: a language
    wordfreq has a list for)."""
    if lang not in _regex_languages():
        from wordfreq import zipf_frequency

        return float(zipf_frequency(word, lang))
    from wordfreq.numbers import digit_freq, smash_numbers
    from wordfreq.tokens import lossy_tokenize

    tokens = lossy_tokenize(word, lang)
    freq = _MIN_FREQ
    if tokens:
        freqs = table(lang)
        one_over = 0.0
        for token in tokens:
            smashed = smash_numbers(token)
            f = freqs.freq(smashed)
            if f is None:           # any token missing: the minimum, as wordfreq answers
                one_over = 0.0
                break
            if smashed != token:
                f *= digit_freq(token)
            one_over += 1.0 / f
        if one_over:
            freq = max(1.0 / one_over, _MIN_FREQ)
            # 3 significant digits; math.log(x, 10) as wordfreq computes it (log10 can differ in the last bit)
            freq = round(freq, math.floor(-math.log(freq, 10)) + 3)  # noqa: FURB163
    return round(math.log(freq, 10) + 9, 2)  # noqa: FURB163
