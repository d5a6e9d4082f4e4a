"""Stage 5: scores and evidence from pair signals."""
from samestory.scoring.evidence import build_evidence
from samestory.scoring.model import PairScorer

__all__ = ["PairScorer", "build_evidence"]
