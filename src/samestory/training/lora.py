"""Low-rank adapters (LoRA, Hu et al., 2021) for the PyTorch e5 encoder: adding
trainable ones, reading their trained update, merging a saved one into the weights.

Fine-tuning changes each adapted projection by ``scale * B @ A`` with rank-r
matrices; ``save_adapter`` writes the pair (A, scale * B) per projection in the
format ``samestory.embed.lora`` reads at run time.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from samestory.embed.lora import PROJECTIONS
from samestory.training.torch_nn import LoRALinear


class Layered(Protocol):
    """``E5Network``, or any module holding its layers (training keeps the top ones)."""

    layers: nn.ModuleList

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]: ...


def add_lora(encoder: Layered, layers: range, rank: int = 16, alpha: float = 32.0,
             seed: int = 0) -> list[nn.Parameter]:
    """Wrap the projections of ``layers`` in trainable adapters; returns their parameters."""
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
    """Write ``adapter_state(encoder)`` as an ``.npz`` file."""
    # numpy's stub reads ** as if it might hold allow_pickle; the keys are l{i}.{name}.a/b
    np.savez_compressed(path, **adapter_state(encoder))  # type: ignore[arg-type]


def merge_into(encoder: Layered, adapter: dict[str, np.ndarray]) -> None:
    """W <- W + B @ A for every projection the adapter names (plain float Linear layers)."""
    for key in {k.rsplit(".", 1)[0] for k in adapter}:
        layer, name = key.split(".")
        linear = getattr(encoder.layers[int(layer[1:])], name)
        delta = adapter[f"{key}.b"].astype(np.float32) @ adapter[f"{key}.a"].astype(np.float32)
        linear.weight.data += torch.from_numpy(delta)
