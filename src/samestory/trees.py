"""Gradient-boosted trees compiled to ONNX, for prediction without LightGBM.

samestory trains its scorer and story linker with LightGBM, whose Python package
imports scikit-learn, SciPy and pandas on the way in (two seconds before a
command can start). The shipped files therefore carry each booster twice: as
LightGBM text (to inspect or refit) and compiled by onnxmltools into an ONNX
tree ensemble that ONNX Runtime (already loaded for the encoder) evaluates.
Measured on the shipped models: the two agree to 3e-7.
"""
from __future__ import annotations

import base64
from typing import Any

import numpy as np


def compile_booster(booster: Any) -> str:
    """A LightGBM booster as base64 ONNX (needs ``samestory[train]``: onnxmltools)."""
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = convert_lightgbm(booster, initial_types=[("X", FloatTensorType([None, booster.num_feature()]))],
                             zipmap=False, target_opset=15)
    return base64.b64encode(model.SerializeToString()).decode("ascii")


class CompiledTrees:
    """``predict(X)``: the regression value, or for a binary classifier P(class 1),
    one per row: what ``lightgbm.Booster.predict`` returns."""

    def __init__(self, encoded: str):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1      # a few hundred small trees: threads cost more than they save
        self._session = ort.InferenceSession(base64.b64decode(encoded), options, providers=["CPUExecutionProvider"])
        outputs = [o.name for o in self._session.get_outputs()]
        self._output = "probabilities" if "probabilities" in outputs else outputs[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, np.float32)
        if not len(X):
            return np.zeros(0)
        out: np.ndarray = self._session.run([self._output], {"X": X})[0]
        return (out[:, 1] if self._output == "probabilities" else out.reshape(-1)).astype(np.float64)
