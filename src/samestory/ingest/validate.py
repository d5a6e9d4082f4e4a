"""Validation at the door: the fields of a record checked and normalised before anything
reads them, in one place, for the CLI, the Python API and the service alike.

Nothing that fails here reaches the store: a record whose date cannot be read, lies
outside the years news is written in, or whose text has no word in it is a per-record
error (``InputError``, one line that names the field). A ``lang`` that is not a language
code is not an error: it is ignored with a note, and the language is detected instead.
"""
from __future__ import annotations

import email.utils
import logging
import math
import re
import time
from datetime import UTC, datetime, timedelta

from samestory.types import InputError

log = logging.getLogger(__name__)

#: BCP 47-like: a 2-3 letter language, then optional subtags ("en", "pt-BR", "zh-Hant-TW").
_LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
#: The earliest year a record may carry; later than now plus ``FUTURE_SLACK`` is refused too.
MIN_YEAR = 1900
#: How far in the future a date may lie (time zones, embargoed wire copy scheduled ahead).
FUTURE_SLACK = timedelta(days=2)
#: The widest UTC offset in use (UTC-12 to UTC+14).
MAX_OFFSET = timedelta(hours=14)
_YEAR = re.compile(r"(?<!\d)(?:1[89]|2[01])\d\d(?!\d)")
_WORD = re.compile(r"\w")


def language(value: object) -> tuple[str | None, str | None]:
    """A record's ``lang`` as a primary language subtag, or why it was ignored.

    Args:
        value: what the record says (any type; None or blank when it says nothing).

    Returns:
        ``(code, None)`` for a language code (``"pt-BR"`` -> ``"pt"``: samestory compares
        languages, not regions), ``(None, note)`` for a value that is not one (the language
        is then detected), and ``(None, None)`` when the record names no language (or ``und``).
    """
    if value is None:
        return None, None
    text = str(value).strip()
    if not text or text.lower() in ("und", "unknown", "none", "null"):
        return None, None
    if len(text) > 35 or not _LANG.fullmatch(text):
        return None, f"lang {text[:40]!r} is not a language code; the language was detected instead"
    return re.split(r"[-_]", text, maxsplit=1)[0].lower(), None


def parse_date(value: object, now: float | None = None) -> datetime:
    """A record's date, read strictly, as an aware UTC datetime.

    Reads epoch seconds or milliseconds (a number, or a string of one), ISO 8601, RFC 2822
    (what feeds carry), and other spellings with a four-digit year (``"March 5, 2014"``).

    Args:
        value: the date as the record gives it.
        now: the epoch time "the future" is measured from (default: the clock).

    Returns:
        The instant, in UTC.

    Raises:
        InputError: the value is not a date, its UTC offset is beyond +-14 hours, or it lies
            before ``MIN_YEAR`` or more than ``FUTURE_SLACK`` in the future.
    """
    shown = repr(str(value)[:60])
    parsed = _parse(value, shown)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        offset = parsed.utcoffset() or timedelta(0)
    except ValueError:      # an offset of a day or more ("+99:99") is no time zone at all
        offset = timedelta(days=1)
    if abs(offset) > MAX_OFFSET:
        raise InputError(f"date {shown}: time zone offset beyond +-14 hours")
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InputError(f"date {shown} is out of range ({MIN_YEAR} to now)") from None
    limit = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC) + FUTURE_SLACK
    if parsed.year < MIN_YEAR:
        raise InputError(f"date {shown} is before {MIN_YEAR}")
    if parsed > limit:
        raise InputError(f"date {shown} is more than {FUTURE_SLACK.days} days in the future")
    return parsed


def _parse(value: object, shown: str) -> datetime:
    unreadable = InputError(f"date {shown} is not a date samestory can read "
                            "(ISO 8601, RFC 2822, or epoch seconds or milliseconds)")
    if isinstance(value, bool):
        raise unreadable
    if isinstance(value, int | float):
        return _from_epoch(float(value), shown)
    text = str(value).strip()
    if not text or len(text) > 100:
        raise unreadable
    try:
        return _from_epoch(float(text), shown)
    except ValueError:
        pass
    from dateutil import parser

    try:
        return parser.isoparse(text)
    except (ValueError, OverflowError):
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    if _YEAR.search(text):   # "12" alone would read as the 12th of this month: a year is required
        try:
            return parser.parse(text)
        except (ValueError, OverflowError, parser.ParserError):
            pass
    raise unreadable


def _from_epoch(number: float, shown: str) -> datetime:
    if not math.isfinite(number):
        raise ValueError(shown)
    if abs(number) > 1e11:  # milliseconds (aggregator feeds)
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InputError(f"date {shown} is out of range ({MIN_YEAR} to now)") from None


def normalise_date(value: object) -> str | None:
    """A record's date as ISO 8601 UTC (``2024-01-01T10:00:00+00:00``); None when it has none.

    Raises:
        InputError: as ``parse_date``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and math.isnan(value):      # an empty cell, as pandas reads it
        return None
    return parse_date(value).isoformat(timespec="seconds")


def timestamp(value: str | None) -> float | None:
    """Epoch seconds of a date ``normalise_date`` accepts, or None (never raises)."""
    if not value:
        return None
    try:
        return parse_date(value).timestamp()
    except InputError:
        return None


def iso_timestamp(value: str, name: str = "since") -> float:
    """Epoch seconds of an ISO 8601 date or date-time (UTC when it gives no offset), for a
    query's bound (``--since``, ``?since=``): ``12`` or ``-1`` is refused, never read as a day
    of this month.

    Raises:
        InputError: naming ``name``, for anything else.
    """
    from dateutil.parser import isoparse

    try:
        parsed = isoparse(value.strip())
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError):
        raise InputError(f"{name}: {value[:60]!r} is not an ISO 8601 date or date-time "
                         "(e.g. 2026-02-01 or 2026-02-01T08:00:00Z)") from None


def has_words(text: str) -> bool:
    """Whether ``text`` holds at least one word character (a letter, digit or ideograph):
    ``"....."`` and a row of emoji are not articles, and two of them are not one story."""
    return _WORD.search(text) is not None


def safe_iso(ts: float | None) -> str:
    """A stored epoch time as ISO 8601 UTC; ``""`` for none or one out of range (an index
    written before validation may hold one: reading it must not fail)."""
    if ts is None:
        return ""
    try:
        return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        log.warning("a stored time %r is out of range; shown as unknown (samestory index check --repair)", ts)
        return ""
