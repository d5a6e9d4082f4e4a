"""Read raw records from files or standard input, with limits and clear errors.

A record is a plain mapping (``text`` or ``html``, optional ``title``, ``date``,
``url``, ``lang``, ``id``); ``clean.clean_record`` turns it into an ``Article``.
"""
from __future__ import annotations

import codecs
import json
import sys
from pathlib import Path
from typing import Any

from samestory.ingest.archives import from_newsplease, is_newsplease
from samestory.types import InputError

#: Bytes read from one article file; a larger file is read up to here and the
#: cleaning report records what was left out.
MAX_BYTES = 5_000_000
_HTML_HINTS = ("<html", "<!doctype html", "<body", "<article", "<p>", "<div", "<head")


#: What a file that is not text is, by its first bytes (its "magic number").
_MAGIC = ((b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (or a .docx/.odt document)"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"), (b"\x1f\x8b", "gzip data (name it .gz)"),
          (b"RIFF", "a RIFF file (image, sound or video)"), (b"\x7fELF", "a program"))


def _decode(data: bytes, name: str) -> str:
    """Text from bytes: UTF-8 (a leading byte-order mark dropped), else cp1252.
    Raises ``InputError`` for an empty or binary input, naming what it is when its first
    bytes say (a PDF, an image, a ZIP or Office document)."""
    data = data.removeprefix(codecs.BOM_UTF8)
    if not data.strip():
        raise InputError(f"{name}: empty input")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{name}: {what}, not text, HTML or JSON (extract its text first)")
    sample = data[:8192]
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise InputError(f"{name}: binary file, not text, HTML or JSON")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Legacy single-byte pages still occur; cp1252 decodes any byte string
        # and ftfy repairs what it gets wrong later.
        return data.decode("cp1252", errors="replace")


def looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return any(h in head for h in _HTML_HINTS)


def record_from_json(obj: Any, name: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InputError(f"{name}: JSON must be an object with a 'text' or 'html' field")
    if is_newsplease(obj):      # news-please's output: maintext, date_publish, language, url
        obj = from_newsplease(obj)
    if not any(isinstance(obj.get(k), str) and obj[k].strip() for k in ("text", "html")):
        raise InputError(f"{name}: JSON object has no non-empty 'text' or 'html' field")
    return {**obj, "_format": "json"}


def record_from_bytes(data: bytes, name: str, suffix: str = "", max_bytes: int = MAX_BYTES,
                      total_size: int | None = None) -> dict[str, Any]:
    """Bytes of one article (``total_size`` when ``data`` is already a prefix)."""
    truncated = max(0, (total_size or len(data)) - min(len(data), max_bytes))
    text = _decode(data[:max_bytes], name)
    suffix = suffix.lower()
    if suffix == ".json" or (not suffix and text.lstrip().startswith("{")):
        if truncated:
            raise InputError(f"{name}: JSON file over the {max_bytes:,}-byte limit")
        try:
            record = record_from_json(json.loads(text), name)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise InputError(f"{name}: invalid JSON (nested too deeply)") from None
    elif suffix in (".html", ".htm") or looks_like_html(text):
        record = {"html": text, "_format": "html"}
    else:
        record = {"text": text, "_format": "text"}
    record["_truncated_bytes"] = truncated
    record.setdefault("id", name)
    return record


def read_record(source: str, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """A file path, or ``-`` for standard input, to a raw record."""
    if source == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        return record_from_bytes(data, "<stdin>", max_bytes=max_bytes)
    path = Path(source)
    if not path.exists():
        raise InputError(f"{source}: no such file")
    if not path.is_file():
        raise InputError(f"{source}: not a regular file")
    with path.open("rb") as fh:
        data = fh.read(max_bytes)
    return record_from_bytes(data, source, path.suffix, max_bytes, total_size=path.stat().st_size)
