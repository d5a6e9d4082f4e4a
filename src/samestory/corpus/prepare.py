"""The write path's first step, per record: clean, validate and language-tag it, or say
why it cannot be indexed. Runs anywhere (this process, Ray workers, ``samestory index embed``):
it reads nothing from the index.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from samestory.ingest import CleanSettings, InputRecord, clean_record, parse_timestamp
from samestory.text import tag_language, with_prior
from samestory.types import Article, InputError

log = logging.getLogger(__name__)


def content_id(article: Article) -> str:
    """Same cleaned title and text, same id: re-adding an article is a no-op."""
    return hashlib.sha1(f"{article.title}\n{article.text}".encode()).hexdigest()[:16]


@dataclass
class Prepared:
    """One record, cleaned and tagged (``article``, its content ``id`` and time ``ts``; ``dated``:
    the time is the record's own, not when it was indexed; ``replaces``: the content id of the
    version it replaces, from the record's ``replaces``), or ``error``: why it cannot be indexed."""

    item: InputRecord
    article: Article | None = None
    id: str = ""
    ts: float = 0.0
    dated: bool = False
    error: str | None = None
    replaces: str | None = None


#: The longest ``replaces`` kept: a content id is 16 characters; a record's own id may be longer.
MAX_REPLACES_CHARS = 200


def replaces_of(record: dict[str, Any]) -> str | None:
    """The record's ``replaces`` (the content id of the version it replaces: an update or a
    correction of the same URL), or None when it has none.

    Raises:
        InputError: ``replaces`` is neither empty nor a string of at most ``MAX_REPLACES_CHARS``.
    """
    value = record.get("replaces")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_REPLACES_CHARS:
        raise InputError(f"'replaces' must be the id of the version it replaces (a string of at most "
                         f"{MAX_REPLACES_CHARS} characters), not {str(value)[:40]!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:       # a lone surrogate cannot be stored
        raise InputError("field 'replaces' holds text that is not valid Unicode (a lone surrogate)") from None
    return value.strip() or None


def prepare(item: InputRecord, settings: CleanSettings) -> Prepared:
    """Clean and language-tag one record, or say why it cannot be indexed."""
    if item.error or item.record is None:
        return Prepared(item, error=item.error or "empty record")
    try:
        replaces = replaces_of(item.record)
        article = tag_language(clean_record(item.record, settings))
    except InputError as exc:
        return Prepared(item, error=str(exc))
    except (ValueError, TypeError, OverflowError, RecursionError, LookupError) as exc:
        # A record no check foresaw is still that record's error, never the batch's end.
        log.warning("%s:%s: unexpected %s while reading the record: %s", item.source, item.line,
                    type(exc).__name__, exc)
        return Prepared(item, error=f"unreadable record ({type(exc).__name__}: {str(exc)[:200]})")
    if article.cleaning.not_article:    # a bot check would gather every bot check into one "story"
        return Prepared(item, error=f"not an article ({article.cleaning.not_article})")
    ts = parse_timestamp(article.date)
    return Prepared(item, article, content_id(article), ts if ts is not None else time.time(), ts is not None,
                    replaces=replaces)


def record_id_of(p: Prepared) -> str | None:
    """The record's own id (``--id-col``, or ``id`` in JSON and ``POST /articles``), if it has one."""
    if p.article is not None and p.article.id:
        return p.article.id
    value = (p.item.record or {}).get("id")
    return p.item.record_id if value in (None, "") else str(value)


class LanguagePrior:
    """The languages of a run's confidently tagged articles, per input source: what a short
    headline that detection leaves undecided is most likely written in (``text.with_prior``)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def apply(self, batch: list[Prepared]) -> None:
        """Count the batch's confident languages, then give its undecided articles their feed's
        language where the text allows it. Changes ``batch`` in place."""
        for p in batch:
            if p.article is not None and p.article.lang != "und" and p.article.lang_confidence >= 0.5:
                self.counts.setdefault(p.item.source, Counter())[p.article.lang] += 1
        for p in batch:
            if p.article is not None and p.article.lang == "und":
                counts = self.counts.get(p.item.source)
                total = sum(counts.values()) if counts else 0
                if counts and total >= 3:
                    p.article = with_prior(p.article, {lang: n / total for lang, n in counts.items()})
