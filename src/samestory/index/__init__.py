"""Stage 6a: the persistent index: SQLite store, ANN over vectors, MinHash LSH for copies."""
from samestory.index.ann import VectorIndex
from samestory.index.minhash import DuplicateIndex, signatures
from samestory.index.store import Store

__all__ = ["DuplicateIndex", "Store", "VectorIndex", "signatures"]
