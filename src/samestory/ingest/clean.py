"""Turn a raw record into a clean ``Article``.

A plain pipeline of functions with settings passed in (trafilatura's style):
HTML goes through trafilatura; every text goes through ftfy (mojibake), then a
line filter drops scraper debris (comment forms, share widgets, icon-font words,
"[embedded content]") and rejoins lines that a scraper broke mid-word. Every line
dropped is kept in the ``CleaningReport`` so the evidence can show it.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ftfy

from samestory.ingest.notices import strip_notices
from samestory.ingest.pages import page_reason
from samestory.ingest.validate import has_words, language, normalise_date
from samestory.types import Article, CleaningReport, InputError


@dataclass(frozen=True)
class CleanSettings:
    max_chars: int = 200_000  # longer bodies are cut here; the report says so
    min_chars: int = 20
    # A page this short that carries a non-article signature *is* that page; a longer
    # article that mentions a captcha in passing stays an article.
    not_article_max_chars: int = 600
    # A page whose notices (cookie and consent banners, privacy prompts) took its headline and
    # left a scrap under this many characters, half their size or less, is the banner served
    # in place of the article (see ``_is_consent_page``).
    consent_leftover_chars: int = 200
    # What an unreadable or out-of-range date does: "error" (the record is not indexed) or
    # "ignore" (the record is kept undated, and its notes say so).
    bad_dates: str = "error"


# Lines that are debris wherever they appear (case-insensitive, whole line).
_DEBRIS_LINE = re.compile(
    r"""^(?:
      \[\s*(?:embedded\ content|video|audio|image|photo|gallery|advertisement|ad)\s*\]
    | leave\ a\ (?:reply|comment)(?:\ cancel\ reply)?
    | (?:\d+\ )?comments?
    | fill\ in\ your\ details\ below.*
    | you\ are\ commenting\ using\ your\ .*
    | connecting\ to\ %s
    | %d\ bloggers\ like\ this:?
    | (?:wordpress\.com|google|twitter|facebook)\ (?:logo|photo|picture)
    | log\ out\ /?\s*change\ \)?
    | (?:share|like)\ this:?
    | click\ to\ (?:share|print|email).*
    | (?:related|advertisement|anzeige|publicidad|werbung|reklama|publicité|pubblicità)(?:\ (?:posts|articles|stories))?:?
    | (?:read|see)\ (?:more|also)(?:\ :.*)?
    | (?:subscribe|sign\ up)(?:\ to|\ for)?\ (?:our\ )?(?:newsletter|now|today).*
    | (?:accept|reject)\ (?:all\ )?cookies.*
    | we\ use\ cookies.*
    | (?:all\ rights\ reserved|copyright\ ©?.*|©.*)
    | (?:follow\ us|share\ on|tweet|pin\ it|whatsapp|e-?mail|print)(?:\ on\ \w+)?
    | (?:skip\ to\ (?:main\ )?content|toggle\ navigation|menu|search|close)
    | loading\.{0,3}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Pages a scraper gets instead of the article. Such a page is kept (the record is
# not lost) but flagged, so no score treats its words as the story's.
_NOT_ARTICLE = (
    (re.compile(r"not a robot|nie jestem robotem|kein roboter|pas un robot|no soy un robot|"
                r"non sono un robot|captcha|unusual traffic|verify (?:that )?you are (?:a )?human|"
                r"(?:your|twój|ihre) ip[- ]?(?:address|adres|adresse)|adresu ip", re.IGNORECASE),
     "bot check page"),
    (re.compile(r"checking your browser|enable javascript and cookies|please (?:enable|turn on) javascript",
                re.IGNORECASE), "browser check page"),
    (re.compile(r"404 not found|403 forbidden|page not found|seite nicht gefunden|page introuvable|"
                r"página no encontrada", re.IGNORECASE), "error page"),
    (re.compile(r"(?:subscribe|log in|sign in) to (?:continue|keep) reading|reached your (?:free )?article limit",
                re.IGNORECASE), "paywall"),
    # ahewar.org's masthead (also machine-spun), which SemEval's Arabic scrape holds in place of articles
    (re.compile(r"الحوار (?:المتمدن|الحضاري)[\s\S]*(?:ادعم|ابن رشد)"), "site masthead"),
)
# Words that icon fonts render as text when a scraper strips the glyphs.
_ICON_WORDS = frozenset(
    "search previous next tag category expand menu location phone mail time cart "
    "zoom edit close arrow left right up down chevron home user play pause share "
    "facebook twitter instagram youtube linkedin whatsapp email print rss".split()
)
_SENTENCE_END = re.compile(r"[.!?。！？؟…\"”»)]\s*$")


def _is_icon_line(line: str) -> bool:
    words = line.lower().split()
    return len(words) >= 3 and sum(w in _ICON_WORDS for w in words) / len(words) >= 0.8


def _rejoin_broken_lines(lines: list[str]) -> list[str]:
    """Join "Grushko s" + "aid." back together: a line that starts in lower case
    right after a line that did not end a sentence continues it.

    Linear in the total length: a joined line is built from a list of pieces and
    joined once, and only the newest piece is looked at (the joined line ends
    with it), so 100,000 short continuation lines cost no more than one long one."""
    out: list[str] = []
    pieces: list[str] = []     # the line being built (out's last line, not yet joined)
    last_word = 0              # length of its last word (0: no word)
    open_end = False           # it ends in a word character run that a "" glue would extend
    for line in lines:
        words = line.split()
        if pieces and pieces[-1] and line and line[0].islower() and not _SENTENCE_END.search(pieces[-1]):
            glue = "" if 0 < last_word <= 2 and len(words[0]) <= 4 else " "
            pieces.append(glue + line)
            if len(words) == 1 and glue == "" and open_end:
                last_word += len(words[0])
            else:
                last_word = len(words[-1])
        else:
            if pieces:
                out.append("".join(pieces))
            pieces = [line]
            last_word = len(words[-1]) if words else 0
        open_end = bool(line) and not line[-1].isspace()
    if pieces:
        out.append("".join(pieces))
    return out


def _is_trailing_debris(line: str) -> bool:
    """Short, unpunctuated lines after the article's last real paragraph are
    widgets, bylines-for-other-stories and the like, not content."""
    return len(line.split()) <= 8 and not _SENTENCE_END.search(line)


def strip_debris(text: str) -> tuple[str, list[str]]:
    """Drop debris lines; return the cleaned text and what was dropped."""
    removed: list[str] = []
    kept: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"[ \t\u00a0]+", " ", raw).strip()
        if not line:
            kept.append("")
            continue
        if _DEBRIS_LINE.match(line) or _is_icon_line(line):
            removed.append(line)
            continue
        kept.append(line)
    kept = _rejoin_broken_lines(kept)
    # Trailing block: everything after the last line that reads like prose.
    last_prose = max((i for i, l in enumerate(kept) if len(l.split()) > 8), default=-1)
    if last_prose >= 0:
        tail = kept[last_prose + 1:]
        removed.extend(l for l in tail if l and _is_trailing_debris(l))
        kept = kept[: last_prose + 1] + [l for l in tail if l and not _is_trailing_debris(l)]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return cleaned, removed


def not_article_reason(title: str, body: str, settings: CleanSettings = CleanSettings(),
                       scraped: str | None = None) -> str | None:
    """Why a page is not an article, or None.

    A short page (up to ``settings.not_article_max_chars``) is judged by its signature (bot
    check, error page, paywall, masthead); a page of any length by its make-up: a
    data-protection notice or a front page (``pages``). A headline-only record is never
    flagged: a headline about captchas is news.

    Args:
        title: the headline ("" when there is none).
        body: the cleaned text.
        scraped: the text as scraped, before debris and notices were taken out (the
            make-up of a page is read there); ``body`` when not given.
    """
    page = f"{title}\n{body}".strip()
    if not body.strip():
        return None
    if len(page) <= settings.not_article_max_chars:
        reason = next((reason for pattern, reason in _NOT_ARTICLE if pattern.search(page)), None)
        if reason:
            return reason
    return page_reason(title, body if scraped is None else scraped)


def _is_consent_page(text: str, without_notices: str, notices: list[str], settings: CleanSettings) -> bool:
    """The page is a banner: nothing is left beside its notices, or only a scrap of it (under
    ``consent_leftover_chars``, the notices twice its size or more: the banner's last
    half-sentence) with the page's headline gone too. Where the headline (the page's first line)
    survives, the page is judged by it, as a headline-only record is: annotators rated such
    pages by their article, and its headline tells more of it than any prior (training/LOG.md,
    seventeenth session)."""
    left = _INVISIBLE.sub("", without_notices).strip()
    if len(left) < settings.min_chars:
        return True
    headline = text.split("\n", 1)[0].strip()
    return (len(left) < settings.consent_leftover_chars and left.split("\n", 1)[0].strip() != headline
            and sum(len(n) for n in notices) >= 2 * len(left))


def _split_title(text: str) -> tuple[str, str]:
    """A first line that is short and is followed by more text is a headline."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    if rest.strip() and 3 <= len(first) <= 200 and not first.endswith((".", ":")):
        return first, rest.strip()
    return "", text


# A tag with more attributes than this is not markup a page needs; libxml2 checks each
# new attribute against all the others (32,000 on one tag take seconds), so the rest go.
_MAX_ATTRIBUTES = 1000
_LONG_TAG = re.compile(rf"<[A-Za-z][^<>]{{{2 * _MAX_ATTRIBUTES},}}+>")   # room for that many: "a a a ..."
_ATTRIBUTE = re.compile(r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>]+))?""")
# Characters looked through to tell the visible lines that trafilatura kept from those it left
# out: enough for any real page, and a bound on a page of 100,000 distinct lines.
_SEARCH_BUDGET = 200_000_000


def _cap_attributes(match: re.Match[str]) -> str:
    tag = match.group(0)[1:-1]
    name = tag.split(None, 1)[0].rstrip("/")
    attributes: list[str] = []
    for attribute in _ATTRIBUTE.finditer(tag, len(name)):
        if len(attributes) == _MAX_ATTRIBUTES:
            return f"<{name} {' '.join(attributes)}>"
        attributes.append(attribute.group(0))
    return match.group(0)


def tame_markup(html: str) -> str:
    """``html`` with each tag cut to its first ``_MAX_ATTRIBUTES`` attributes, in time linear
    in its length; a page without such a tag comes back unchanged."""
    return _LONG_TAG.sub(_cap_attributes, html)


def _visible_lines(tree: Any) -> list[str]:
    """The text a browser would show, line by line (scripts and styles dropped).
    ``tree`` is an lxml.html element, which this changes (the dropped parts go)."""
    for bad in tree.xpath("//script|//style|//noscript|//template|//head"):
        bad.drop_tree()
    lines = (" ".join(t.split()) for t in tree.itertext())
    return [l for l in lines if l]


def _left_out(lines: list[str], kept: str) -> list[str]:
    """The distinct ``lines`` that are not part of ``kept``, in order.

    Mostly ``kept`` follows the page, so each line is looked for first just after the
    previous one found, then in all of ``kept``; once ``_SEARCH_BUDGET`` characters have
    been looked through, a line counts as kept when each of its words is in ``kept``."""
    out: list[str] = []
    at, spent = 0, 0
    words: set[str] | None = None
    for line in dict.fromkeys(lines):
        found = kept.find(line, at, at + len(line) + 64)
        if found < 0 and spent < _SEARCH_BUDGET:
            found = kept.find(line)
            spent += len(kept) if found < 0 else found + len(line)
        elif found < 0:
            words = set(kept.split()) if words is None else words
            found = 0 if all(w in words for w in line.split()) else -1
        if found < 0:
            out.append(line)
        else:
            at = found + len(line)
    return out


def extract_html(html: str) -> tuple[str, str, str | None, list[str]]:
    """Main text, title, date and the visible lines left out, via trafilatura.

    Bounded by the page's size: absurd markup is tamed first (``tame_markup``), the page
    is parsed once, and the search for the lines left out has a budget (``_left_out``).

    Raises:
        InputError: trafilatura finds no article text in the page.
    """
    import trafilatura

    try:
        tree = trafilatura.load_html(tame_markup(html))
    except (TypeError, ValueError):      # what bare_extraction itself would catch
        tree = None
    doc = None if tree is None else trafilatura.bare_extraction(
        tree, with_metadata=True, include_comments=False, include_tables=False,
        favor_precision=True,
    )   # (bare_extraction works on a copy of the tree)
    # (a dict only with as_dict=True, which is not asked for)
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        raise InputError("HTML has no article text that trafilatura could extract")
    text = doc.text or ""
    title = (doc.title or "").strip()
    if title and text.startswith(title):
        text = text[len(title):].lstrip()
    dropped = _left_out(_visible_lines(tree), " ".join(f"{title} {text}".split()))
    return text, title, doc.date, dropped


_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")


def _field(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):  # NaN from CSV
        return None
    value = str(value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate ("\ud800" in JSON) cannot be stored or shown
        raise InputError(f"field {name!r} holds text that is not valid Unicode (a lone surrogate)") from None
    return value


def clean_record(record: Mapping[str, Any], settings: CleanSettings = CleanSettings()) -> Article:
    """Record (``text`` or ``html``, optional ``title``, ``date``, ``url``, ``lang``,
    ``id``) to ``Article``. Raises ``InputError`` with a one-line reason (for an unreadable
    date only when ``settings.bad_dates`` is ``"error"``; with ``"ignore"`` the article is
    undated and its notes say why)."""
    html, text = _field(record, "html"), _field(record, "text")
    title = (_field(record, "title") or "").strip()
    raw_date = record.get("date")
    notes: list[str] = []
    try:
        date = normalise_date(raw_date if isinstance(raw_date, int | float) else _field(record, "date"))
    except InputError as exc:
        if settings.bad_dates != "ignore":
            raise
        date = None
        notes.append(f"{exc}; kept undated (--bad-dates ignore)")
    source_format = str(record.get("_format") or ("html" if html else "text"))
    if html is not None and html.strip():
        raw = html
        body, html_title, html_date, html_dropped = extract_html(html)
        title = title or html_title
        if date is None and html_date:
            try:
                date = normalise_date(html_date)
            except InputError as exc:      # the page's own markup, not the record: noted, not fatal
                notes.append(f"the page's {exc}; left undated")
    elif text is not None or title:
        raw = body = text or ""  # a headline-only record (aggregator feeds) is an article too
        html_dropped = []
    else:
        raise InputError("record has neither 'text' nor 'html'")

    truncated = int(record.get("_truncated_bytes") or 0)
    if len(body) > settings.max_chars:  # cut first: repair and filtering cost grows with length
        truncated += len(body[settings.max_chars:].encode())
        body = body[: settings.max_chars]
    fixed, steps = ftfy.fix_and_explain(body)
    encoding_fixed = any(action in ("encode", "decode", "transcode") for action, _ in steps or ())
    if title:
        title = ftfy.fix_text(title)
    cleaned, removed = strip_debris(fixed)
    without_notices, notices = strip_notices(cleaned)
    consent_page = bool(notices) and _is_consent_page(cleaned, without_notices, notices, settings)
    if not consent_page:       # a page that is nothing but a banner stays as it is, flagged below
        cleaned = without_notices
    removed = html_dropped + removed + notices
    if not title:
        title, cleaned = _split_title(cleaned)
    elif cleaned.startswith(title):
        cleaned = cleaned[len(title):].lstrip()
    if len(_INVISIBLE.sub("", title + cleaned).strip()) < settings.min_chars:   # zero-width characters only
        raise InputError("no article text left after cleaning (empty or only debris)")
    if not has_words(title + cleaned):
        raise InputError("text: no words in it (only punctuation, symbols or emoji)")
    lang, lang_note = language(record.get("lang"))
    notes += [lang_note] if lang_note else []
    return Article(
        text=cleaned,
        title=title,
        date=date,
        url=_field(record, "url"),
        lang=lang or "und",
        lang_confidence=1.0 if lang else 0.0,
        id=_field(record, "id"),
        cleaning=CleaningReport(
            removed=tuple(removed),
            chars_in=len(raw),
            chars_out=len(title) + len(cleaned),
            encoding_fixed=encoding_fixed,
            truncated_bytes=truncated,
            source_format=source_format,
            not_article=not_article_reason(title, cleaned, settings, scraped=fixed)
            or ("cookie or consent banner" if consent_page else None),
            notes=tuple(notes),
        ),
    )
