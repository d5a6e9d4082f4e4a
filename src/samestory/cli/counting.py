"""How many records ``iter_records`` will yield, counted ahead where that is cheap: a pass over
the bytes that parses nothing, so that ``index add``'s progress bar has a total, a rate and an ETA."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samestory.ingest.records import folder_files


def _lines(path: Path, csv: bool, chunk: int = 1 << 20) -> int:
    """Non-blank lines; for CSV/TSV, the lines where a record ends (its quotes pair up). Read a
    megabyte at a time, so a file with no line breaks costs no more memory than any other."""
    n = quotes = 0
    filled = False              # the line so far has something besides white space
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            pieces = block.split(b"\n")
            for i, piece in enumerate(pieces):
                quotes += piece.count(b'"') if csv else 0
                filled = filled or bool(piece.strip())
                if i < len(pieces) - 1:          # a line ends here
                    if quotes % 2 == 0 and filled:
                        n += 1
                        quotes = 0
                    filled = False
    return n + (1 if filled and quotes % 2 == 0 else 0)


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
