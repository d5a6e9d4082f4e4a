"""Training on several rated files (issue 32): the pairs keep their file (``source``), the
cross-validation reports each file's pairs alone, and an ablation fits on one file's pairs
with the same folds."""
import numpy as np
import pandas as pd
import pytest

from samestory.evaluate.semeval import load_pairs, report
from samestory.training.scorer import cross_validate, folds_of
from samestory.types import DIMENSIONS, InputError


def _small(shared, name, n):
    return pd.read_csv(shared / "semeval22" / name).head(n)


def test_pairs_from_several_files_keep_their_file(tmp_path, shared):
    a, b = tmp_path / "dev.csv", tmp_path / "extra.csv"
    _small(shared, "dev.csv", 5).to_csv(a, index=False)
    _small(shared, "train_extra.csv", 3).to_csv(b, index=False)
    df = load_pairs([a, b])
    assert len(df) == 8 and df["source"].tolist() == ["dev.csv"] * 5 + ["extra.csv"] * 3
    assert load_pairs(a)["source"].eq("dev.csv").all()
    with pytest.raises(InputError, match="missing.csv: no such file"):
        load_pairs([a, tmp_path / "missing.csv"])


def test_the_report_has_each_files_pairs_alone(tmp_path, shared):
    a, b = tmp_path / "dev.csv", tmp_path / "extra.csv"
    _small(shared, "dev.csv", 12).to_csv(a, index=False)
    _small(shared, "train_extra.csv", 12).to_csv(b, index=False)
    df = load_pairs([a, b])
    rng = np.random.default_rng(0)
    pred = np.tile(df["Overall"].to_numpy(float)[:, None], (1, len(DIMENSIONS))) + rng.normal(0, 0.3, (24, 7))
    pred[12:, DIMENSIONS.index("overall")] = rng.uniform(1, 4, 12)    # the second file's predictions: noise
    out = report(df, pred, 1.0, {}, 0)
    assert set(out["by_source"]) == {"dev.csv", "extra.csv"}
    assert out["by_source"]["dev.csv"]["pairs"] == 12
    assert out["by_source"]["dev.csv"]["pearson"]["Overall"] > 0.8 > out["by_source"]["extra.csv"]["pearson"]["Overall"]
    assert "by_source" not in report(load_pairs(a), pred[:12], 1.0, {}, 0)


def test_an_ablation_never_fits_on_the_rows_it_leaves_out():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 6)).astype(np.float32)
    Y = np.clip(2.5 + X[:, :1] + 0.1 * rng.normal(size=(240, 7)), 1, 4).astype(np.float32)
    groups = np.arange(240) // 2
    keep = np.arange(240) < 160
    wild = Y.copy()
    wild[~keep] = rng.uniform(1, 4, size=(80, 7))             # change only the left-out rows' gold
    small = {"n_estimators": 20, "stack_folds": 2}            # a small scorer: the point is which rows it sees
    a = cross_validate(X, Y, groups, folds=3, params=small, fit_mask=keep)
    b = cross_validate(X, wild, groups, folds=3, params=small, fit_mask=keep)
    assert np.allclose(a, b)                                  # they never reached a fit
    assert not np.allclose(cross_validate(X, Y, groups, folds=3, params=small),
                           cross_validate(X, wild, groups, folds=3, params=small))


def test_every_pair_is_held_out_once_and_no_article_group_is_split():
    """The adapters' out-of-fold vectors and the scorer's folds come from ``folds_of``: a group
    split across folds would let an encoder see a held-out article."""
    groups = np.repeat(np.arange(40), np.arange(40) % 4 + 1)         # groups of 1 to 4 pairs
    folds = folds_of(groups, 5)
    held = np.concatenate([te for _, te in folds])
    assert len(folds) == 5 and sorted(held) == list(range(len(groups)))
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])
        assert len(tr) + len(te) == len(groups)
    assert [te.tolist() for _, te in folds_of(groups, 5)] == [te.tolist() for _, te in folds]


def test_the_random_pair_cosine_sees_a_space_move_and_never_pairs_a_row_with_itself():
    """Each fold's adapters can put unrelated articles at another cosine while ranking pairs as
    well (training/LOG.md, sixteenth session); the measure finetune.py reports for each fold."""
    from samestory.training.scale import random_pair_cosine

    rng = np.random.default_rng(0)
    v = rng.normal(size=(300, 16))
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    moved = v + 1.5                                             # a shared direction: every cosine goes up
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    mean, sd = random_pair_cosine(unit)
    assert abs(mean) < 0.05 and sd > 0.1
    assert random_pair_cosine(moved)[0] > mean + 0.5
    assert random_pair_cosine(unit) == (mean, sd)                 # the same vectors, the same figures
    two = unit[:2]
    assert random_pair_cosine(two) == pytest.approx((float(two[0] @ two[1]), 0.0), abs=1e-6)
    with pytest.raises(ValueError, match="at least two"):
        random_pair_cosine(unit[:1])


def test_the_shipped_scorer_learned_from_both_files_on_adapters_of_dev_pairs():
    """The shipped recipe: the new pairs train the scorer; the adapters stay fitted on dev.csv's
    pairs (adapters fitted on both files put each fold's cosines on another scale)."""
    from samestory.scoring import PairScorer

    summary = PairScorer.load().summary
    assert summary["trained_on"] == "dev.csv + train_extra.csv"
    assert summary["adapters_fitted_on"] == ["dev.csv"]
    assert set(summary["cv_by_source"]) == {"dev.csv", "train_extra.csv"}


def test_precomputed_vectors_answer_known_texts_and_name_a_stale_table(tmp_path):
    """Out-of-fold vectors are keyed by passage text: a text that cleaning has since changed has
    none, and the error says so rather than a bare KeyError (never a guessed vector)."""
    from samestory.embed.backends import PrecomputedEncoder

    path = tmp_path / "oof.npz"
    np.savez(path, texts=np.array(["a passage", "another passage"]),
             vectors=np.array([[1, 0], [0, 1]], np.float16))
    enc = PrecomputedEncoder(path)
    assert enc.encode(["another passage", "a passage"]).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(KeyError, match="made before this text.*rebuild"):
        enc.encode(["a passage", "a passage cleaned anew"])
