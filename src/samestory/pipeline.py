"""The whole journey for a pair: record -> Article -> signals -> PairScore.

``Comparer`` holds the two expensive things (encoder, scorer), loaded once, so a
CLI run, a Python program and the HTTP service all reuse them. ``compare`` is the
one-call convenience for scripts.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from samestory.embed import CachedEncoder, Encoder, load_encoder
from samestory.ingest import CleanSettings, clean_record
from samestory.scoring import PairScorer, build_evidence
from samestory.signals import ArticleSignals, analyse, judgeable, pair_features, replaced
from samestory.signals.alignment import similarity
from samestory.signals.places import gazetteer
from samestory.text import tag_language
from samestory.types import DIMENSIONS, Article, PairScore

ArticleLike = Article | Mapping[str, Any] | str

#: Overall at or below this is "the same story" (between the task's
#: 2 = somewhat similar and 3 = somewhat dissimilar).
SAME_STORY_THRESHOLD = 2.5


def to_article(item: ArticleLike, settings: CleanSettings = CleanSettings()) -> Article:
    """Plain text, a record mapping or an Article, cleaned and language-tagged."""
    if isinstance(item, Article):
        return item if item.lang != "und" else tag_language(item)
    record = {"text": item} if isinstance(item, str) else item
    return tag_language(clean_record(record, settings))


def verdict(overall: float, threshold: float = SAME_STORY_THRESHOLD) -> tuple[bool, float]:
    """Same story or not, and a confidence that grows with the distance from the threshold."""
    confidence = 1.0 / (1.0 + math.exp(-4.0 * abs(threshold - overall)))
    return overall <= threshold, round(confidence, 4)


class Comparer:
    def __init__(self, scorer: PairScorer | None = None, encoder: Encoder | None = None,
                 cache: bool = True, threshold: float = SAME_STORY_THRESHOLD, progress: bool = False):
        self.scorer = scorer or PairScorer.load()
        if encoder is None:
            encoder = load_encoder(self.scorer.encoder_spec)
            if self.scorer.encoder and self.scorer.encoder != encoder.name:
                raise RuntimeError(f"scorer was trained on {self.scorer.encoder}, encoder is {encoder.name}")
        self.encoder = CachedEncoder(encoder, progress=progress) if cache else encoder
        self.threshold = threshold
        gazetteer()     # built once per process (about 1 s), like the models: not on the first pair's time

    def analyse(self, articles: Sequence[Article]) -> list[ArticleSignals]:
        return analyse(articles, self.encoder)

    def score_signals(self, pairs: Sequence[tuple[ArticleSignals, ArticleSignals]]) -> list[PairScore]:
        sims = [similarity(a.vectors.passages, b.vectors.passages) for a, b in pairs]
        rows = [pair_features(a, b, s) for (a, b), s in zip(pairs, sims)]
        names = self.scorer.feature_names
        X = np.array([[r[n] for n in names] for r in rows], dtype=np.float32)
        judge = judgeable(pairs)
        preds = self.scorer.predict(X, judge, replaced(pairs))
        out = []
        for (a, b), sim, pred, ok in zip(pairs, sims, preds, judge):
            dims = {d: round(float(v), 4) for d, v in zip(DIMENSIONS, pred)}
            same, conf = verdict(dims["overall"], self.threshold)
            conf = conf if ok else 0.0
            out.append(PairScore(dimensions=dims, same_story=same, confidence=conf,
                                 evidence=build_evidence(a, b, sim), model=self.scorer.encoder))
        return out

    def compare(self, a: ArticleLike, b: ArticleLike) -> PairScore:
        sa, sb = self.analyse([to_article(a), to_article(b)])
        return self.score_signals([(sa, sb)])[0]


@lru_cache(maxsize=1)
def default_comparer() -> Comparer:
    return Comparer()


def compare(a: ArticleLike, b: ArticleLike) -> PairScore:
    """Compare two articles (text, record mapping or Article) with the shipped model."""
    return default_comparer().compare(a, b)
