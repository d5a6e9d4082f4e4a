"""Scaling out: the per-article stages apart from the writer (``embedded``), run locally
or as Ray Data stages on a Ray cluster (``ray_engine``; Ray is optional, imported only there)."""
