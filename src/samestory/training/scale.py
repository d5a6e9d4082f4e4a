"""The cosine scale of a vector space: where the cosines of unrelated articles sit.

Fine-tuned adapters move it: adapters trained on different pairs (each fold's, in
cross-validation) can put unrelated articles at cosine 0.82 in one fold and 0.85
in another, while ranking pairs equally well. A scorer fitted on the out-of-fold
features of such folds learns from cosines on mixed scales. ``random_pair_cosine``
measures the scale without gold scores, so training can report it for each fold
(``training/finetune.py``; the figures are in ``training/LOG.md``).
"""
from __future__ import annotations

import numpy as np


def random_pair_cosine(vectors: np.ndarray, pairs: int = 4000, seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation of the cosine of random pairs of distinct rows.

    Args:
        vectors: (n, dim) unit-length vectors, n >= 2 (one per article).
        pairs: how many pairs to draw (with replacement).
        seed: the random generator's seed: the same vectors give the same figures.

    Returns:
        (mean, sd) of the cosines.

    Raises:
        ValueError: fewer than two vectors.
    """
    vectors = np.asarray(vectors, np.float32)
    if len(vectors) < 2:
        raise ValueError(f"random pairs need at least two vectors, got {len(vectors)}")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, len(vectors), pairs)
    b = (a + rng.integers(1, len(vectors), pairs)) % len(vectors)     # never a row with itself
    cos = np.einsum("ij,ij->i", vectors[a], vectors[b])
    return float(cos.mean()), float(cos.std())
