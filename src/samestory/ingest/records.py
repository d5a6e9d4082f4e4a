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

from samestory.ingest.archives import from_newsplease, is_newsplease, iter_warc
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

    def missing(self, header: Sequence[str]) -> list[str]:
        """The columns named away from their defaults (``--time-col TIME``) that ``header``
        lacks, each as ``column 'TIME' (--time-col) is not in the file``: a misspelt flag is
        an error, never a field silently left empty."""
        flags = {"text": "--text-col", "title": "--title-col", "html": "--html-col", "date": "--time-col",
                 "url": "--url-col", "id": "--id-col", "lang": "--lang-col"}
        have = set(header)
        return [f"column {getattr(self, field)!r} ({flag}) is not in the file" for field, flag in flags.items()
                if getattr(self, field) != field and getattr(self, field) not in have]


@dataclass(frozen=True)
class InputRecord:
    source: str
    line: int                  # 1-based line (JSONL), row (CSV, header excluded) or 0 for a file
    record: dict[str, Any] | None
    error: str | None = None
    record_id: str | None = None    # the record's own id, kept even when the record is refused


def _read(source: str, line: int, record: dict[str, Any]) -> InputRecord:
    problem = _check(record)
    record_id = None if record.get("id") in (None, "") else str(record["id"])
    return InputRecord(source, line, None if problem else record, problem, record_id)


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115 - the caller closes it
    # utf-8-sig: a byte-order mark (spreadsheets' "CSV UTF-8") is not part of the first header or line
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".warc": "warc"}.get(last, last)


def _mapped(row: dict[str, Any], cols: Columns) -> dict[str, Any]:
    out = {}
    for field in ("text", "title", "html", "date", "url", "id", "lang"):
        value = row.get(getattr(cols, field), row.get(field))
        if value not in (None, ""):
            out[field] = value
    if row.get("replaces") not in (None, ""):      # an update of a stored version (its content id)
        out["replaces"] = row["replaces"]
    return out


def _check(record: dict[str, Any]) -> str | None:
    if not any(isinstance(record.get(k), str) and record[k].strip() for k in ("text", "html", "title")):
        return "no text, html or title"
    return None


class _LineTooLong(Exception):
    pass


class _CsvLines:
    """A CSV file's lines for ``csv.reader``, each read up to ``limit`` characters, counting
    the quote characters since the record in progress began (``quotes``; the caller sets it
    to 0 at each record's start), so that after a bad record reading can go on at its end."""

    def __init__(self, fh: io.TextIOBase, limit: int = MAX_BYTES) -> None:
        self.fh, self.limit, self.quotes = fh, limit, 0

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        """The next line. Raises ``_LineTooLong`` for a longer line, after skipping the rest
        of it a piece at a time (its quotes counted), so memory stays bounded."""
        line = self.fh.readline(self.limit + 1)
        if not line:
            raise StopIteration
        self.quotes += line.count('"')
        if len(line) > self.limit:
            while line and not line.endswith(("\n", "\r")):
                line = self.fh.readline(self.limit)
                self.quotes += line.count('"')
            raise _LineTooLong(f"a line longer than {self.limit:,} characters")
        return line

    def skip_record(self) -> int | None:
        """Skip to the end of the record in progress: the end of the first line where its
        quotes pair up (a ``""`` escape counts two, so it changes nothing). Returns how many
        lines (or pieces of a long one) were skipped, or None if the file ends first (the
        record's quoted field never closes)."""
        skipped = 0
        while self.quotes % 2:
            line = self.fh.readline(self.limit)
            if not line:
                return None
            skipped += 1
            self.quotes += line.count('"')
        return skipped


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
        yield n + 1, None, _breaks_off(exc)


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
        yield _read(str(path), n, _mapped(from_newsplease(obj) if is_newsplease(obj) else obj, cols))


def _breaks_off(exc: BaseException) -> str:
    return f"file breaks off here ({exc.__class__.__name__}: {exc or 'truncated'})"


def _csv_problem(exc: Exception) -> str:
    if isinstance(exc, _LineTooLong) or "larger than field limit" in str(exc):
        return f"record over the {MAX_BYTES:,}-character limit ({exc})"
    return f"unreadable CSV row: {exc}"


def _csv(path: Path, cols: Columns, delimiter: str) -> Iterator[InputRecord]:
    """Rows (counted after the header; blank lines are not rows). A bad row (over the size
    limit, malformed) is an error at its row, and reading goes on after its end; a quote
    that never closes is an error from its row on."""
    name = str(path)
    with _open_text(path) as fh:
        lines = _CsvLines(fh)
        # strict: an unclosed quote is an error at its row, not the rest of the file in one field
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        wanted = {cols.text, cols.title, cols.html}
        try:
            header = next(reader, None)
        except (csv.Error, _LineTooLong, EOFError, OSError, zlib.error) as exc:
            yield InputRecord(name, 0, None, f"unreadable CSV header: {exc}")
            return
        if header is None:
            yield InputRecord(name, 0, None, "empty file: no header row, no records")
            return
        if not wanted & set(header):
            yield InputRecord(name, 0, None, f"no text column: expected one of {sorted(wanted)}, found {header}")
            return
        missing = cols.missing(header)
        if missing:
            yield InputRecord(name, 0, None, f"{'; '.join(missing)}: the columns are {header}")
            return
        n = 0
        while True:
            lines.quotes = 0
            try:
                row = next(reader, None)
            except (csv.Error, _LineTooLong) as exc:
                n += 1
                try:
                    resumed = lines.skip_record()
                except (EOFError, OSError, zlib.error) as broke:
                    yield InputRecord(name, n, None, f"{_csv_problem(exc)}; then the {_breaks_off(broke)}")
                    return
                if resumed is None:
                    hint = " (an unclosed quote?)" if "unexpected end of data" in str(exc) else ""
                    yield InputRecord(name, n, None,
                                      f"unreadable CSV from this row on: {exc}{hint}; the rows after it are not read")
                    return
                more = f"; it runs on {resumed:,} more line(s), to where its quotes pair up" if resumed else ""
                yield InputRecord(name, n, None, _csv_problem(exc) + more)
                reader = csv.reader(lines, delimiter=delimiter, strict=True)   # on from the next record
                continue
            except (EOFError, OSError, zlib.error) as exc:
                yield InputRecord(name, n + 1, None, _breaks_off(exc))
                return
            if row is None:
                return
            if not row:       # a blank line
                continue
            n += 1
            if len(row) > len(header):
                yield InputRecord(name, n, None, "row has more fields than the header")
                continue
            values: list[str | None] = [*row, *[None] * (len(header) - len(row))]
            yield _read(name, n, _mapped(dict(zip(header, values, strict=True)), cols))


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


_OUTSIDE = "symbolic link to a file outside the folder (use --follow-symlinks to read it)"


def folder_files(folder: Path, follow_symlinks: bool = False) -> list[tuple[Path, str | None]]:
    """The files under ``folder``, sorted, each with None or why it is not read.

    A symbolic link (to a file or a folder) whose target lies outside ``folder`` is not
    followed unless ``follow_symlinks``; it comes back with the reason. A folder reached
    twice (a link cycle, or two links to it) is walked once; an entry that is not a
    regular file (a pipe, a device) or a link that cannot be resolved comes back as an error."""
    root = folder.resolve()
    out: list[tuple[Path, str | None]] = []
    seen: set[Path] = set()
    todo = [folder]
    while todo:
        here = todo.pop()
        real = here.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = list(here.iterdir())
        except OSError as exc:
            out.append((here, f"unreadable folder ({exc.strerror or exc})"))
            continue
        for entry in entries:
            try:
                target = entry.resolve()
                is_dir, is_file = target.is_dir(), target.is_file()
            except (OSError, RuntimeError) as exc:      # RuntimeError: a link loop (Python < 3.13)
                out.append((entry, f"unreadable symbolic link ({exc})"))
                continue
            if entry.is_symlink() and not follow_symlinks and not target.is_relative_to(root):
                out.append((entry, _OUTSIDE))
            elif is_dir:
                todo.append(entry)
            elif is_file or not target.exists():      # a broken link: reading it says "no such file"
                out.append((entry, None))
            else:
                out.append((entry, "not a regular file"))
    return sorted(out, key=lambda item: item[0])


def iter_records(inputs: Sequence[str | Path], cols: Columns = Columns(),
                 follow_symlinks: bool = False) -> Iterator[InputRecord]:
    """Each input: a file (by suffix, optionally .gz) or a folder (walked, sorted).

    Args:
        inputs: files and folders, read in this order.
        cols: which fields hold the text, title and the rest.
        follow_symlinks: in a folder, read symbolic links whose target lies outside it
            (by default such a link is an error record, so a folder cannot pull in
            /etc/shadow); a link named as an input itself is always read.

    Returns:
        Every record once, in order: read, or with the reason it could not be.
    """
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for file, problem in folder_files(path, follow_symlinks):
                if problem is None:
                    yield from iter_records([file], cols)
                else:
                    yield InputRecord(str(file), 0, None, problem)
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
        elif kind == "warc":     # web archives (CC-NEWS): one record per HTML response, URL and WARC-Date kept
            for n, page, problem, url in iter_warc(path, MAX_BYTES):
                yield InputRecord(str(path), n, page, problem, url)
        else:
            yield InputRecord(str(path), 0, None, f"unsupported input type {''.join(path.suffixes) or '(none)'}")
