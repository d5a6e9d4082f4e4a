"""The scorer's file round trip: trees and ridge part come back as they were fitted,
and a file from before the ridge part still loads and scores with its trees alone."""
import gzip
import json
from dataclasses import replace

import numpy as np
import pytest

from samestory.scoring import PairScorer
from samestory.types import DIMENSIONS


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 6)).astype(np.float32)
    signal = X[:, 0] - 0.5 * X[:, 1] + 0.3 * np.sin(3 * X[:, 2])
    Y = np.clip(2.5 + signal[:, None] * rng.uniform(0.3, 0.8, len(DIMENSIONS)) + rng.normal(0, 0.2, (240, 7)), 1, 4)
    scorer = PairScorer(n_estimators=60, learning_rate=0.1, feature_names=[f"f{i}" for i in range(6)])
    return scorer.fit(X[:200], Y[:200], groups=np.arange(200) // 4), X[200:]


def test_a_saved_scorer_predicts_as_it_did_when_fitted(fitted, tmp_path):
    scorer, X = fitted
    scorer.save(tmp_path / "s.json.gz")
    loaded = PairScorer.load(tmp_path / "s.json.gz")
    assert loaded.linear_weight == pytest.approx(0.3)
    assert np.allclose(loaded.predict(X), scorer.predict(X), atol=1e-4)
    trees_only = replace(scorer, linear_weight=0.0).predict(X)
    assert not np.allclose(scorer.predict(X), trees_only, atol=1e-3)   # the ridge part does count


def test_a_file_from_before_the_ridge_part_scores_with_its_trees(fitted, tmp_path):
    scorer, X = fitted
    scorer.save(tmp_path / "s.json.gz")
    with gzip.open(tmp_path / "s.json.gz", "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    doc["format"] = "samestory-scorer/1"
    del doc["linear"], doc["params"]["linear_weight"]
    with gzip.open(tmp_path / "old.json.gz", "wt", encoding="utf-8") as fh:
        json.dump(doc, fh)
    old = PairScorer.load(tmp_path / "old.json.gz")
    assert np.allclose(old.predict(X), replace(scorer, linear_weight=0.0).predict(X), atol=1e-4)
