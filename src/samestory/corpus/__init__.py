"""The corpus side: index, link, group into stories, and query (see ``Corpus``)."""
from samestory.corpus.corpus import DEFAULT_ENCODER, Corpus
from samestory.corpus.prepare import content_id

__all__ = ["DEFAULT_ENCODER", "Corpus", "content_id"]
