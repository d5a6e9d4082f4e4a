"""Fit a ``PairScorer`` on a SemEval-format CSV, cross-validated first.

``train(csv, out, encoder_spec=...)`` computes the pair features with the encoder
``encoder_spec`` names (or an ``Encoder`` given, such as the out-of-fold vectors
of the encoder's fine-tuning), cross-validates with ``GroupKFold`` over connected
components of the article graph (``evaluate.article_groups``: the figures are for
articles the model never saw), fits on every pair and saves the model file with
the cross-validation figures in its ``summary``. ``samestory dev train`` and
``training/finetune.py`` (``make train``, the shipped scorer) call it.

Raises ``InputError`` for a CSV without the gold columns.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from samestory.embed import DEFAULT_SPEC, CachedEncoder, Encoder, EncoderSpec, load_encoder
from samestory.evaluate.semeval import analyse_pairs, article_groups, load_pairs, report
from samestory.scoring import PairScorer
from samestory.signals import feature_matrix, feature_names, judgeable, replaced
from samestory.types import CSV_COLUMNS, DIMENSIONS, InputError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
#: The encoder a scorer is trained on by default: the shipped model without its adapter, which
#: was tuned on SemEval pairs (a scorer fitted on its in-sample vectors would be flattered).
TRAIN_SPEC = DEFAULT_SPEC.untuned()


def training_data(csv_path: str | Path | Sequence[str | Path], encoder_spec: str | EncoderSpec = TRAIN_SPEC, progress: bool = True,
                  encoder: Encoder | None = None,
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                             dict[int, str], str]:
    """Pair features and gold scores; ``encoder`` overrides ``encoder_spec`` (for
    example out-of-fold vectors from a fine-tuned encoder's cross-validation). Returns
    (df, ok, X, judgeable, replaced, Y, groups, errors, encoder name)."""
    df = load_pairs(csv_path)
    missing = [CSV_COLUMNS[d] for d in DIMENSIONS if CSV_COLUMNS[d] not in df.columns]
    if missing:
        raise InputError(f"{csv_path}: training needs the gold columns ({', '.join(missing)} missing)")
    if encoder is None:
        encoder = CachedEncoder(load_encoder(encoder_spec), progress=progress)
    pairs, errors = analyse_pairs(df, encoder, progress=progress)
    ok = np.array([p is not None for p in pairs])
    X = feature_matrix([p for p in pairs if p is not None])
    judge = judgeable([p for p in pairs if p is not None])
    swapped = replaced([p for p in pairs if p is not None])
    Y = df.loc[ok, [CSV_COLUMNS[d] for d in DIMENSIONS]].to_numpy(np.float32)
    groups = article_groups(df["pair_id"])[ok]
    return df, ok, X, judge, swapped, Y, groups, errors, encoder.name


def _paths(csv_path: str | Path | Sequence[str | Path]) -> list[str | Path]:
    return [csv_path] if isinstance(csv_path, str | Path) else list(csv_path)


def folds_of(groups: np.ndarray, folds: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """The cross-validation's folds: (training rows, held-out rows) of ``GroupKFold`` over the
    pairs' article groups. The adapters' out-of-fold vectors (``training/finetune.py``), the
    scorer's cross-validation and the bench's per-fold views all split with it, so a pair is
    held out by the same fold everywhere.

    Args:
        groups: one article-graph component id per pair (``evaluate.semeval.article_groups``).
        folds: how many folds; at most the number of distinct groups.

    Returns:
        ``folds`` (train, test) index arrays; each pair is in exactly one test array.
    """
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(folds).split(np.zeros(len(groups)), groups=groups))


def cross_validate(X: np.ndarray, Y: np.ndarray, groups: np.ndarray, folds: int = 5,
                   params: dict[str, Any] | None = None, judge: np.ndarray | None = None,
                   fit_mask: np.ndarray | None = None, replaced: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold predictions on ``folds_of(groups, folds)`` (``judge``, ``replaced``: see ``PairScorer.fit``
    and ``PairScorer.predict``); with ``fit_mask``, only those rows of a fold's training part are
    fitted on (the folds stay the same)."""
    oof = np.zeros_like(Y)
    for tr, te in folds_of(groups, folds):
        tr = tr if fit_mask is None else tr[fit_mask[tr]]
        model = PairScorer(**(params or {})).fit(X[tr], Y[tr], groups[tr], None if judge is None else judge[tr],
                                                 None if replaced is None else replaced[tr])
        oof[te] = model.predict(X[te], None if judge is None else judge[te], None if replaced is None else replaced[te])
    return oof


def train(csv_path: str | Path | Sequence[str | Path], out: str | Path | None,
          encoder_spec: str | EncoderSpec = TRAIN_SPEC, folds: int = 5, progress: bool = True,
          encoder: Encoder | None = None, encoder_name: str | None = None,
          fit_on: Sequence[str] | None = None, adapters_fitted_on: Sequence[str] | None = None) -> dict[str, Any]:
    """Cross-validate, fit on everything, save. ``encoder`` (with the ``encoder_name``
    the model will check at load time) replaces ``encoder_spec``'s for the features.
    ``fit_on`` (file names) restricts the cross-validation's fitting to those files' pairs,
    with the same folds (an ablation: nothing is saved, whatever ``out``); ``out`` None
    saves nothing either. ``adapters_fitted_on`` (file names) is recorded in the summary:
    the files whose pairs the encoder's adapters learned from."""
    start = time.perf_counter()
    df, ok, X, judge, swapped, Y, groups, errors, encoder_name_ = training_data(csv_path, encoder_spec, progress,
                                                                                encoder)
    encoder_name = encoder_name or encoder_name_
    if progress:
        log.info("cross-validating on %d pairs, %d article groups", len(X), len(set(groups)))
    fit_mask = None if fit_on is None else df.loc[ok, "source"].isin(list(fit_on)).to_numpy()
    oof = cross_validate(X, Y, groups, folds, judge=judge, fit_mask=fit_mask, replaced=swapped)
    predictions = np.full((len(df), len(DIMENSIONS)), np.nan)
    predictions[ok] = oof
    cv = report(df, predictions, time.perf_counter() - start, errors, articles=0)
    summary = {
        "trained_on": " + ".join(Path(p).name for p in _paths(csv_path)), "pairs": len(X), "folds": folds,
        "cv_pearson": cv["pearson"], "cv_by_group": cv["by_group"],
        "cv_by_lang_pair": {k: v["pearson"].get("Overall") for k, v in cv["by_lang_pair"].items()},
        "cv_by_source": {k: v["pearson"].get("Overall") for k, v in cv.get("by_source", {}).items()},
        **({"cv_fitted_on": list(fit_on)} if fit_on is not None else {}),
        **({"adapters_fitted_on": list(adapters_fitted_on)} if adapters_fitted_on is not None else {}),
    }
    save = out is not None and fit_on is None      # an ablation fits nothing beyond its folds
    if save:
        model = PairScorer(feature_names=feature_names(), encoder=encoder_name,
                           encoder_spec=str(EncoderSpec.of(encoder_spec))).fit(X, Y, groups, judge, swapped)
        model.summary = summary
        model.save(cast(str | Path, out))
    return {**summary, "out": str(out) if save else None, "seconds": round(time.perf_counter() - start, 1)}
