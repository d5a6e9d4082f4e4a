"""SemEval-2022 Task 8 evaluation: Pearson of predicted vs gold scores.

The task's official metric is the Pearson correlation of predicted and gold
``Overall``; this also reports every other dimension, each language pair, and
original (``DIGITS_DIGITS``) versus machine-translated pairs separately.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from samestory.embed import Encoder
from samestory.ingest import clean_record
from samestory.signals import ArticleSignals, analyse
from samestory.text import tag_language
from samestory.types import CSV_COLUMNS, DIMENSIONS, Article, InputError

if TYPE_CHECKING:
    from samestory.pipeline import Comparer

REQUIRED = ("pair_id", "lang1", "lang2", "text1", "text2")
_ORIGINAL = re.compile(r"^\d+_\d+$")

log = logging.getLogger(__name__)


def load_pairs(path: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """The rated pairs of one SemEval-format CSV, or of several one after the other, with a
    ``source`` column naming each row's file (training on ``dev.csv`` and more pairs reports
    its cross-validation on ``dev.csv``'s rows alone too).

    Raises:
        InputError: a file is missing, unreadable, or lacks a required column.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    frames = [_read_pairs(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_pairs(path: str | Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"pair_id": str, "lang1": str, "lang2": str})
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    df["source"] = Path(path).name
    return df.reset_index(drop=True)


def is_original(pair_id: str) -> bool:
    return bool(_ORIGINAL.match(str(pair_id)))


def article_groups(pair_ids: Sequence[str]) -> np.ndarray:
    """Connected components of the article graph, for grouped cross-validation:
    a pair and its translated variants, and any pair sharing an article, stay in
    one fold, so no article sits on both sides of a split."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    ids = [re.findall(r"\d+", str(p))[:2] or [str(p)] for p in pair_ids]
    node = {a: i for i, a in enumerate(dict.fromkeys(a for parts in ids for a in parts))}
    edges = np.array([(node[parts[0]], node[other]) for parts in ids for other in parts[1:]], np.int64).reshape(-1, 2)
    graph = coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(node), len(node)))
    _, component = connected_components(graph, directed=False)
    per_pair = [int(component[node[parts[0]]]) for parts in ids]
    # numbered in order of first appearance, as the folds were made with
    number = {c: i for i, c in enumerate(dict.fromkeys(per_pair))}
    return np.array([number[c] for c in per_pair])


def pair_articles(df: pd.DataFrame) -> tuple[list[Article], list[tuple[int, int] | None], dict[int, str]]:
    """Clean both sides of every row, each distinct text once. Returns (articles,
    slots, errors): slots[i] is the (article, article) index pair of row i, or None
    where it failed, with its reason in errors[i]."""
    index: dict[tuple[str, str], int] = {}
    articles: list[Article] = []
    errors: dict[int, str] = {}
    slots: list[tuple[int, int] | None] = []
    rows = df[["text1", "lang1", "text2", "lang2"]].itertuples(index=False)
    for i, (t1, l1, t2, l2) in enumerate(rows):
        ids = []
        for side, text, lang in (("text1", t1, l1), ("text2", t2, l2)):
            key = (str(text), str(lang))
            if key not in index:
                try:
                    lang_field = lang if isinstance(lang, str) and lang.strip() else None
                    article = tag_language(clean_record({"text": text, "lang": lang_field}))
                except InputError as exc:
                    errors[i] = f"{side}: {exc}"
                    break
                index[key] = len(articles)
                articles.append(article)
            ids.append(index[key])
        slots.append((ids[0], ids[1]) if len(ids) == 2 else None)
    return articles, slots, errors


def analyse_pairs(df: pd.DataFrame, encoder: Encoder, progress: bool = True,
                  ) -> tuple[list[tuple[ArticleSignals, ArticleSignals] | None], dict[int, str]]:
    """Signals for both sides of every row; each distinct text is analysed once.
    Returns (pairs, errors): pairs[i] is None where row i failed, with its reason
    in errors[i]."""
    articles, slots, errors = pair_articles(df)
    if progress:
        log.info("analysing %d distinct articles for %d pairs", len(articles), len(df))
    signals: list[ArticleSignals] = analyse(articles, encoder)
    pairs = [(signals[s[0]], signals[s[1]]) if s else None for s in slots]
    return pairs, errors


def _pearson(pred: np.ndarray, gold: np.ndarray) -> float | None:
    ok = ~(np.isnan(pred) | np.isnan(gold))
    if ok.sum() < 3 or np.std(pred[ok]) == 0 or np.std(gold[ok]) == 0:
        return None
    return round(float(np.corrcoef(pred[ok], gold[ok])[0, 1]), 4)


def report(df: pd.DataFrame, predictions: np.ndarray, seconds: float, errors: dict[int, str],
           articles: int) -> dict[str, Any]:
    """The eval's JSON shape: ``pairs``, ``pearson``, ``by_lang_pair``, ``by_group``, ``by_source``
    (each file's rows, when the pairs came from several), ..."""
    gold_cols = [CSV_COLUMNS[d] for d in DIMENSIONS if CSV_COLUMNS[d] in df.columns]

    def block(mask: np.ndarray) -> dict[str, Any]:
        return {"pairs": int(mask.sum()),
                "pearson": {c: _pearson(predictions[mask, DIMENSIONS.index(c.lower())],
                                        df.loc[mask, c].to_numpy(float)) for c in gold_cols}}

    lang_pair = (df["lang1"].astype(str) + "-" + df["lang2"].astype(str)).to_numpy()
    original = df["pair_id"].map(is_original).to_numpy()
    everything = np.ones(len(df), bool)
    sources = df["source"].to_numpy() if "source" in df.columns else np.full(len(df), "")
    by_source = {src: block(sources == src) for src in dict.fromkeys(sources)} if len(set(sources)) > 1 else {}
    return {
        "pairs": len(df),
        "scored": int(len(df) - len(errors)),
        "pearson": block(everything)["pearson"],
        "by_lang_pair": {lp: block(lang_pair == lp) for lp in sorted(set(lang_pair))},
        "by_group": {"original": block(original), "translated": block(~original)},
        **({"by_source": by_source} if by_source else {}),
        "errors": [{"row": i, "pair_id": str(df["pair_id"].iloc[i]), "error": e} for i, e in sorted(errors.items())],
        "seconds": round(seconds, 2),
        "articles": articles,
        "documents_per_second": round(articles / seconds, 2) if seconds > 0 else None,
    }


def evaluate(path: str | Path, comparer: Comparer, progress: bool = True) -> tuple[dict[str, Any], pd.DataFrame]:
    """Score every pair of a SemEval-format CSV with ``comparer`` (never trains on it)."""
    df = load_pairs(path)
    start = time.perf_counter()
    pairs, errors = analyse_pairs(df, comparer.encoder, progress=progress)
    ok = [i for i, p in enumerate(pairs) if p is not None]
    scores = comparer.score_signals([p for p in pairs if p is not None])
    seconds = time.perf_counter() - start
    predictions = np.full((len(df), len(DIMENSIONS)), np.nan)
    for i, s in zip(ok, scores):
        predictions[i] = [s.dimensions[d] for d in DIMENSIONS]
    n_articles = len({id(p[k].article) for p in pairs if p for k in (0, 1)})
    out = df[["pair_id", "lang1", "lang2"]].copy()
    for j, d in enumerate(DIMENSIONS):
        out[CSV_COLUMNS[d]] = predictions[:, j]
    return report(df, predictions, seconds, errors, n_articles), out
