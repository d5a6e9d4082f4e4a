"""Pages from web archives and from other scrapers: WARC files (``.warc``, ``.warc.gz``, as
CC-NEWS ships them, read with warcio) and news-please's JSON output; and the one way
samestory turns a fetched HTML page into a record (``page_record``), which ``samestory
follow`` uses too.

A page is extracted once, here (trafilatura, as for any HTML record), so its date can fall
back on what the archive or the feed says (``WARC-Date``, a feed's ``pubDate``) only when
the page itself carries none.
"""
from __future__ import annotations

import codecs
import logging
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from samestory.ingest.clean import extract_html
from samestory.ingest.validate import normalise_date
from samestory.types import InputError

log = logging.getLogger(__name__)

#: news-please's fields; an object with ``maintext`` and two more of them is news-please output.
NEWSPLEASE_FIELDS = ("maintext", "date_publish", "title", "language", "url")
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_TAG = re.compile(r"<(html|link|meta)\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HEAD_CHARS = 200_000
#: Characters of text below which a page's declared language is taken rather than detected.
SHORT_TEXT = 200
#: One WARC line number per record: the n-th record of the file (requests and metadata count too).
WarcItem = tuple[int, dict[str, Any] | None, str | None, str | None]


def _strict(body: bytes, charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return body.decode(codecs.lookup(charset).name)
    except (LookupError, UnicodeDecodeError):
        return None


def decode_page(body: bytes, declared: str | None = None) -> str:
    """A page's text from its bytes, whatever its headers claim: UTF-8 if the bytes are UTF-8
    (a wrong or missing charset is common, and UTF-8 does not decode by accident), else the
    charset the server declared, else the page's ``<meta charset>``, else cp1252 (which
    decodes any bytes; ftfy mends what it gets wrong later)."""
    body = body.removeprefix(codecs.BOM_UTF8)
    meta = _META_CHARSET.search(body[:4096])
    for charset in ("utf-8", declared, meta.group(1).decode("ascii", "replace") if meta else None):
        text = _strict(body, charset)
        if text is not None:
            return text
    return body.decode("cp1252", errors="replace")


def _attributes(raw: str) -> dict[str, str]:
    return {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None) for m in _ATTR.finditer(raw)}


def head_meta(html: str) -> tuple[str | None, str | None]:
    """(the canonical URL a page names with ``<link rel="canonical">``, its declared language:
    ``<html lang>``, else ``Content-Language`` or ``og:locale`` in ``<meta>``)."""
    end = html.find("</head>", 0, _HEAD_CHARS)
    canonical = lang = meta_lang = None
    for match in _TAG.finditer(html, 0, end if end >= 0 else _HEAD_CHARS):
        tag, attrs = match.group(1).lower(), _attributes(match.group(2))
        if tag == "html" and attrs.get("lang") and lang is None:
            lang = attrs["lang"].strip()
        elif tag == "link" and "canonical" in attrs.get("rel", "").lower().split() and canonical is None:
            canonical = attrs.get("href", "").strip() or None
        elif tag == "meta" and meta_lang is None:
            key = (attrs.get("http-equiv") or attrs.get("property") or attrs.get("name") or "").lower()
            if key in ("content-language", "og:locale") and attrs.get("content"):
                meta_lang = attrs["content"].strip()
    return canonical, lang or meta_lang


def _valid_date(value: str | None) -> str | None:
    try:
        return normalise_date(value) if value else None
    except InputError:
        return None


def page_record(html: str, url: str | None, fallback_date: str | None = None, fallback_title: str | None = None,
                lang: str | None = None) -> dict[str, Any]:
    """An HTML page as a record for the corpus: its text and headline extracted (trafilatura),
    its own date, else ``fallback_date`` (what the archive or feed says; either only when
    valid), ``url`` as its URL and id, and ``lang`` if given. The language the page declares
    (``<html lang>``, often a site template's) is used only for a text too short to detect
    its language from (``SHORT_TEXT``); otherwise it is detected, as for any HTML file.

    Raises:
        InputError: trafilatura finds no article text in the page.
    """
    text, title, date, _ = extract_html(html)
    _, declared = head_meta(html)
    record: dict[str, Any] = {"text": text, "title": title or (fallback_title or ""), "_format": "html"}
    when = _valid_date(date) or _valid_date(fallback_date)
    if when:
        record["date"] = when
    if lang or (declared and len(text) < SHORT_TEXT):
        record["lang"] = lang or declared
    if url:
        record["url"] = record["id"] = url
    return record


def is_newsplease(obj: object) -> bool:
    """True for a news-please article: ``maintext`` and at least two more of its fields, and
    none of samestory's own body fields."""
    return (isinstance(obj, dict) and "maintext" in obj and not ({"text", "html"} & obj.keys())
            and sum(k in obj for k in NEWSPLEASE_FIELDS) >= 3)


def from_newsplease(obj: dict[str, Any]) -> dict[str, Any]:
    """A news-please article as samestory's record: ``maintext`` (else ``description``) as the
    text, ``date_publish`` (else ``date_modify``, else ``date_download``) as the date,
    ``language``, ``title``, and ``url`` as URL and id."""
    def first(*keys: str) -> Any:
        return next((obj[k] for k in keys if isinstance(obj.get(k), str) and obj[k].strip()), None)

    record = {"text": first("maintext", "description"), "title": first("title"),
              "date": first("date_publish", "date_modify", "date_download"), "lang": first("language"),
              "url": first("url"), "id": first("url")}
    return {k: v for k, v in record.items() if v is not None}


def _warc_page(record: Any, max_bytes: int) -> tuple[dict[str, Any] | None, str | None]:
    status = record.http_headers.get_statuscode() if record.http_headers else None
    if status != "200":
        return None, f"a WARC response with HTTP status {status or 'unknown'}, not a page"
    ctype = (record.http_headers.get_header("Content-Type") or "").lower()
    if ctype and "html" not in ctype:
        return None, f"not an HTML page ({ctype.split(';')[0].strip()})"
    body = record.content_stream().read(max_bytes + 1)
    if len(body) <= max_bytes and getattr(record.raw_stream, "limit", 0) > 0:
        return None, "the record is cut short: the WARC file breaks off inside it"
    charset = next((p.split("=", 1)[1].strip() for p in ctype.split(";")[1:] if p.strip().startswith("charset=")),
                   None)
    try:
        page = page_record(decode_page(body[:max_bytes], charset), record.rec_headers.get_header("WARC-Target-URI"),
                           fallback_date=record.rec_headers.get_header("WARC-Date"))
    except InputError as exc:
        return None, str(exc)
    if len(body) > max_bytes:
        page["_truncated_bytes"] = len(body) - max_bytes
    return page, None


def iter_warc(path: Path, max_bytes: int) -> Iterator[WarcItem]:
    """Each WARC response record of ``path`` (plain or gzip, per record or whole): (its number
    among the file's records, the page's record or None, why not, its URL). Requests,
    metadata and warcinfo records are not pages and are passed over; a response that is not
    an HTML page with status 200 comes out with the reason. A file that breaks off ends with
    an item that says where."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    n = 0
    try:
        with path.open("rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                n += 1
                if record.rec_type != "response":
                    while record.raw_stream.read(1 << 16):     # read through it, to see that it is whole
                        pass
                    if getattr(record.raw_stream, "limit", 0) > 0:
                        yield n, None, f"the WARC file breaks off inside this {record.rec_type} record", None
                        return
                    continue
                uri = record.rec_headers.get_header("WARC-Target-URI")
                page, problem = _warc_page(record, max_bytes)
                yield n, page, problem, uri
            left = path.stat().st_size - (records.get_record_offset() + records.get_record_length()) if n else 0
            if left > 4:     # a record's headers cut off: warcio stops there without a word
                yield n + 1, None, f"the WARC file breaks off after record {n} ({left:,} bytes that are no whole record)", None
    # warcio meets a damaged file with any of these (an AttributeError on a header block cut in two)
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError, AttributeError, TypeError, KeyError) as exc:
        yield n + 1, None, f"WARC file breaks off here ({type(exc).__name__}: {str(exc)[:200] or 'truncated'})", None
