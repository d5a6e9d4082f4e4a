"""Dates and numbers an article mentions, normalised so that two languages can agree.

Dates become ``YYYY``, ``MM-DD``, ``YYYY-MM-DD`` or ``weekday:N`` keys; month and
weekday names are recognised in the task's cased languages, ``1月11日`` in Chinese.
Numbers become canonical decimals (thousands separators of either convention).
"""
from __future__ import annotations

import re

from samestory.signals.normalize import ascii_digits

_MONTHS = {
    # en, de, es, fr, it, pl (nominative and genitive), tr, ru (nominative and genitive)
    1: "january jan januar enero janvier gennaio styczeń stycznia ocak январь января",
    2: "february feb februar febrero février febbraio luty lutego şubat февраль февраля",
    3: "march mar märz marzo mars marzo marzec marca mart март марта",
    4: "april apr abril avril aprile kwiecień kwietnia nisan апрель апреля",
    5: "may mai mayo mai maggio maj maja mayıs май мая",
    6: "june jun juni junio juin giugno czerwiec czerwca haziran июнь июня",
    7: "july jul juli julio juillet luglio lipiec lipca temmuz июль июля",
    8: "august aug august agosto août agosto sierpień sierpnia ağustos август августа",
    9: "september sep sept september septiembre septembre settembre wrzesień września eylül сентябрь сентября",
    10: "october oct oktober octubre octobre ottobre październik października ekim октябрь октября",
    11: "november nov november noviembre novembre novembre listopad listopada kasım ноябрь ноября",
    12: "december dec dezember diciembre décembre dicembre grudzień grudnia aralık декабрь декабря",
}
_WEEKDAYS = {
    0: "monday montag lunes lundi lunedì poniedziałek pazartesi понедельник",
    1: "tuesday dienstag martes mardi martedì wtorek salı вторник",
    2: "wednesday mittwoch miércoles mercredi mercoledì środa çarşamba среда среду",
    3: "thursday donnerstag jueves jeudi giovedì czwartek perşembe четверг",
    4: "friday freitag viernes vendredi venerdì piątek cuma пятница пятницу",
    5: "saturday samstag sábado samedi sabato sobota cumartesi суббота субботу",
    6: "sunday sonntag domingo dimanche domenica niedziela pazar воскресенье",
}
_MONTH_OF = {w: m for m, ws in _MONTHS.items() for w in ws.split()}
_WEEKDAY_OF = {w: d for d, ws in _WEEKDAYS.items() for w in ws.split()}
_MONTH_WORD = "|".join(sorted(map(re.escape, _MONTH_OF), key=len, reverse=True))
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\.?\s+(?:de\s+)?({_MONTH_WORD})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH_WORD})\.?\s+(\d{{1,2}})\b(?!\d)", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_CJK_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
_YEAR = re.compile(r"(?<![\d.,])(19[5-9]\d|20[0-4]\d)(?![\d.,])")
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(map(re.escape, _WEEKDAY_OF)) + r")\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:([.,  ])\d{3})+(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+(?:[.,]\d+)?(?![\w])")


def extract_dates(text: str) -> list[str]:
    text = ascii_digits(text)
    found: dict[str, None] = {}

    def add_md(month: int, day: int, year: str | None = None) -> None:
        if 1 <= month <= 12 and 1 <= day <= 31:
            found[f"{month:02d}-{day:02d}"] = None
            if year:
                found[f"{year}-{month:02d}-{day:02d}"] = None

    for m in _DAY_MONTH.finditer(text):
        add_md(_MONTH_OF.get(m.group(2).lower(), 0), int(m.group(1)))
    for m in _MONTH_DAY.finditer(text):
        add_md(_MONTH_OF.get(m.group(1).lower(), 0), int(m.group(2)))
    for m in _NUMERIC_DATE.finditer(text):
        if m.group(3):
            add_md(int(m.group(2)), int(m.group(1)), m.group(3))
        else:
            add_md(int(m.group(5)), int(m.group(6)), m.group(4))
    for m in _CJK_DATE.finditer(text):
        add_md(int(m.group(2)), int(m.group(3)), m.group(1))
    for m in _YEAR.finditer(text):
        found[m.group(1)] = None
    for m in _WEEKDAY_RE.finditer(text):
        # IGNORECASE matches "SALI" to "salı", but "SALI".lower() is "sali": look both up.
        day = _WEEKDAY_OF.get(m.group(1).lower(), _WEEKDAY_OF.get(m.group(1).lower().replace("i", "ı")))
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
