"""Passage alignment: which passages of A say what which passages of B say.

Max-matching in both directions over the passage similarity matrix (the
"BERTScore at passage level" idea): robust to reordering, to one article being
longer, and it works across languages because the encoder is multilingual.
"""
from __future__ import annotations

import numpy as np


def similarity(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    return np.clip(pa @ pb.T, -1.0, 1.0) if len(pa) and len(pb) else np.zeros((len(pa), len(pb)))


def mutual_coverage(sim: np.ndarray) -> float:
    """How well each side's passages are matched in the other, in the weaker direction (the
    mean of each passage's best match): a translation covers its source both ways."""
    if sim.size == 0:
        return 0.0
    return float(min(sim.max(axis=1).mean(), sim.max(axis=0).mean()))


def alignment_features(sim: np.ndarray) -> dict[str, float]:
    if sim.size == 0:
        return {k: 0.0 for k in ("align_ab", "align_ba", "align_max", "align_top3", "align_min_dir",
                                 "align_share_90", "align_share_85")}
    row, col = sim.max(axis=1), sim.max(axis=0)
    best = np.sort(sim, axis=None)[::-1]
    return {
        "align_ab": float(row.mean()),
        "align_ba": float(col.mean()),
        "align_max": float(best[0]),
        "align_top3": float(best[:3].mean()),
        "align_min_dir": mutual_coverage(sim),
        "align_share_90": float(((row >= 0.90).mean() + (col >= 0.90).mean()) / 2),
        "align_share_85": float(((row >= 0.85).mean() + (col >= 0.85).mean()) / 2),
    }


def best_pairs(sim: np.ndarray, k: int = 5, min_similarity: float = 0.8) -> list[tuple[int, int, float]]:
    """Up to ``k`` one-to-one passage pairs, most similar first (greedy matching)."""
    pairs: list[tuple[int, int, float]] = []
    if sim.size == 0:
        return pairs
    used_a, used_b = set(), set()
    for flat in np.argsort(sim, axis=None)[::-1]:
        i, j = divmod(int(flat), sim.shape[1])
        if sim[i, j] < min_similarity or len(pairs) >= k:
            break
        if i not in used_a and j not in used_b:
            pairs.append((i, j, float(sim[i, j])))
            used_a.add(i)
            used_b.add(j)
    return pairs
