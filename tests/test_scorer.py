"""The model files: the scorer's round trip (trees and ridge part come back as they
were fitted; a file from before the ridge part scores with its trees alone), the
shipped scorer and linker read through ``samestory.artifacts`` with the predictions
they gave before, and a damaged or foreign file refused with ``ArtifactError``."""
import gzip
import json
import re
import shutil
from dataclasses import replace
from importlib import resources

import numpy as np
import pytest

from samestory.artifacts import ArtifactError, load_artifact, save_artifact
from samestory.scoring import PairScorer
from samestory.scoring.model import DEFAULT_MODEL as SCORER_FILE
from samestory.stories.link import DEFAULT_MODEL as LINKER_FILE
from samestory.stories.link import FEATURES, StoryLinker
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


def test_pairs_with_a_page_served_instead_of_the_article_get_their_own_prior(fitted, tmp_path):
    scorer, X = fitted
    rng = np.random.default_rng(3)
    Y = rng.uniform(1, 4, (40, len(DIMENSIONS))).astype(np.float32)
    swapped = np.arange(40) < 10
    Y[swapped] = 4.0
    X_fit = rng.normal(size=(40, 6)).astype(np.float32)
    small = PairScorer(n_estimators=10, stack_folds=2, feature_names=scorer.feature_names)
    small.fit(X_fit, Y, judgeable=~swapped, replaced=swapped)
    assert small.prior_replaced_ == pytest.approx([4.0] * len(DIMENSIONS))
    assert small.prior_ == pytest.approx(Y.mean(0), abs=1e-4)
    judge = np.array([True, False, False] + [True] * (len(X) - 3))
    swap = np.array([False, False, True] + [False] * (len(X) - 3))
    out = small.predict(X, judge, swap)
    assert out[1] == pytest.approx(small.prior_, abs=1e-4) and out[2] == pytest.approx(4.0)
    small.save(tmp_path / "s.json.gz")
    assert PairScorer.load(tmp_path / "s.json.gz").prior_replaced_ == small.prior_replaced_
    assert PairScorer(n_estimators=10, stack_folds=2).fit(X_fit, Y).prior_replaced_ == pytest.approx(
        Y.mean(0), abs=1e-4)                                  # none marked: the one prior
    with gzip.open(tmp_path / "s.json.gz", "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    del doc["prior_replaced"]                                 # a file from before it
    with gzip.open(tmp_path / "old.json.gz", "wt", encoding="utf-8") as fh:
        json.dump(doc, fh)
    assert PairScorer.load(tmp_path / "old.json.gz").prior_replaced_ == small.prior_


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


def test_pairs_with_a_side_that_is_not_an_article_count_only_in_the_prior():
    """Two copies of one block notice look identical, and annotators who saw the real pages rated
    them 4 (train_extra.csv has seven such pairs): fitted on, they taught the scorer that identical
    texts differ (an article compared with itself scored 2.37). They count in the prior only."""
    rng = np.random.default_rng(0)
    X = rng.random((300, 4)).astype(np.float32)
    Y = np.tile(1.0 + 3.0 * (1.0 - X[:, :1]), (1, len(DIMENSIONS))).astype(np.float32)  # feature 0: copied
    notices = np.ones((12, 4), np.float32)                         # identical copies...
    X_all, Y_all = np.vstack([X, notices]), np.vstack([Y, np.full((12, len(DIMENSIONS)), 4.0, np.float32)])
    judge = np.arange(len(X_all)) < len(X)                          # ...of pages that are not articles
    small = {"n_estimators": 60, "learning_rate": 0.1, "min_child_samples": 5, "stack_folds": 2}
    left_out = PairScorer(**small).fit(X_all, Y_all, judgeable=judge)
    alone = PairScorer(**small).fit(X, Y)
    copy = np.ones((1, 4), np.float32)
    assert np.allclose(left_out.predict(copy), alone.predict(copy))
    assert left_out.predict(copy)[0, DIMENSIONS.index("overall")] < 1.5
    assert PairScorer(**small).fit(X_all, Y_all).predict(copy)[0, DIMENSIONS.index("overall")] > 2.0
    assert left_out.prior_ == pytest.approx(Y_all.mean(0), abs=1e-4)  # what a pair of notices gets


def _shipped(name):
    return resources.files("samestory.models") / name


def test_shipped_models_load_through_artifacts_and_predict_as_before():
    version, doc = load_artifact(_shipped(SCORER_FILE), "scorer", versions=(1, 2))
    assert version == 2 and doc["encoder_spec"] == "onnx-e5-int8+e5-lora-semeval"
    # the shipped linker predates format names: the legacy hook reads it as format 1
    with pytest.raises(ArtifactError, match="no format field"):
        load_artifact(_shipped(LINKER_FILE), "linker", versions=(1,))
    rng = np.random.default_rng(0)
    X_link = rng.random((200, len(FEATURES)))
    scorer = PairScorer.load()
    X_score = rng.random((50, len(scorer.feature_names))).astype(np.float32)
    # predictions of the shipped files when they were written (the linker by the release before
    # samestory.artifacts, the scorer in the eighteenth session, with the headline features)
    link = StoryLinker.load().predict_proba(X_link)
    assert np.allclose(link[:3], [0.37552160, 0.79893619, 0.75190783], atol=1e-5)
    assert link.mean() == pytest.approx(0.68500586, abs=1e-5)
    scores = scorer.predict(X_score)
    assert np.allclose(scores[0], [4.0, 4.0, 2.5356436, 4.0, 4.0, 2.379849, 2.9983082], atol=1e-4)
    assert np.allclose(scores.mean(0), [3.4260223, 3.6238363, 2.467635, 3.6659448, 3.496578, 2.0102143, 2.678289],
                       atol=1e-4)


def test_a_saved_linker_carries_its_format_and_predicts_as_fitted(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.random((400, len(FEATURES)))
    y = X[:, 0] + 0.3 * rng.random(400) > 0.8
    linker = StoryLinker(n_estimators=20).fit(X, y)
    linker.save(tmp_path / "l.json.gz")
    assert load_artifact(tmp_path / "l.json.gz", "linker", versions=(1,))[0] == 1
    assert np.allclose(StoryLinker.load(tmp_path / "l.json.gz").predict_proba(X), linker.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not gzip", "not json", "a list"])
def test_a_damaged_model_file_raises_artifact_error(tmp_path, damage):
    path = tmp_path / "s.json.gz"
    shutil.copyfile(str(_shipped(SCORER_FILE)), path)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        path.write_bytes(data[:4000] + bytes([data[4000] ^ 0xFF]) + data[4001:])
    elif damage == "not gzip":
        path.write_bytes(b"{}")
    elif damage == "not json":
        path.write_bytes(gzip.compress(b"{not json"))
    else:
        path.write_bytes(gzip.compress(b"[1, 2]"))
    for load in (PairScorer.load, StoryLinker.load):
        with pytest.raises(ArtifactError, match=re.escape(str(path))):
            load(path)


def test_a_file_of_another_kind_version_or_feature_set_raises_artifact_error(tmp_path):
    scorer_file = tmp_path / "scorer.json.gz"
    shutil.copyfile(str(_shipped(SCORER_FILE)), scorer_file)
    with pytest.raises(ArtifactError, match=r"not a samestory linker file \(format 'samestory-scorer/2'\)"):
        StoryLinker.load(scorer_file)
    _, doc = load_artifact(_shipped(LINKER_FILE), "linker", versions=(1,), legacy=lambda d: 1)
    save_artifact(tmp_path / "future.json.gz", "linker", doc, version=7)
    with pytest.raises(ArtifactError, match="format version 7; this release reads 1"):
        StoryLinker.load(tmp_path / "future.json.gz")
    save_artifact(tmp_path / "other.json.gz", "linker", {**doc, "features": ["cos"]}, version=1)
    with pytest.raises(ArtifactError, match="do not match"):
        StoryLinker.load(tmp_path / "other.json.gz")
    save_artifact(tmp_path / "bare.json.gz", "scorer", {"params": {}}, version=2)
    with pytest.raises(ArtifactError, match="without feature_names, encoder, boosters"):
        PairScorer.load(tmp_path / "bare.json.gz")
    with pytest.raises(FileNotFoundError):
        PairScorer.load(tmp_path / "absent.json.gz")
