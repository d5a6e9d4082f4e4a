"""Dates and numbers an article mentions, normalised so that two languages can agree.

Dates become ``YYYY``, ``MM-DD``, ``YYYY-MM-DD`` or ``weekday:N`` keys; month and
weekday names (CLDR's, through Babel) are recognised in the task's cased languages,
``1月11日`` in Chinese.
Numbers become canonical decimals (thousands separators of either convention).
"""
from __future__ import annotations

import re
from functools import cache

from samestory.signals.normalize import ascii_digits

#: The task's cased languages: month and weekday names come from CLDR (Babel), in
#: both of its contexts (``format``: Polish "stycznia", Russian "января";
#: ``stand-alone``: "styczeń", "январь").
_LOCALES = ("en", "de", "es", "fr", "it", "pl", "tr", "ru")
#: Russian weekdays after "в": the accusative, which CLDR does not list.
_RU_ACCUSATIVE = {"среду": 2, "пятницу": 4, "субботу": 5}


def _cldr_names() -> tuple[dict[str, int], dict[str, int]]:
    """Month and weekday names (lower case) to their numbers, from Babel's CLDR data."""
    from babel.dates import get_day_names, get_month_names

    month_of: dict[str, int] = {}
    weekday_of: dict[str, int] = {}
    for locale in _LOCALES:
        for context in ("format", "stand-alone"):
            month_of.update((name.lower(), m) for m, name in get_month_names("wide", context, locale).items())
            weekday_of.update((name.lower(), d) for d, name in get_day_names("wide", context, locale).items())
    # English abbreviations ("Jan", "Sept"); other languages' are too often words.
    for locale in ("en", "en_GB"):
        month_of.update((name.lower().rstrip("."), m)
                        for m, name in get_month_names("abbreviated", "format", locale).items())
    weekday_of.update(_RU_ACCUSATIVE)
    return month_of, weekday_of


@cache
def _names() -> tuple[dict[str, int], dict[str, int], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Month and weekday names to numbers, and the patterns that find them. The names
    are read from Babel once (its locale data takes about half a second to load) and
    kept as JSON in samestory's cache folder, keyed by Babel's version and the locales."""
    import hashlib
    import json
    from importlib import metadata

    from samestory.embed.base import cache_dir, save_derived

    key = hashlib.sha256(json.dumps([metadata.version("babel"), _LOCALES, _RU_ACCUSATIVE]).encode()).hexdigest()
    path = cache_dir() / f"date-names-{key[:16]}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        month_of = {str(k): int(v) for k, v in doc["months"].items()}
        weekday_of = {str(k): int(v) for k, v in doc["weekdays"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):   # absent or damaged: read Babel again
        month_of, weekday_of = _cldr_names()
        doc = {"months": month_of, "weekdays": weekday_of}
        save_derived(path, lambda tmp: tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8"),
                     cost="month and weekday names are read from Babel on every start")
    month_word = "|".join(sorted(map(re.escape, month_of), key=len, reverse=True))
    day_month = re.compile(rf"\b(\d{{1,2}})\.?\s+(?:de\s+)?({month_word})\b", re.IGNORECASE)
    month_day = re.compile(rf"\b({month_word})\.?\s+(\d{{1,2}})\b(?!\d)", re.IGNORECASE)
    weekday = re.compile(r"\b(" + "|".join(sorted(map(re.escape, weekday_of), key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)
    return month_of, weekday_of, day_month, month_day, weekday


_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_CJK_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
_YEAR = re.compile(r"(?<![\d.,])(19[5-9]\d|20[0-4]\d)(?![\d.,])")
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:([.,  ])\d{3})+(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+(?:[.,]\d+)?(?![\w])")


def extract_dates(text: str) -> list[str]:
    text = ascii_digits(text)
    month_of, weekday_of, day_month, month_day, weekday = _names()
    found: dict[str, None] = {}

    def add_md(month: int, day: int, year: str | None = None) -> None:
        if 1 <= month <= 12 and 1 <= day <= 31:
            found[f"{month:02d}-{day:02d}"] = None
            if year:
                found[f"{year}-{month:02d}-{day:02d}"] = None

    for m in day_month.finditer(text):
        add_md(month_of.get(m.group(2).lower(), 0), int(m.group(1)))
    for m in month_day.finditer(text):
        add_md(month_of.get(m.group(1).lower(), 0), int(m.group(2)))
    for m in _NUMERIC_DATE.finditer(text):
        if m.group(3):
            add_md(int(m.group(2)), int(m.group(1)), m.group(3))
        else:
            add_md(int(m.group(5)), int(m.group(6)), m.group(4))
    for m in _CJK_DATE.finditer(text):
        add_md(int(m.group(2)), int(m.group(3)), m.group(1))
    for m in _YEAR.finditer(text):
        found[m.group(1)] = None
    for m in weekday.finditer(text):
        # IGNORECASE matches "SALI" to "salı", but "SALI".lower() is "sali": look both up.
        day = weekday_of.get(m.group(1).lower(), weekday_of.get(m.group(1).lower().replace("i", "ı")))
        if day is not None:
            found[f"weekday:{day}"] = None
    return list(found)


def _canonical(raw: str, group_sep: str | None) -> str | None:
    s = raw.replace("\u00a0", " ").replace("\u202f", " ")
    if group_sep:
        s = s.replace(group_sep, "")
    s = s.replace(" ", "").replace(",", ".")
    if s.count(".") > 1:
        return None
    try:
        value = float(s)
    except ValueError:
        return None
    return f"{value:g}"


def extract_numbers(text: str) -> list[str]:
    """Distinct numbers of two or more digits, years and day-of-month excluded."""
    text = ascii_digits(text)
    years = {m.group(1) for m in _YEAR.finditer(text)}
    found: dict[str, None] = {}
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        if raw in years or sum(ch.isdigit() for ch in raw) < 2:
            continue
        value = _canonical(raw, m.group(1))
        if value is not None:
            found[value] = None
    return list(found)
