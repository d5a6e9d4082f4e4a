"""Low-rank adapters (LoRA, Hu et al., 2021) at run time: reading a shipped adapter
and naming the encoders built with it. NumPy only; training them (PyTorch) is
``samestory.training.lora``.

An adapter file (``.npz``) holds, for each adapted projection ``l{i}.{name}``
(``name`` in ``PROJECTIONS``), the factors ``l{i}.{name}.a`` (rank x in) and
``l{i}.{name}.b`` (out x rank, already scaled) as float16: the projection's weight
becomes ``W + B @ A``, merged into the float weights before any int8 quantisation.
"""
from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np

from samestory.embed.spec import SHIPPED_ADAPTER

PROJECTIONS = ("q", "k", "v", "ao", "fi", "fo")
#: The adapter shipped in ``samestory/models/`` (``SHIPPED.npz``).
SHIPPED = SHIPPED_ADAPTER


def oof_vectors_path(adapter: str = SHIPPED) -> Path:
    """Where ``training/finetune.py`` keeps the out-of-fold passage vectors of its
    cross-validation (read by the benchmark); outside the repository."""
    from samestory.embed.base import cache_dir

    return cache_dir() / f"oof-vectors-{adapter}.npz"


def adapter_tag(name_or_path: str | None) -> str:
    """``+NAME-HASH`` for encoder names: vectors cached, models checked and indexes
    built under one adapter are never taken for another's after a retrain."""
    if not name_or_path:
        return ""
    path = Path(name_or_path if Path(name_or_path).suffix else f"{name_or_path}.npz")
    data = path.read_bytes() if path.exists() else resources.files("samestory.models").joinpath(path.name).read_bytes()
    return f"+{path.stem}-{hashlib.sha256(data).hexdigest()[:8]}"


def load_adapter(name_or_path: str) -> dict[str, np.ndarray]:
    """A shipped adapter by file name (``samestory/models/``) or any path."""
    path = Path(name_or_path)
    if path.exists():
        return dict(np.load(path))
    with resources.files("samestory.models").joinpath(name_or_path).open("rb") as fh:
        return dict(np.load(fh))
