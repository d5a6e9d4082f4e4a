"""Low-rank adapters (LoRA, Hu et al., 2021) for the PyTorch e5 encoder.

Fine-tuning changes each adapted projection by ``scale * B @ A`` with rank-r
matrices, so what samestory ships is the pair (A, B) per projection: 0.4 MB
instead of the 470 MB model. At load time the update is merged into the float
weights, before any int8 quantisation, so a tuned encoder costs nothing extra.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from torch import nn

PROJECTIONS = ("q", "k", "v", "ao", "fi", "fo")
SHIPPED = "e5-lora-semeval"


def oof_vectors_path(adapter: str = SHIPPED) -> Path:
    """Where ``training/finetune.py`` keeps the out-of-fold passage vectors of its
    cross-validation (read by the benchmark); outside the repository."""
    from samestory.embed.base import cache_dir

    return cache_dir() / f"oof-vectors-{adapter}.npz"


class Layered(Protocol):
    """``E5Network``, or any module holding its layers (training keeps the top ones)."""

    layers: nn.ModuleList

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...


def add_lora(encoder: Layered, layers: range, rank: int = 16, alpha: float = 32.0,
             seed: int = 0) -> list[nn.Parameter]:
    """Wrap the projections of ``layers`` in trainable adapters; returns their parameters."""
    import torch

    from samestory.embed.torch_nn import LoRALinear

    gen = torch.Generator().manual_seed(seed)
    for p in encoder.parameters():
        p.requires_grad_(False)
    params: list[nn.Parameter] = []
    for i in layers:
        layer = encoder.layers[i]
        for name in PROJECTIONS:
            wrapped = LoRALinear(getattr(layer, name), rank, alpha, gen)
            setattr(layer, name, wrapped)
            params += [wrapped.a, wrapped.b]
    return params


def adapter_state(encoder: Layered) -> dict[str, np.ndarray]:
    """The trained update of every adapted projection, ``l{i}.{name}`` -> scale * B @ A factors."""
    out: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        for name in PROJECTIONS:
            mod = getattr(layer, name)
            if hasattr(mod, "a"):
                out[f"l{i}.{name}.a"] = mod.a.detach().numpy().astype(np.float16)
                out[f"l{i}.{name}.b"] = (mod.b.detach() * mod.scale).numpy().astype(np.float16)
    return out


def save_adapter(encoder: Layered, path: str | Path) -> None:
    # numpy's stub reads ** as if it might hold allow_pickle; the keys are l{i}.{name}.a/b
    np.savez_compressed(path, **adapter_state(encoder))  # type: ignore[arg-type]


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


def merge_into(encoder: Layered, adapter: dict[str, np.ndarray]) -> None:
    """W <- W + B @ A for every projection the adapter names (plain float Linear layers)."""
    import torch

    for key in {k.rsplit(".", 1)[0] for k in adapter}:
        layer, name = key.split(".")
        linear = getattr(encoder.layers[int(layer[1:])], name)
        delta = adapter[f"{key}.b"].astype(np.float32) @ adapter[f"{key}.a"].astype(np.float32)
        linear.weight.data += torch.from_numpy(delta)
