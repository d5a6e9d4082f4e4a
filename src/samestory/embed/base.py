"""What every encoder is (the ``Encoder`` protocol) and where derived files live
(``cache_dir``). Imports nothing from samestory, so any module may import it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""


def cache_dir() -> Path:
    """``$SAMESTORY_CACHE`` or ``~/.cache/samestory``: vectors, the built ONNX encoder,
    the gazetteer, the language model; all derived, safe to delete."""
    return Path(os.environ.get("SAMESTORY_CACHE") or Path.home() / ".cache" / "samestory")
