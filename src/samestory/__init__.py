"""samestory: do these news articles report the same story, and how do they differ?

    >>> from samestory import compare
    >>> result = compare(text_a, text_b)
    >>> result.overall, result.same_story, result.evidence.shared_entities
"""
from samestory.pipeline import Comparer, compare, to_article
from samestory.types import DIMENSIONS, Article, Evidence, InputError, PairScore

__version__ = "0.1.0"
__all__ = ["Article", "Comparer", "DIMENSIONS", "Evidence", "InputError", "PairScore", "compare",
           "to_article", "__version__"]
