"""Stage 7: evaluation against the tasks' official metrics."""
from samestory.evaluate.semeval import analyse_pairs, article_groups, evaluate, is_original, load_pairs

__all__ = ["analyse_pairs", "article_groups", "evaluate", "is_original", "load_pairs"]
