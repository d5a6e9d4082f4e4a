"""Per-article signals, and the feature vector of a pair that the scorer reads.

Every pair feature is symmetric (min/max of the two directions), so that
``compare(a, b)`` and ``compare(b, a)`` give the same scores.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np

from samestory.embed import Encoder
from samestory.signals import alignment, lexical
from samestory.signals.entities import KINDS, countries, extract_mentions, match
from samestory.signals.quantities import extract_dates, extract_numbers
from samestory.signals.vectors import ArticleVectors, embed_units
from samestory.text import CORE_LANGUAGES, TextUnits, UnitSettings, text_units
from samestory.types import MISSED_TEXT_REASONS, Article, Mention

_LANG_CODE = {lang: i for i, lang in enumerate(sorted(CORE_LANGUAGES))}


@dataclass(frozen=True)
class ArticleSignals:
    """Everything samestory knows about one article before it meets another."""

    article: Article
    units: TextUnits
    vectors: ArticleVectors
    mentions: tuple[Mention, ...]
    dates: tuple[str, ...]
    numbers: tuple[str, ...]
    char_profile: Any            # sparse character n-gram profile row (lexical.char_profiles)


def analyse(articles: Sequence[Article], encoder: Encoder,
            settings: UnitSettings | None = None) -> list[ArticleSignals]:
    units = [text_units(a, settings or UnitSettings()) for a in articles]
    vectors = embed_units(units, encoder)
    profiles = lexical.char_profiles([a.full_text for a in articles]) if articles else []
    out = []
    for i, (article, u, v) in enumerate(zip(articles, units, vectors)):
        text = article.full_text
        out.append(ArticleSignals(
            article=article, units=u, vectors=v,
            mentions=tuple(extract_mentions(text, article.lang)),
            dates=tuple(extract_dates(text)), numbers=tuple(extract_numbers(text)),
            char_profile=profiles[i],
        ))
    return out


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def _overlap(a: Sequence[Mention], b: Sequence[Mention]) -> tuple[float, float, float]:
    """(fuzzy Jaccard, lower and higher of the two matched shares)."""
    if not a or not b:
        return 0.0, 0.0, 0.0
    in_b = len({m.key for m, _ in match(list(a), list(b))})
    in_a = len({m.key for m, _ in match(list(b), list(a))})
    share_a, share_b = in_b / len(a), in_a / len(b)
    return (in_a + in_b) / (len(a) + len(b)), min(share_a, share_b), max(share_a, share_b)


def _set_features(prefix: str, a: AbstractSet[Hashable], b: AbstractSet[Hashable]) -> dict[str, float]:
    return {
        f"{prefix}_jaccard": lexical.jaccard(a, b),
        f"{prefix}_shared": float(len(a & b)),
        f"{prefix}_min_count": float(min(len(a), len(b))),
    }


def pair_features(a: ArticleSignals, b: ArticleSignals, sim: np.ndarray | None = None) -> dict[str, float]:
    va, vb = a.vectors, b.vectors
    if sim is None:
        sim = alignment.similarity(va.passages, vb.passages)
    ta, tb = a.article.full_text, b.article.full_text
    f: dict[str, float] = {
        "cos_head": _cos(va.head, vb.head),
        "cos_tail": _cos(va.tail, vb.tail),
        "cos_head_tail": max(_cos(va.head, vb.tail), _cos(va.tail, vb.head)),
        "cos_centroid": _cos(_unit(va.passages.mean(0)), _unit(vb.passages.mean(0))),
    }
    # The headlines alone: what a reader compares first, and all there is to compare when a
    # side's body is not its article (a widget, a banner's leftovers) but its headline survived.
    ha = va.head if va.headline is None else va.headline
    hb = vb.head if vb.headline is None else vb.headline
    f["cos_headline"] = _cos(ha, hb)
    f["headline_fit_min"] = min(_cos(ha, va.head), _cos(hb, vb.head))
    f.update(alignment.alignment_features(sim))
    ab, ba = f.pop("align_ab"), f.pop("align_ba")
    f["align_mean_max_dir"] = max(ab, ba)
    copy_ab, copy_ba = lexical.copied_share(ta, tb)
    f.update({
        "char_cosine": lexical.profile_cosine(a.char_profile, b.char_profile),
        "word_jaccard": lexical.word_jaccard(ta, tb),
        "copy_min": min(copy_ab, copy_ba),
        "copy_max": max(copy_ab, copy_ba),
    })
    f["len_min"], f["len_max"], f["len_diff"] = lexical.length_features(ta, tb)
    f["ent_jaccard"], f["ent_share_min"], f["ent_share_max"] = _overlap(a.mentions, b.mentions)
    for kind in KINDS:
        f[f"{kind}_jaccard"] = _overlap([m for m in a.mentions if m.kind == kind],
                                        [m for m in b.mentions if m.kind == kind])[0]
    f["ent_min_count"] = float(min(len(a.mentions), len(b.mentions)))
    f.update(_set_features("country", countries(a.mentions), countries(b.mentions)))
    dates_a, dates_b = set(a.dates), set(b.dates)
    f.update(_set_features("date", {d for d in dates_a if "-" in d}, {d for d in dates_b if "-" in d}))
    f.update(_set_features("year", {d for d in dates_a if d.isdigit()}, {d for d in dates_b if d.isdigit()}))
    f["weekday_jaccard"] = lexical.jaccard({d for d in dates_a if d.startswith("weekday")},
                                           {d for d in dates_b if d.startswith("weekday")})
    f.update(_set_features("number", set(a.numbers), set(b.numbers)))
    la, lb = a.article.lang, b.article.lang
    f["same_language"] = float(la == lb)
    codes = sorted((_LANG_CODE.get(la, len(_LANG_CODE)), _LANG_CODE.get(lb, len(_LANG_CODE))))
    f["lang_low"], f["lang_high"] = float(codes[0]), float(codes[1])
    return f


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def feature_names() -> list[str]:
    """The scorer's column order (computed once from a tiny synthetic pair)."""
    return list(_NAMES)


def _names() -> tuple[str, ...]:
    vec = np.zeros(4, np.float32)
    vec[0] = 1.0
    dummy = ArticleSignals(
        article=Article(text="x"), units=TextUnits(("x",), 1, 0),
        vectors=ArticleVectors(vec, vec, vec[None, :]), mentions=(), dates=(), numbers=(),
        char_profile=lexical.char_profiles(["x"])[0],
    )
    return tuple(pair_features(dummy, dummy))


_NAMES = _names()


def judgeable(pairs: Sequence[tuple[ArticleSignals, ArticleSignals]]) -> np.ndarray:
    """False for pairs with a side that cleaning found is not an article (a bot
    check, an error page): the scorer answers those with its prior."""
    return np.array([not (a.article.cleaning.not_article or b.article.cleaning.not_article)
                     for a, b in pairs], dtype=bool)


def replaced(pairs: Sequence[tuple[ArticleSignals, ArticleSignals]]) -> np.ndarray:
    """True for pairs with a side that is a page served in place of the article (see
    ``types.MISSED_TEXT_REASONS``): the scorer answers those with the prior of such pairs, which
    annotators, who saw the real pages, rated further apart than pairs at large."""
    return np.array([any(s.article.cleaning.not_article and s.article.cleaning.not_article not in MISSED_TEXT_REASONS
                         for s in pair) for pair in pairs], dtype=bool)


def feature_matrix(pairs: Sequence[tuple[ArticleSignals, ArticleSignals]]) -> np.ndarray:
    rows = [pair_features(a, b) for a, b in pairs]
    return np.array([[r[n] for n in _NAMES] for r in rows], dtype=np.float32)
