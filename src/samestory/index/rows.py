"""The store's row types: what a stored article, a new article, a story and the in-memory
index's view of an article look like, and how a story's languages are packed.

Reading is defensive: a value written by an older release, or by one before every field
was validated at the door, decodes to something usable (a warning says so), never to an
exception that would make every later read of the index fail.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from samestory.types import Article

log = logging.getLogger(__name__)


@dataclass
class StoredArticle:
    rowid: int
    id: str
    title: str
    text: str
    lang: str
    date: str | None
    ts: float
    url: str | None
    story: int | None
    dup_of: int | None
    copied: float | None
    record_id: str | None = None      # the record's own id (``--id-col``, ``id``), as first stored
    replaces: str | None = None       # the content id of the version this one replaces (same URL)

    def to_article(self) -> Article:
        """The stored article as the pair scorer reads it (language as stored)."""
        return Article(text=self.text, title=self.title, lang=self.lang, date=self.date, lang_confidence=1.0)


@dataclass(frozen=True)
class ArticleRow:
    """One new article as it is written."""

    rowid: int
    id: str
    article: Article
    ts: float
    source: str
    story: int
    dup_of: int | None
    copied: float | None
    vec: np.ndarray
    minhash: np.ndarray
    names: Sequence[int]
    keywords: bytes
    numbers: Sequence[int]
    tokens: int
    density: float
    dated: bool
    added: float
    line_keys: Sequence[int] = ()      # its lines, counted for boilerplate detection
    replaces: str | None = None        # the content id of the version it replaces (the record's ``replaces``)


@dataclass(frozen=True)
class StoryRow:
    id: int
    vsum: np.ndarray
    n: int
    first: float
    last: float
    langs: dict[str, int]       # members per language


def pack_langs(langs: dict[str, int]) -> str:
    """A story's members per language as stored: ``"de:1,en:3"`` (validated codes hold no , or :)."""
    return ",".join(f"{lang}:{n}" for lang, n in sorted(langs.items()) if n > 0)


def unpack_langs(text: str | None) -> dict[str, int]:
    """``pack_langs`` read back; files from before moves kept only the names (``"de,en"``): one
    each. An item that does not read (a count that is not ASCII digits, an empty name: what an
    index written before validation may hold) counts one, with a warning; never an error."""
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        if not item:
            continue
        lang, _, n = item.rpartition(":") if ":" in item else (item, "", "")
        if n and not (n.isascii() and n.isdigit()):
            log.warning("a stored story language %r does not read; counted once (samestory index check --repair)",
                        item[:40])
            lang, n = item, ""
        out[lang or "und"] = out.get(lang or "und", 0) + (int(n) if n else 1)
    return out


@dataclass(frozen=True)
class LinkRow:
    """What the in-memory index keeps of a stored article."""

    rowid: int
    ts: float
    lang: str
    story: int | None
    dup_of: int | None
    minhash: np.ndarray
    names: np.ndarray | None     # None for rows written before fingerprints were stored
    keywords: bytes | None
    numbers: np.ndarray | None
    tokens: int | None
    density: float | None
    dated: bool | None
    text: str | None             # only where names or keywords are missing


def as_uint32(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, np.uint32)




#: One input record's outcome as the store keeps it: (source, line, article id, error, record id).
InputRow = tuple[str, int, "str | None", "str | None", "str | None"]
P = TypeVar("P")


@dataclass(frozen=True)
class BatchDelta(Generic[P]):
    """Everything one batch changes, as the store writes it (one transaction) and the in-memory
    index then applies it (``IndexState.apply``): the same value for both, so they cannot drift.

    ``prints`` (the linker's fingerprints, one per row) are memory only; the store keeps what
    they are made of in the rows."""

    rows: Sequence[ArticleRow] = ()
    prints: Sequence[P] = ()
    stories: Sequence[StoryRow] = ()                  # stories the batch changed, as they now are
    merged: Mapping[int, int] = field(default_factory=dict)           # story -> the story it joined
    inputs: Sequence[InputRow] = ()
    links: Sequence[tuple[int, int, float]] = ()      # likely same-story pairs (newer, older, P)
    moves: Mapping[int, int] = field(default_factory=dict)            # stored article -> its new story
    copy_merges: Mapping[int, int] = field(default_factory=dict)      # copy group root -> the root it joined
    copy_moves: Mapping[int, int | None] = field(default_factory=dict)  # stored article -> new root (None: a root)
