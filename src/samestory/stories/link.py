"""Same story or not, for one article and one of its candidate neighbours.

``StoryLinker`` is a small LightGBM classifier over cheap pair features that the
corpus keeps for every article, so it can judge every ANN candidate without the
pair scorer's full analysis. One row of ``FEATURES`` per (article, candidate):

- ``cos``: cosine of the two head vectors;
- ``csls``: the same cosine corrected for how crowded both neighbourhoods are
  (``2 cos - density_a - density_b``, density = mean cosine to the
  ``DENSITY_NEIGHBOURS`` nearest earlier articles; Conneau et al., 2018);
- ``cross_language``, ``minhash`` (word 3-gram Jaccard estimate), ``names``
  (Jaccard of the name-like words, transliterated and cut to 6 letters so that
  "Petrov", "Петров" and "Petrova" meet), ``log_tokens`` (the shorter text's
  length), ``days_apart``;
- ``keywords``: weighted Jaccard of the two texts' 64 rarest words, each
  weighted by how rare it is in its language (``MAX_WEIGHT`` minus its Zipf
  frequency, from wordfreq's tables);
- ``undated``: either article came without a date (then ``days_apart`` is 0);
- ``numbers``: Jaccard of the numbers both mention;
- ``rank`` (log of the candidate's place among the article's neighbours) and
  ``below_best`` (its cosine below the best candidate's).

``predict_proba`` gives P(same story) per row. The model file
(``samestory.artifacts``, kind ``linker``, format 1; files from before format
names load as format 1) holds the feature names, which must equal ``FEATURES``,
the trees as LightGBM text and compiled to ONNX (``samestory.trees``), and the
training summary. It is trained by ``samestory.training.linker`` through
``training/fit_linker.py``; why these features, and their figures, are in
``training/LOG.md``.
"""
from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from anyascii import anyascii

from samestory.artifacts import ArtifactError, load_artifact, save_artifact
from samestory.text.frequency import zipf

FEATURES = ("cos", "csls", "cross_language", "minhash", "names", "log_tokens", "days_apart", "keywords", "undated",
            "numbers", "rank", "below_best")
DEFAULT_MODEL = "story-linker-v1.json.gz"
FORMAT_VERSION = 1
DENSITY_NEIGHBOURS = 10
MAX_WEIGHT = 7.0        # a word's weight is 7 - its Zipf frequency ("the" is about 7.7)
DEFAULT_DENSITY = 0.8   # an article with no earlier neighbour: a typical value, so csls stays defined

_WORD = re.compile(r"\b\w[\w'’-]*")
_NUMBER = re.compile(r"(?<![0-9A-Za-z.,])\d+(?:[.,]\d+)*(?![0-9A-Za-z])")   # "2020年" too


def number_keys(text: str) -> frozenset[int]:
    """Hashes of the numbers in the text, separators dropped ("1,500" = "1.500" = "1500")."""
    return frozenset(zlib.crc32(n.replace(",", "").replace(".", "").replace(" ", "").encode())
                     for n in _NUMBER.findall(text))


def name_keys(text: str) -> frozenset[int]:
    """Hashes of the name-like words (capitalised, 3+ letters, or numbers), transliterated."""
    return frozenset(_key(word.lower()) for word in _WORD.findall(text)
                     if word[0].isdigit() or (word[0].isupper() and len(word) > 2))


def keywords(text: str, lang: str, top: int = 64) -> dict[int, float]:
    """The ``top`` rarest words (hashed, transliterated, cut to 6 letters) with their weights.
    Chinese and Japanese runs become character pairs, all weighed as rare: wordfreq
    needs jieba or MeCab to look those up, and a pair of characters is rarely common."""
    # Other words in a Chinese, Japanese or Korean text (names, numbers) are looked up
    # in English: wordfreq would need jieba or MeCab to tokenise them in those languages.
    lang = lang if lang in _wordfreq_languages() and lang not in ("zh", "ja", "ko") else "en"
    weights: dict[str, float] = {}
    for word in _KEYWORD.findall(text.lower()):
        if _CJK.search(word):
            for gram in (word[i:i + 2] for i in range(max(1, len(word) - 1))):
                weights[gram] = MAX_WEIGHT
        elif len(word) > 1 and word not in weights:
            weights[word] = MAX_WEIGHT - _zipf(word, lang)
    rarest = sorted(weights.items(), key=lambda kv: -kv[1])[:top]
    return {_key(gram): round(w, 2) for gram, w in rarest if w > 0}


def _key(word: str) -> int:
    return zlib.crc32(anyascii(word)[:6].encode())


_KEYWORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@functools.lru_cache(maxsize=65_536)      # common words; a long-running writer meets millions of rare ones
def _zipf(word: str, lang: str) -> float:
    return zipf(word, lang)         # wordfreq's answer, from tables that do not grow with each language met


@functools.lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages())


def pack_keywords(kw: dict[int, float]) -> bytes:
    """Keys then weights, for the store's ``keywords`` column."""
    return np.asarray(list(kw), np.uint32).tobytes() + np.asarray(list(kw.values()), np.float32).tobytes()


def unpack_keywords(blob: bytes) -> dict[int, float]:
    n = len(blob) // 8
    keys, weights = np.frombuffer(blob[:4 * n], np.uint32), np.frombuffer(blob[4 * n:], np.float32)
    return dict(zip(keys.tolist(), weights.tolist()))


def weighted_jaccard(a: dict[int, float], b: dict[int, float], total_a: float, total_b: float) -> float:
    """Weighted Jaccard of two keyword maps whose weights sum to ``total_a`` and ``total_b``."""
    shared = sum(min(a[k], b[k]) for k in a.keys() & b.keys())
    union = total_a + total_b - shared
    return shared / union if union > 0 else 0.0


@dataclass(frozen=True)
class Fingerprint:
    """What the linker knows of one article besides its vector (all of it kept by the store)."""

    signature: np.ndarray
    names: frozenset[int]
    keywords: dict[int, float]
    numbers: frozenset[int]
    tokens: int
    lang: str
    ts: float
    dated: bool = True
    density: float = DEFAULT_DENSITY
    keyword_weight: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keyword_weight", float(sum(self.keywords.values())))


def fingerprint(text: str, lang: str, signature: np.ndarray, ts: float, dated: bool,
                neighbour_sims: np.ndarray) -> Fingerprint:
    return Fingerprint(signature, name_keys(text), keywords(text, lang), number_keys(text), len(text.split()), lang,
                       ts, dated, density(neighbour_sims))


def density(neighbour_sims: np.ndarray) -> float:
    """Mean cosine to the nearest earlier articles (``DEFAULT_DENSITY`` with none)."""
    top = np.sort(np.asarray(neighbour_sims, float))[::-1][:DENSITY_NEIGHBOURS]
    return float(top.mean()) if len(top) else DEFAULT_DENSITY


def candidate_features(a: Fingerprint, candidates: Sequence[Fingerprint],
                       cos: Sequence[float] | np.ndarray) -> np.ndarray:
    """One row of ``FEATURES`` per candidate of ``a`` (the new article); candidates come
    nearest first, with their cosines. Undated articles are "dated" when first seen, so
    their time apart is how fast they were read: it does not count."""
    k = len(candidates)
    X = np.zeros((k, len(FEATURES)))
    if not k:
        return X
    cos = np.asarray(cos, float)
    dated = np.array([a.dated and b.dated for b in candidates])
    X[:, 0] = cos
    X[:, 1] = 2 * cos - a.density - np.array([b.density for b in candidates])
    X[:, 2] = [a.lang != b.lang for b in candidates]
    X[:, 3] = (np.stack([b.signature for b in candidates]) == a.signature).mean(axis=1)
    X[:, 4] = [_jaccard(a.names, b.names) for b in candidates]
    X[:, 5] = np.log1p(np.minimum(a.tokens, [b.tokens for b in candidates]))
    X[:, 6] = np.where(dated, np.abs(a.ts - np.array([b.ts for b in candidates])) / 86400.0, 0.0)
    X[:, 7] = [weighted_jaccard(a.keywords, b.keywords, a.keyword_weight, b.keyword_weight) for b in candidates]
    X[:, 8] = ~dated
    X[:, 9] = [_jaccard(a.numbers, b.numbers) for b in candidates]
    X[:, 10] = np.log1p(np.arange(k))
    X[:, 11] = cos[0] - cos
    return X


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@dataclass
class StoryLinker:
    """P(same story) for candidate pairs; scikit-learn-style ``fit``/``predict_proba``."""

    n_estimators: int = 200
    num_leaves: int = 8
    learning_rate: float = 0.05
    min_child_samples: int = 40
    summary: dict[str, Any] = field(default_factory=dict)

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> StoryLinker:
        import lightgbm as lgb

        model = lgb.LGBMClassifier(n_estimators=self.n_estimators, num_leaves=self.num_leaves,
                                   learning_rate=self.learning_rate, min_child_samples=self.min_child_samples,
                                   subsample=0.8, subsample_freq=1, random_state=0, verbose=-1)
        model.fit(np.asarray(X, np.float64), np.asarray(y, int), sample_weight=sample_weight)
        self.booster_: Any = model.booster_      # a lightgbm.Booster; once loaded, CompiledTrees
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(same story) per row (a 1-d array, unlike scikit-learn's two columns)."""
        if not hasattr(self, "booster_"):
            raise RuntimeError("StoryLinker is not fitted: call fit() or StoryLinker.load()")
        X = np.asarray(X, np.float64).reshape(-1, len(FEATURES))
        return self.booster_.predict(X) if len(X) else np.zeros(0)

    def save(self, path: str | Path) -> None:
        """Write the fitted linker as a model file (see the module docstring).

        Raises:
            ImportError: onnxmltools (the ``train`` extra) is not installed.
        """
        from samestory.trees import compile_booster

        doc = {"features": list(FEATURES), "summary": self.summary,
               "params": {"n_estimators": self.n_estimators, "num_leaves": self.num_leaves,
                          "learning_rate": self.learning_rate, "min_child_samples": self.min_child_samples},
               "model": self.booster_.model_to_string(), "compiled": compile_booster(self.booster_)}
        save_artifact(path, "linker", doc, FORMAT_VERSION)

    @classmethod
    def load(cls, path: str | Path | None = None) -> StoryLinker:
        """The shipped linker by default; prediction runs the compiled trees (``samestory.trees``).

        Raises:
            OSError: the file cannot be opened.
            samestory.artifacts.ArtifactError: it is not a linker file this release reads, or its
                features are not this version's ``FEATURES``.
        """
        source = resources.files("samestory.models") / DEFAULT_MODEL if path is None else path
        _, doc = load_artifact(source, "linker", versions=(FORMAT_VERSION,), required=("features", "params", "model"),
                               legacy=_legacy_version)
        if tuple(doc["features"]) != FEATURES:
            raise ArtifactError(f"{path or DEFAULT_MODEL}: features {doc['features']} do not match this "
                                f"version's {FEATURES}")
        linker = cls(**doc["params"], summary=doc.get("summary", {}))
        if "compiled" in doc:
            from samestory.trees import CompiledTrees

            linker.booster_ = CompiledTrees(doc["compiled"])
        else:           # a file from before compiled trees: LightGBM itself
            import lightgbm as lgb

            linker.booster_ = lgb.Booster(model_str=doc["model"])
        return linker


def _legacy_version(doc: Mapping[str, Any]) -> int | None:
    """Linker files from before format names: format 1 when they hold its fields."""
    return FORMAT_VERSION if "features" in doc and "model" in doc else None
