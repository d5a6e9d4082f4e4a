"""Stage 4: signals. Per article: vectors, mentions, dates, numbers. Per pair:
alignment, lexical overlap, copying, entity/place/date/number overlap."""
from samestory.signals.features import (
    ArticleSignals,
    analyse,
    feature_matrix,
    feature_names,
    judgeable,
    pair_features,
    replaced,
)

__all__ = ["ArticleSignals", "analyse", "feature_matrix", "feature_names", "judgeable", "pair_features",
           "replaced"]
