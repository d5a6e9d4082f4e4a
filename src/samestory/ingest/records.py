"""Many records from many inputs: JSONL, CSV/TSV, a folder of .txt/.html/.json
files, and gzip of any of these.

Every input record comes out exactly once, as an ``InputRecord`` that carries
either a raw record or the reason it could not be read, with its source and line
number, so a malformed line is reported and never stops the run.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samestory.ingest.read import MAX_BYTES, record_from_bytes
from samestory.types import InputError

_FILE_SUFFIXES = {".txt", ".html", ".htm", ".json"}
# One record is read up to MAX_BYTES (characters, here): a longer line or field is an error, so
# memory stays bounded whatever the file holds (an unclosed quote, a 1 GB line).
csv.field_size_limit(MAX_BYTES)


@dataclass(frozen=True)
class Columns:
    """Which CSV/JSONL fields hold what (JSONL records may also use the defaults)."""

    text: str = "text"
    title: str = "title"
    html: str = "html"
    date: str = "date"
    url: str = "url"
    id: str = "id"
    lang: str = "lang"


@dataclass(frozen=True)
class InputRecord:
    source: str
    line: int                  # 1-based line (JSONL), row (CSV, header excluded) or 0 for a file
    record: dict[str, Any] | None
    error: str | None = None
    user_id: str | None = None    # the record's own id, kept even when the record is refused


def _read(source: str, line: int, record: dict[str, Any]) -> InputRecord:
    problem = _check(record)
    user_id = None if record.get("id") in (None, "") else str(record["id"])
    return InputRecord(source, line, None if problem else record, problem, user_id)


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115 - the caller closes it
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}.get(last, last)


def _mapped(row: dict[str, Any], cols: Columns) -> dict[str, Any]:
    out = {}
    for field in ("text", "title", "html", "date", "url", "id", "lang"):
        value = row.get(getattr(cols, field), row.get(field))
        if value not in (None, ""):
            out[field] = value
    return out


def _check(record: dict[str, Any]) -> str | None:
    if not any(isinstance(record.get(k), str) and record[k].strip() for k in ("text", "html", "title")):
        return "no text, html or title"
    return None


class _LineTooLong(Exception):
    pass


def _bounded(fh: io.TextIOBase, limit: int = MAX_BYTES) -> Iterator[str]:
    """The file's lines, each read up to ``limit`` characters; a longer one raises."""
    while line := fh.readline(limit + 1):
        if len(line) > limit:
            raise _LineTooLong(f"a line longer than {limit:,} characters")
        yield line


def _lines(path: Path) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, line, None) for each line, or (n, None, reason) for a line over
    the size limit (skipped, and reading goes on) or where the file breaks off
    (a truncated or damaged .gz: what came before it still counts; the last item)."""
    n = 0
    try:
        with _open_text(path) as fh:
            while True:
                line = fh.readline(MAX_BYTES + 1)
                if not line:
                    return
                n += 1
                if len(line) > MAX_BYTES:
                    while line and not line.endswith("\n"):      # skip the rest of it, a piece at a time
                        line = fh.readline(MAX_BYTES)
                    yield n, None, f"record over the {MAX_BYTES:,}-character limit"
                    continue
                yield n, line, None
    except (EOFError, OSError, zlib.error) as exc:
        yield n + 1, None, f"file breaks off here ({exc.__class__.__name__}: {exc or 'truncated'})"


def _jsonl(path: Path, cols: Columns) -> Iterator[InputRecord]:
    for n, line, problem in _lines(path):
        if line is None:
            yield InputRecord(str(path), n, None, problem)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputRecord(str(path), n, None, f"invalid JSON: {exc.msg}")
            continue
        except RecursionError:
            yield InputRecord(str(path), n, None, "invalid JSON: nested too deeply")
            continue
        if not isinstance(obj, dict):
            yield InputRecord(str(path), n, None, "JSON line is not an object")
            continue
        yield _read(str(path), n, _mapped(obj, cols))


def _csv(path: Path, cols: Columns, delimiter: str) -> Iterator[InputRecord]:
    with _open_text(path) as fh:
        # strict: an unclosed quote is an error at its row, not the rest of the file in one field
        reader = csv.DictReader(_bounded(fh), delimiter=delimiter, strict=True)
        wanted = {cols.text, cols.title, cols.html}
        try:
            header = reader.fieldnames
        except (csv.Error, _LineTooLong, EOFError, OSError, zlib.error) as exc:
            yield InputRecord(str(path), 0, None, f"unreadable CSV header: {exc}")
            return
        if header is None or not wanted & set(header):
            yield InputRecord(str(path), 0, None,
                              f"no text column: expected one of {sorted(wanted)}, found {header}")
            return
        n = 0
        try:
            for n, row in enumerate(reader, 1):
                if None in row:  # more fields than the header
                    yield InputRecord(str(path), n, None, "row has more fields than the header")
                    continue
                yield _read(str(path), n, _mapped(row, cols))
        except (csv.Error, _LineTooLong) as exc:
            hint = " (an unclosed quote?)" if "unexpected end of data" in str(exc) else ""
            yield InputRecord(str(path), n + 1, None,
                              f"unreadable CSV from this row on: {exc}{hint}; the rows after it are not read")
        except (EOFError, OSError, zlib.error) as exc:
            yield InputRecord(str(path), n + 1, None,
                              f"file breaks off here ({exc.__class__.__name__}: {exc or 'truncated'})")


def _file(path: Path) -> Iterator[InputRecord]:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
        suffix = Path(path.stem).suffix if path.suffix == ".gz" else path.suffix
        record = record_from_bytes(data, str(path), suffix)
        record.pop("_format", None)
        yield InputRecord(str(path), 0, record)
    except (InputError, OSError) as exc:
        yield InputRecord(str(path), 0, None, str(exc))


def iter_records(inputs: Sequence[str | Path], cols: Columns = Columns()) -> Iterator[InputRecord]:
    """Each input: a file (by suffix, optionally .gz) or a folder (walked, sorted)."""
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            yield from iter_records([str(p) for p in files], cols)
            continue
        if not path.exists():
            yield InputRecord(str(path), 0, None, "no such file")
            continue
        kind = _kind(path)
        if kind == "jsonl":
            yield from _jsonl(path, cols)
        elif kind in ("csv", "tsv"):
            yield from _csv(path, cols, "\t" if kind == "tsv" else ",")
        elif kind in _FILE_SUFFIXES:
            yield from _file(path)
        else:
            yield InputRecord(str(path), 0, None, f"unsupported input type {''.join(path.suffixes) or '(none)'}")
