"""Calibrate the int8 encoder's smoothing: per-channel activation maxima of each
FFN output projection, over a spread of dev articles (all languages).

    python training/calibrate_int8.py ../shared/data/semeval22/dev.csv

Writes src/samestory/models/e5-int8-smoothing.npz (12 x 1536 floats).
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from samestory.embed.onnx_e5 import SMOOTHING_FILE
from samestory.training.torch_e5 import calibrate

df = pd.read_csv(sys.argv[1])
texts = (df.text1.tolist() + df.text2.tolist())[::40]  # every 40th article: ~64, every language
out = Path(__file__).resolve().parents[1] / "src/samestory/models" / SMOOTHING_FILE
np.savez_compressed(out, **calibrate(texts))
print(f"calibrated on {len(texts)} articles -> {out} ({out.stat().st_size:,} bytes)")
