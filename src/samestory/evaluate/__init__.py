"""Stage 7: evaluation against the tasks' official metrics."""
from samestory.evaluate.semeval import analyse_pairs, article_groups, evaluate, is_original, load_pairs
from samestory.evaluate.stories import bcubed, evaluate_stories, pairwise_f1

__all__ = ["analyse_pairs", "article_groups", "bcubed", "evaluate", "evaluate_stories", "is_original",
           "load_pairs", "pairwise_f1"]
