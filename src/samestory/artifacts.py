"""Model files: one gzip'd JSON document each, named by kind and format version.

``save_artifact`` writes ``{"format": "samestory-KIND/VERSION", **payload}``;
``load_artifact`` reads it back and checks the kind, the version and the keys the
caller needs, so that loading runs no code (no pickle) and a file of another kind,
of a version this release does not read, or damaged on disk is refused with one
exception type, ``ArtifactError``, whose message names the file and what is wrong.
A file written before format names were stored is recognised by the caller's
``legacy`` hook, which says which version its contents are.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import zlib
from collections.abc import Callable, Collection, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: ``legacy(document)``: the format version of a document without a ``format`` field, or None.
LegacyHook = Callable[[Mapping[str, Any]], int | None]


class ArtifactError(ValueError):
    """A model file that cannot be used: not gzip'd JSON, damaged, of another kind,
    of a format version this release does not read, or missing a field."""


def format_name(kind: str, version: int) -> str:
    """The ``format`` field of a ``kind`` file at ``version``: ``samestory-KIND/VERSION``."""
    return f"samestory-{kind}/{version}"


def save_artifact(path: str | Path, kind: str, payload: Mapping[str, Any], version: int) -> None:
    """Write ``payload`` (JSON-serialisable, without a ``format`` key) as a ``kind`` file
    of format ``version``. The file is replaced at once (written aside, then renamed),
    so a reader never sees half of it.

    Raises:
        ValueError: ``payload`` holds a ``format`` key.
        OSError: the file cannot be written.
    """
    if "format" in payload:
        raise ValueError("an artifact's payload cannot hold a 'format' key: save_artifact writes it")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            json.dump({"format": format_name(kind, version), **payload}, fh)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_artifact(path: str | Path | Traversable, kind: str, versions: Collection[int],
                  required: Collection[str] = (), legacy: LegacyHook | None = None) -> tuple[int, dict[str, Any]]:
    """Read a ``kind`` file: its format version (one of ``versions``) and its document
    (the ``format`` field removed).

    Args:
        path: a file path, or a packaged resource (``importlib.resources``).
        kind: what the file must hold (``scorer``, ``linker``).
        versions: the format versions the caller reads.
        required: keys the document must have.
        legacy: for a document without a ``format`` field, the version its contents
            are (None: not recognised); without the hook such a document is refused.

    Raises:
        OSError: the file cannot be opened (absent, unreadable).
        ArtifactError: it can, but it is not a usable ``kind`` file (see the class).
    """
    source: Path | Traversable = Path(path) if isinstance(path, str) else path
    with source.open("rb") as raw:
        try:
            with gzip.open(raw, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, EOFError, zlib.error, ValueError) as exc:   # gzip, JSON and UTF-8 errors
            raise ArtifactError(f"{path}: not a samestory {kind} file, or damaged ({exc})") from exc
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path}: not a samestory {kind} file (a JSON {type(doc).__name__}, not an object)")
    name = doc.pop("format", None)
    if name is None:
        version = legacy(doc) if legacy else None
        if version is None:
            raise ArtifactError(f"{path}: not a samestory {kind} file (no format field)")
        log.debug("%s: a %s file from before format names, read as version %d", path, kind, version)
    else:
        family, _, number = str(name).partition("/")
        if family != f"samestory-{kind}" or not number.isdigit():
            raise ArtifactError(f"{path}: not a samestory {kind} file (format {name!r})")
        version = int(number)
    if version not in versions:
        readable = ", ".join(str(v) for v in sorted(versions))
        raise ArtifactError(f"{path}: samestory {kind} format version {version}; this release reads {readable}")
    if missing := [key for key in required if key not in doc]:
        raise ArtifactError(f"{path}: samestory {kind} file without {', '.join(missing)}")
    return version, doc
