"""The command line's shared arguments: value types, input and engine flags, ``--db`` and ``--format``.

Every command that prints takes one ``--format`` (a subset of ``text``, ``json``, ``jsonl``,
``csv``; ``text`` is the default); ``json`` is exactly one JSON object on one line of standard
output. ``--json`` is a deprecated alias of ``--format json`` (a note on standard error).
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from samestory.cli.deprecated import note
from samestory.types import InputError

#: The environment variable that names the index when ``--db`` is not given.
DB_ENV = "SAMESTORY_DB"

_FORMAT_HELP = {
    "text": "the default, for people",
    "json": "one JSON object on one line",
    "jsonl": "a JSON object a line, one per {unit}",
    "csv": "a header row, then a row per {unit}",
}


def positive_int(value: str) -> int:
    """argparse type: a whole number of at least 1 (a count, a size)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: must be 1 or more")
    return number


def port_number(value: str) -> int:
    """argparse type: a TCP port, 1 to 65535."""
    number = positive_int(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value!r}: a port is 1 to 65535")
    return number


def seconds(value: str) -> float:
    """argparse type: a finite number of seconds, 0 or more."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 <= number < float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r}: must be 0 or more seconds")
    return number


def iso_date(value: str) -> float:
    """argparse type: an ISO 8601 date or date-time as seconds since the epoch (``ingest.iso_timestamp``)."""
    from samestory.ingest import iso_timestamp

    try:
        return iso_timestamp(value, "--since")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _JsonAlias(argparse.Action):
    """``--json``: sets ``format`` to ``json`` and says, on standard error, that it is deprecated."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        note("--json", "--format json")
        setattr(namespace, self.dest, "json")


def _format_type(formats: Sequence[str], legacy: dict[str, str | None]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value in formats:
            return value
        if value in legacy:
            new = legacy[value]
            if new is None:            # the command itself says what became of it
                return value
            note(f"--format {value}", f"--format {new}")
            return new
        raise argparse.ArgumentTypeError(f"{value!r}: choose from {', '.join(formats)}")
    return parse


def format_flag(p: argparse.ArgumentParser, formats: Sequence[str], unit: str = "record",
                legacy: dict[str, str | None] | None = None, also: str = "", csv_unit: str = "") -> None:
    """Add ``--format`` (the given formats, ``text`` the default) and, where ``json`` is one of them,
    the deprecated ``--json``.

    Args:
        p: the command's parser.
        formats: what the command can print, ``text`` first.
        unit: what one line of ``jsonl`` or one row of ``csv`` is (``story``, ``article``).
        legacy: older values still accepted: each maps to its new value (a note on standard error),
            or to None when the command handles the old value itself.
        also: a last sentence for the help.
        csv_unit: what one row of ``csv`` is, when not ``unit``.
    """
    said = ", ".join(f"{f} ({_FORMAT_HELP[f].format(unit=csv_unit or unit if f == 'csv' else unit)})"
                     for f in formats)
    p.add_argument("--format", type=_format_type(formats, legacy or {}), default=formats[0],
                   metavar="{" + ",".join(formats) + "}",
                   help=f"what standard output carries: {said}{'; ' + also if also else ''}")
    if "json" in formats:
        p.add_argument("--json", action=_JsonAlias, nargs=0, dest="format", help=argparse.SUPPRESS)


def db_flag(p: argparse.ArgumentParser, what: str = "the index") -> None:
    """Add ``--db``; ``index_path`` fills it from ``SAMESTORY_DB`` when it is not given."""
    p.add_argument("--db", metavar="PATH", help=f"{what} (SQLite; PATH.usearch beside it) "
                                                f"(default: ${DB_ENV})")


def index_path(args: argparse.Namespace) -> None:
    """Fill ``args.db`` from ``SAMESTORY_DB`` when the command takes ``--db`` and none was given.

    Raises:
        InputError: neither ``--db`` nor ``SAMESTORY_DB`` names an index (the command exits 2).
    """
    if "db" in vars(args) and not args.db:
        args.db = os.environ.get(DB_ENV) or None
        if not args.db:
            raise InputError(f"no index: give --db PATH or set {DB_ENV}")


def input_flags(p: argparse.ArgumentParser, optional: bool = False) -> None:
    """INPUTS and the flags that say how to read them (fields, batch size, ``--report``)."""
    p.add_argument("inputs", nargs="*" if optional else "+",
                   help="JSONL, CSV/TSV, .txt/.html/.json files, folders, or .gz of these")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="in folders, read symbolic links to files outside the folder (default: reported, not read)")
    p.add_argument("--text-col", default="text", help="CSV/JSONL field with the body (default: text)")
    p.add_argument("--title-col", default="title", help="field with the headline (default: title)")
    p.add_argument("--time-col", default="date", help="field with the date or epoch time (default: date)")
    p.add_argument("--id-col", default="id", help="field with the record's own id (default: id)")
    p.add_argument("--url-col", default="url")
    p.add_argument("--lang-col", default="lang")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--report", help="write one JSON line per input record (added / exists / error) here")


def engine_flags(p: argparse.ArgumentParser) -> None:
    """``--engine`` and the Ray cluster's address and workers."""
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="where the per-article stages run: this process (default) or a Ray cluster "
                        "(needs samestory[ray])")
    p.add_argument("--ray-address", help="Ray cluster to join (default: $RAY_ADDRESS, else a local Ray cluster "
                                         "with this machine's CPUs)")
    p.add_argument("--ray-workers", type=positive_int, help="encoder actors (default: one per cluster CPU)")


def lock_flag(p: argparse.ArgumentParser) -> None:
    """``--lock-timeout``: how long a writer waits for another."""
    p.add_argument("--lock-timeout", type=seconds, default=30.0, metavar="SECONDS",
                   help="wait this long for another writer of the index to finish, then give up "
                        "(exit 75; the service answers 503) (default 30)")


def age_or_date(value: str) -> float:
    """argparse type for ``--older-than``: an age (``90d``, ``12h``) counted back from now, or an
    ISO 8601 date or date-time; seconds since the epoch."""
    import time

    from samestory.sources.settings import duration

    try:
        return time.time() - duration(value)
    except ValueError:
        pass
    try:
        return iso_date(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{value!r} is neither an age (90d, 12h) nor an ISO 8601 date") from None


def hot_days_flag(p: argparse.ArgumentParser) -> None:
    """``--hot-days``: the writer's in-memory window."""
    p.add_argument("--hot-days", type=float, default=None, metavar="DAYS",
                   help="keep in the writer's memory only stories active in the last DAYS of news (by the newest "
                        "article's date); older articles are answered from disk (default: the 3-day story window "
                        "plus a day)")
