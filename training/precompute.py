"""Warm the vector cache for a SemEval-format CSV (so training and eval re-runs are fast).

    python training/precompute.py PATH.csv [ENCODER_SPEC]     # default: the shipped encoder
"""
import sys

from samestory.embed import CachedEncoder, load_encoder
from samestory.evaluate.semeval import load_pairs, pair_articles
from samestory.scoring import PairScorer
from samestory.signals.vectors import embed_units
from samestory.text import text_units

articles, _, _ = pair_articles(load_pairs(sys.argv[1]))
spec = sys.argv[2] if len(sys.argv) > 2 else PairScorer.load().encoder_spec
embed_units([text_units(a) for a in articles], CachedEncoder(load_encoder(spec), progress=True))
