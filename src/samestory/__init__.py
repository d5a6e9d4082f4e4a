"""samestory: do these news articles report the same story, and how do they differ?

    >>> from samestory import compare
    >>> result = compare(text_a, text_b)
    >>> result.overall, result.same_story, result.evidence.shared_entities

    >>> from samestory import Corpus
    >>> corpus = Corpus("news.db")      # an index that grows: add, stories, similar, duplicates
"""
from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

from samestory.types import DIMENSIONS, Article, Evidence, InputError, PairScore

if TYPE_CHECKING:
    from samestory.corpus import Corpus
    from samestory.pipeline import Comparer, compare, to_article

__version__ = metadata.version("samestory")
__all__ = [
    "DIMENSIONS",
    "Article",
    "Comparer",
    "Corpus",
    "Evidence",
    "InputError",
    "PairScore",
    "__version__",
    "compare",
    "to_article",
]

_PIPELINE = frozenset({"Comparer", "compare", "to_article"})


def __getattr__(name: str) -> Any:
    # The pipeline (encoder, scorer, signals) loads on first use, so that a command
    # which never compares two articles does not pay for importing it.
    if name in _PIPELINE:
        from samestory import pipeline

        return getattr(pipeline, name)
    if name == "Corpus":
        from samestory.corpus import Corpus

        return Corpus
    raise AttributeError(f"module 'samestory' has no attribute {name!r}")
