"""The nouns every interface shares: CLI, Python API and (later) the HTTP service
all speak in these classes, so they all say the same thing.

Data flows one way: a raw record becomes an ``Article`` (ingest), an ``Article``
gains ``TextUnits`` (text), pairs of them give ``Signals`` (signals), signals give a
``PairScore`` with its ``Evidence`` (scoring).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: SemEval-2022 Task 8 dimensions, in the task's column order.
DIMENSIONS: tuple[str, ...] = (
    "geography", "entities", "time", "narrative", "overall", "style", "tone",
)
#: The same names as the task's CSV spells them.
CSV_COLUMNS: dict[str, str] = {d: d.capitalize() for d in DIMENSIONS}


class InputError(ValueError):
    """A record that cannot become an article; the message says why, in one line."""


class StoreBusy(RuntimeError):
    """Another process held the index's writer lock for longer than the wait allowed
    (``lock_timeout``): try again later (the service answers 503 with Retry-After)."""

    def __init__(self, message: str, retry_after: float = 5.0):
        super().__init__(message)
        self.retry_after = retry_after


class StoreChanged(RuntimeError):
    """The index file was deleted or replaced under a running process: it stops writing
    rather than acknowledge writes that would be lost (the service answers 503)."""


class IndexWriteError(OSError):
    """Writing the index failed part-way (a full disk, an I/O error). The batches committed
    before it stand, and ``outcomes`` says what became of their records; the run can be
    started again as it was."""

    def __init__(self, message: str, outcomes: Sequence[AddOutcome] = ()):
        super().__init__(message)
        self.outcomes = list(outcomes)


class IndexMismatch(RuntimeError):
    """An index built with another encoder than the one at hand: not the user's input,
    but vectors from two models must never be compared."""


#: ``CleaningReport.not_article`` reasons for an article's own page whose text the scraper missed
#: (the site's header kept instead); every other reason is a page served in place of the article.
MISSED_TEXT_REASONS = frozenset({"site masthead"})


@dataclass(frozen=True)
class CleaningReport:
    """What cleaning did, so a user can see that junk did not count as content."""

    removed: tuple[str, ...] = ()
    chars_in: int = 0
    chars_out: int = 0
    encoding_fixed: bool = False
    truncated_bytes: int = 0
    source_format: str = "text"
    #: why this is not an article (a bot check, an error page, a site's masthead) or None
    not_article: str | None = None
    #: what validation set aside and why (a ``lang`` that is not a language code, a page's bad date)
    notes: tuple[str, ...] = ()

    @property
    def chars_removed(self) -> int:
        """Characters of the dropped lines (HTML markup itself is not counted)."""
        return sum(len(line) for line in self.removed)


@dataclass(frozen=True)
class Article:
    """A cleaned news article: what every later stage reads."""

    text: str
    title: str = ""
    date: str | None = None
    url: str | None = None
    lang: str = "und"
    lang_confidence: float = 0.0
    id: str | None = None
    cleaning: CleaningReport = field(default_factory=CleaningReport)

    @property
    def full_text(self) -> str:
        """Title and body, as a reader sees them."""
        if self.title and not self.text.startswith(self.title):
            return f"{self.title}\n\n{self.text}"
        return self.text


@dataclass(frozen=True)
class Mention:
    """A named thing an article mentions: person, organisation, place or other."""

    text: str
    kind: str
    key: str
    country: str | None = None


@dataclass(frozen=True)
class AlignedPassage:
    a: str
    b: str
    similarity: float
    a_index: int
    b_index: int


@dataclass(frozen=True)
class Evidence:
    """Why the scores are what they are, in terms a reader can check."""

    languages: tuple[str, str]
    shared_entities: dict[str, list[str]]
    only_a_entities: dict[str, list[str]]
    only_b_entities: dict[str, list[str]]
    countries: tuple[list[str], list[str]]
    dates: tuple[list[str], list[str]]
    numbers: tuple[list[str], list[str]]
    aligned_passages: list[AlignedPassage]
    copied_share: tuple[float, float]
    cleaning: tuple[CleaningReport, CleaningReport]
    flags: list[str]
    #: the passages the encoder read; aligned_passages point into these by index
    passages: tuple[Sequence[str], Sequence[str]] = ((), ())


@dataclass(frozen=True)
class PairScore:
    """The answer to "same story, and how do they differ?" for one pair."""

    dimensions: dict[str, float]
    same_story: bool
    confidence: float
    evidence: Evidence
    model: str

    @property
    def overall(self) -> float:
        return self.dimensions["overall"]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by ``compare --json`` and the HTTP API."""
        ev = asdict(self.evidence)
        for report, source in zip(ev["cleaning"], self.evidence.cleaning):
            report["chars_removed"] = source.chars_removed
        return {
            "overall": self.overall,
            "dimensions": dict(self.dimensions),
            "same_story": self.same_story,
            "confidence": self.confidence,
            "languages": list(self.evidence.languages),
            "evidence": ev,
            "model": self.model,
        }


@dataclass(frozen=True)
class StoryMember:
    """One entry of a story: an article, or for a URL whose text changed, its latest version
    (``versions``: how many versions of that URL the story holds; ``replaces``: the content
    id of the version this one replaces)."""

    id: str
    title: str
    date: str | None
    lang: str
    url: str | None
    duplicate_of: str | None = None
    copied_share: float | None = None
    record_id: str | None = None     # the record's own id, beside samestory's
    also_record_ids: list[str] = field(default_factory=list)   # later records of the very same text
    replaces: str | None = None      # the content id of the version it replaces (same URL)
    versions: int = 1                # versions of its URL in this story (this one the latest)


@dataclass(frozen=True)
class Story:
    """Articles that report one story, as the index grouped them."""

    id: int
    label: str
    first_seen: str
    last_seen: str
    size: int
    languages: list[str]
    members: list[StoryMember] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SimilarArticle:
    id: str
    title: str
    story: int | None
    similarity: float
    date: str | None
    lang: str
    overall: float | None = None      # the pair scorer's Overall, when re-scored
    same_story: bool | None = None
    record_id: str | None = None        # the record's own id, beside samestory's
    also_record_ids: list[str] = field(default_factory=list)   # later records of the very same text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AddOutcome:
    """What became of one input record: ``added``, ``exists`` (already stored) or ``error``."""

    source: str
    line: int
    status: str
    article: str | None = None     # the stored article's id (content hash)
    story: int | None = None
    error: str | None = None
    record_id: str | None = None     # the record's own id, when it has one
    notes: tuple[str, ...] = ()    # what validation set aside (a ``lang`` that is not a code, ...)

    def to_dict(self) -> dict[str, Any]:
        """One line of ``index add --report``."""
        out: dict[str, Any] = {"source": self.source, "line": self.line, "status": self.status}
        if self.record_id is not None:
            out["record_id"] = self.record_id
        if self.notes:
            out["notes"] = list(self.notes)
        if self.status == "error":
            out["error"] = self.error
        else:
            out.update(article=self.article, story=self.story)
        return out


@dataclass(frozen=True)
class AddReport:
    """What ``index add`` did with each input record, exactly once each."""

    added: int
    already_stored: int
    errors: int
    stories_created: int
    stories_merged: int
    seconds: float
    outcomes: list[AddOutcome] = field(default_factory=list)
    engine: str = "local"      # what computed the per-article stages: "local", "ray" or "embedded"
    updated: int = 0           # stored articles whose metadata a re-added record corrected (``update``)

    def summary(self) -> dict[str, Any]:
        return {"added": self.added, "already_stored": self.already_stored, "updated": self.updated,
                "errors": self.errors,
                "stories_created": self.stories_created, "stories_merged": self.stories_merged,
                "seconds": self.seconds, "engine": self.engine}


@dataclass(frozen=True)
class RemovalReport:
    """What ``index delete`` or ``index prune`` removed: the articles (samestory's ids) and the
    keys not found (delete only), the stories that lost members and those left empty (listed as
    removed), how many copies moved to a new source, and the bytes the file gave back."""

    removed: list[str]
    not_found: list[str]
    stories_changed: int
    stories_removed: list[int]
    copies_moved: int
    bytes_reclaimed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"removed": len(self.removed), "not_found": self.not_found, "stories_changed": self.stories_changed,
                "stories_removed": self.stories_removed, "copies_moved": self.copies_moved,
                "bytes_reclaimed": self.bytes_reclaimed, "ids": self.removed}
