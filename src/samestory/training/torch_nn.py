"""The PyTorch modules of multilingual-e5-small and its adapters (``E5Network``,
``E5Layer``, ``SmoothedLinear``, ``LoRALinear``) and the batching helpers around
them. Imports PyTorch at the top: it belongs to ``samestory.training`` (the
``train`` extra), which no run-time module imports."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn


def pad_batch(seqs: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    """(ids, keep): token ids padded to the longest sequence, and which are real."""
    L = max(len(seq) for seq in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    keep = torch.zeros((len(seqs), L), dtype=torch.bool)
    for r, seq in enumerate(seqs):
        ids[r, :len(seq)] = torch.as_tensor(seq)
        keep[r, :len(seq)] = True
    return ids, keep


def mean_pool(x: Tensor, keep: Tensor) -> Tensor:
    """Mean over real tokens (specials included), as e5 pools."""
    weights = keep.unsqueeze(-1).to(x.dtype)
    return (x * weights).sum(1) / weights.sum(1)


def _linear(t: Mapping[str, np.ndarray], name: str, n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    layer.weight.data = torch.from_numpy(t[f"{name}.w"].reshape(n_out, n_in).copy())
    layer.bias.data = torch.from_numpy(t[f"{name}.b"].copy())
    return layer


def _norm(t: Mapping[str, np.ndarray], name: str, size: int, eps: float) -> nn.LayerNorm:
    ln = nn.LayerNorm(size, eps=eps)
    ln.weight.data = torch.from_numpy(t[f"{name}.w"].copy())
    ln.bias.data = torch.from_numpy(t[f"{name}.b"].copy())
    return ln


class E5Layer(nn.Module):
    """One transformer layer: self-attention and the feed-forward block, post-norm.
    Its projections (``q k v ao fi fo``) may be swapped for wrapped ones
    (``SmoothedLinear``, ``LoRALinear``, int8 dynamic quantisation)."""

    def __init__(self, t: Mapping[str, np.ndarray], i: int, cfg: Mapping[str, Any]):
        super().__init__()
        H, FF, p, eps = cfg["H"], cfg["FF"], f"l{i}", cfg["eps"]
        self.hidden, self.heads = int(H), int(cfg["NH"])
        self.q: nn.Module = _linear(t, f"{p}.q", H, H)
        self.k: nn.Module = _linear(t, f"{p}.k", H, H)
        self.v: nn.Module = _linear(t, f"{p}.v", H, H)
        self.ao: nn.Module = _linear(t, f"{p}.ao", H, H)
        self.aln = _norm(t, f"{p}.aln", H, eps)
        self.fi: nn.Module = _linear(t, f"{p}.fi", H, FF)
        self.fo: nn.Module = _linear(t, f"{p}.fo", FF, H)
        self.oln = _norm(t, f"{p}.oln", H, eps)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        B, L, _ = x.shape
        H, NH = self.hidden, self.heads

        def heads(y: Tensor) -> Tensor:
            return y.view(B, L, NH, H // NH).transpose(1, 2)

        ctx = nn.functional.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)),
                                                         attn_mask=mask)
        x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(B, L, H)))
        out: Tensor = self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))
        return out


class E5Network(nn.Module):
    """multilingual-e5-small from ``embed.convert.read_model``'s config and tensors:
    token ids and a keep mask in, mean-pooled vectors out."""

    def __init__(self, model: Mapping[str, Any]):
        super().__init__()
        cfg, t = model["config"], model["tensors"]
        # float16 table (192 MB instead of 384 MB); rows become float32 on lookup
        # (from_pretrained has no annotations in torch)
        self.word = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.word"].astype(np.float16)), freeze=True)  # type: ignore[no-untyped-call]
        self.pos = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.pos"]), freeze=True)  # type: ignore[no-untyped-call]
        self.token_type = nn.Parameter(torch.from_numpy(t["emb.type"][0].copy()), requires_grad=False)
        self.eln = _norm(t, "emb.ln", cfg["H"], cfg["eps"])
        self.layers = nn.ModuleList(E5Layer(t, i, cfg) for i in range(cfg["NL"]))

    def layer(self, i: int) -> E5Layer:
        found = self.layers[i]
        assert isinstance(found, E5Layer)
        return found

    def embed(self, ids: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        out: Tensor = self.eln(self.word(ids).float() + self.pos(positions) + self.token_type)
        return out

    def run_layers(self, x: Tensor, keep: Tensor, start: int = 0, stop: int | None = None) -> Tensor:
        mask = keep[:, None, None, :]
        for layer in self.layers[start:stop]:
            x = layer(x, mask)
        return x

    def forward(self, ids: Tensor, keep: Tensor) -> Tensor:
        return mean_pool(self.run_layers(self.embed(ids), keep), keep)


class SmoothedLinear(nn.Module):
    """x -> linear(x * scale): the SmoothQuant smoothing in front of a projection."""

    def __init__(self, linear: nn.Linear, scale: Tensor):
        super().__init__()
        self.linear = linear
        self.scale = nn.Parameter(scale, requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.linear(x.mul_(self.scale))     # x is the GELU's fresh output: scale in place
        return out


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T``: a trainable low-rank update beside a frozen projection."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, gen: torch.Generator):
        super().__init__()
        self.base, self.scale = base, alpha / rank
        self.a = nn.Parameter(torch.randn(rank, base.in_features, generator=gen) / base.in_features ** 0.5)
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.base(x) + (x @ self.a.T @ self.b.T) * self.scale
        return out
