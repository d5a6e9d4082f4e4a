"""Train the ``StoryLinker`` on labelled story files, as the corpus meets them.

Each file is read as ``samestory eval stories`` reads it (same cleaning, same
encoder and opening text, arrival order). Every article's candidates are its
``k`` nearest *earlier* articles (exact search here; the corpus uses HNSW), with
the features the corpus computes, labelled by whether the two share a gold
story. The files are weighted equally, so that 3,000 headlines do not drown
1,500 full articles: one model has to serve every kind of input at once.

Cross-validation splits each file by gold story: the model for a fold never
saw a pair from that fold's stories, and the fold is clustered by the real
``Corpus`` (``bench/stories_bench.py``).
"""
from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from samestory.corpus.prepare import prepare
from samestory.embed import Encoder
from samestory.evaluate.stories import LabelledFile, labelled_records
from samestory.index.minhash import signatures
from samestory.ingest import CleanSettings
from samestory.stories.link import FEATURES, Fingerprint, StoryLinker, candidate_features, fingerprint
from samestory.text import opening

log = logging.getLogger(__name__)


def dev_files(data: Path) -> dict[str, LabelledFile]:
    """The three development settings in ``../shared/data`` (see its README)."""
    return {
        "multilingual": LabelledFile(str(data / "multilingual_stories/dev.csv"), "text", "story", lang_col="lang"),
        "stream": LabelledFile(str(data / "uci_stories/dev_stream.csv"), "TITLE", "STORY", time_col="TIMESTAMP"),
        "text only": LabelledFile(str(data / "uci_stories/dev.csv"), "TITLE", "STORY"),
    }


@dataclass
class LinkExamples:
    """One file's articles, ready to draw candidate pairs from."""

    lines: list[int]
    labels: list[str]
    vectors: np.ndarray
    texts: list[str]
    langs: list[str]
    ts: np.ndarray
    dated: list[bool]
    signatures: list[np.ndarray]


def read_examples(spec: LabelledFile, encoder: Encoder, clean: CleanSettings = CleanSettings(min_chars=3)
                  ) -> LinkExamples:
    items, labels = labelled_records(spec)
    prepared = [p for p in (prepare(item, clean) for item in items) if p.article is not None]
    seen: set[str] = set()
    unique = []
    for p in prepared:            # the corpus stores an article once
        if p.id not in seen:
            seen.add(p.id)
            unique.append(p)
    articles = [p.article for p in unique if p.article is not None]
    return LinkExamples(
        lines=[p.item.line for p in unique], labels=[labels[p.item.line] for p in unique],
        vectors=np.asarray(encoder.encode([opening(a) for a in articles]), np.float32),
        texts=[a.full_text for a in articles], langs=[a.lang for a in articles],
        ts=np.array([p.ts for p in unique]), dated=[p.dated for p in unique],
        signatures=signatures([a.full_text for a in articles]))


def candidate_pairs(ex: LinkExamples, keep: Collection[int] | None = None, k: int = 30
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of each article's ``k`` nearest earlier articles;
    ``keep`` limits both sides to those rows (a cross-validation fold)."""
    rows = [i for i in range(len(ex.lines)) if keep is None or ex.lines[i] in keep]
    rows.sort(key=lambda i: ex.ts[i])
    X: list[np.ndarray] = []
    y: list[bool] = []
    prints: dict[int, Fingerprint] = {}
    for pos, i in enumerate(rows):
        earlier = rows[:pos]
        sims = ex.vectors[earlier] @ ex.vectors[i] if earlier else np.zeros(0)
        top = np.argsort(-sims, kind="stable")[:k]
        prints[i] = fingerprint(ex.texts[i], ex.langs[i], ex.signatures[i], float(ex.ts[i]), ex.dated[i],
                                sims[top])
        X.append(candidate_features(prints[i], [prints[earlier[t]] for t in top], sims[top]))
        y.extend(ex.labels[i] == ex.labels[earlier[t]] for t in top)
    return np.vstack(X) if X else np.zeros((0, len(FEATURES))), np.array(y, bool)


def fit_linker(sets: Sequence[tuple[np.ndarray, np.ndarray]], **params: Any) -> StoryLinker:
    """One model over several files' pairs, each file weighing the same."""
    X = np.vstack([x for x, _ in sets])
    y = np.concatenate([t for _, t in sets])
    weight = np.concatenate([np.full(len(t), len(y) / (len(sets) * max(len(t), 1))) for _, t in sets])
    log.info("fitting the story linker on %d pairs (%d same-story)", len(y), int(y.sum()))
    return StoryLinker(**params).fit(X, y, sample_weight=weight)


def story_folds(ex: LinkExamples, folds: int, seed: int = 0) -> list[set[int]]:
    """The file's lines split into ``folds`` groups by gold story."""
    stories = sorted(set(ex.labels))
    np.random.default_rng(seed).shuffle(stories)
    fold_of = {s: n % folds for n, s in enumerate(stories)}
    return [{line for line, label in zip(ex.lines, ex.labels) if fold_of[label] == f} for f in range(folds)]


def fold_linkers(examples: dict[str, LinkExamples], folds: int, seed: int = 0
                 ) -> tuple[dict[str, list[set[int]]], list[StoryLinker]]:
    """Each file's story folds (drawn with ``seed``), and per fold a linker fitted on every file's other folds."""
    split = {name: story_folds(ex, folds, seed) for name, ex in examples.items()}
    models = []
    for f in range(folds):
        rest = {name: set(ex.lines) - split[name][f] for name, ex in examples.items()}
        models.append(fit_linker([candidate_pairs(ex, keep=rest[name]) for name, ex in examples.items()]))
    return split, models
