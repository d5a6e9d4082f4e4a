"""How many records ``iter_records`` will yield, counted ahead where that is cheap: a pass over
the bytes that parses nothing, so that ``index add``'s progress bar has a total, a rate and an ETA."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samestory.ingest.records import folder_files


def _lines(path: Path, csv: bool) -> int:
    """Non-blank lines; for CSV/TSV, the lines where a record ends (its quotes pair up)."""
    n = quotes = 0
    with path.open("rb") as fh:
        for line in fh:
            quotes += line.count(b'"') if csv else 0
            if quotes % 2 == 0 and line.strip():
                n += 1
                quotes = 0
    return n


def _count_file(path: Path) -> int | None:
    suffixes = [s.lower() for s in path.suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".ndjson"):
        return _lines(path, csv=False)
    if last in (".csv", ".tsv"):
        rows = _lines(path, csv=True)
        return rows - 1 if rows else 1       # less the header; an empty file is one error record
    if last == ".gz" or last == ".warc":
        return None
    return 1        # a file read whole, or an unsupported one: one record (an article or an error)


def count_records(inputs: Sequence[str | Path], follow_symlinks: bool = False) -> int | None:
    """How many records ``iter_records(inputs)`` yields, or None where counting is not cheap
    (a .gz or a web archive, standard input) or fails (the reader will say why).

    Lines of JSONL, rows of CSV and TSV after the header (a quoted field may span lines), one
    per other file, and the files in folders, recursively. A CSV whose header names no text
    column counts its rows though the reader gives one error: the count is for a progress bar."""
    total = 0
    try:
        for item in inputs:
            if str(item) == "-":
                return None
            path = Path(item)
            if path.is_dir():
                for file, problem in folder_files(path, follow_symlinks):
                    found = 1 if problem is not None else _count_file(file)
                    if found is None:
                        return None
                    total += found
                continue
            if not path.exists():
                total += 1
                continue
            found = _count_file(path)
            if found is None:
                return None
            total += found
    except OSError:
        return None
    return total
