"""Compact word-frequency tables (text.frequency): wordfreq's answers without wordfreq's
per-language dicts, which a long-running writer would otherwise keep for every language it meets."""
import random

import numpy as np
import wordfreq

from samestory.text import frequency
from samestory.text.frequency import table, zipf

LANGS = ("en", "de", "pl", "ru")
ODD = ["2024", "1.500", "covid19", "mp3", "3rd", "naïve", "straße", "ŁÓDŹ", "İstanbul", "a-b", "", "x" * 30,
       "l'état", "don't", "水"]


def _words(lang: str, rng: random.Random) -> list[str]:
    words = [w for bucket in wordfreq.get_frequency_list(lang) for w in bucket]
    made_up = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzéüß0123456789") for _ in range(rng.randint(1, 12)))
               for _ in range(200)]
    return rng.sample(words, 400) + [w.upper() for w in rng.sample(words, 50)] + \
        [w + "q" for w in rng.sample(words, 100)] + made_up + ODD


def test_answers_what_wordfreq_answers_without_holding_wordfreqs_dicts():
    rng = random.Random(3)
    wordfreq.get_frequency_dict.cache_clear()
    words = {lang: _words(lang, rng) for lang in LANGS}      # reads wordfreq's lists, not its dicts
    ours = {lang: [zipf(w, lang) for w in ws] for lang, ws in words.items()}
    assert wordfreq.get_frequency_dict.cache_info().currsize == 0
    for lang, ws in words.items():
        assert ours[lang] == [wordfreq.zipf_frequency(w, lang) for w in ws], lang
    assert zipf("the", "en") > 7 and zipf("qzxvkw", "en") == 0.0


def test_a_table_takes_ten_bytes_a_word_and_is_read_back_from_the_cache_folder():
    built = table("de")
    assert built.nbytes == 10 * len(built) and len(built) > 500_000
    frequency.table.cache_clear()
    again = table("de")                      # from the .npz the first call kept
    assert again is not built and np.array_equal(again.hashes, built.hashes)
    assert np.array_equal(again.buckets, built.buckets)


def test_a_damaged_table_in_the_cache_folder_is_built_again():
    from samestory.embed.base import cache_dir

    good = table("pl")
    for path in cache_dir().glob("wordfreq-pl-*.npz"):
        path.write_bytes(b"PK\x03\x04 not a zip file")
    frequency.table.cache_clear()
    again = table("pl")
    assert np.array_equal(again.hashes, good.hashes) and zipf("warszawa", "pl") == wordfreq.zipf_frequency("warszawa", "pl")
