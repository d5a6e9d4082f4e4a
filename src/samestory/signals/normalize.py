"""Script-neutral keys, so that "Грушко", "Grushko" and "Gruschko" can meet."""
from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

_NON_WORD = re.compile(r"[^a-z0-9]+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """ASCII transliteration, lower case, punctuation to single spaces."""
    return _NON_WORD.sub(" ", anyascii(text).lower()).strip()


def ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian and full-width digits to 0-9."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; each CJK character is a token of its own."""
    return [t.lower() for t in _TOKEN.findall(text)]
