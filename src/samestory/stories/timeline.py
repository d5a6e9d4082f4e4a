"""A story timeline a person can look at: one self-contained HTML page with an
SVG chart (no network, no JavaScript), each story a bar from first to last seen,
its thickness growing with the number of articles, under a time axis with a tick
and a date label for each day (UTC)."""
from __future__ import annotations

import html
import math
from datetime import UTC, datetime

from samestory.types import Story

#: What the chart says when the shown stories' records carry no dates of their own.
UNDATED_NOTE = "Times are when the articles were indexed (the records carry no dates)."
_DAY = 86_400.0
_MAX_TICKS = 12


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _readable(story: Story) -> bool:
    try:
        _ts(story.first_seen), _ts(story.last_seen)
    except ValueError:      # a time the store could not show ("")
        return False
    return True


def is_undated(stories: list[Story]) -> bool | None:
    """Whether none of ``stories``' members has a date of its own (then their times are ingest
    times); None when that is not known: a story listed without its members."""
    if not stories or any(not s.members for s in stories):
        return None
    return all(m.date is None for s in stories for m in s.members)


def day_ticks(t0: float, t1: float) -> list[tuple[float, str]]:
    """The axis ticks for the epoch span ``t0``..``t1``: each UTC midnight in it (every n-th
    day when there are more than 12) as ``(time, "YYYY-MM-DD")``; a span inside one day gets
    one tick at ``t0`` labelled with that day."""
    first = math.ceil(t0 / _DAY) * _DAY
    days = int((t1 - first) // _DAY) + 1 if first <= t1 else 0
    if days <= 0:
        return [(t0, datetime.fromtimestamp(t0, tz=UTC).date().isoformat())]
    step = max(1, math.ceil(days / _MAX_TICKS))
    return [(first + i * _DAY, datetime.fromtimestamp(first + i * _DAY, tz=UTC).date().isoformat())
            for i in range(0, days, step)]


def timeline_chart(stories: list[Story], top: int = 40, undated: bool | None = None) -> str:
    """The chart as an HTML fragment (a note, when any, then the SVG); ``""`` when no story
    has readable times.

    Args:
        stories: the stories; one without readable first and last times is not drawn.
        top: how many of the largest stories to draw.
        undated: True when the records carry no dates (the times are ingest times): the chart
            says so. None: worked out from the drawn stories' members (``is_undated``).
    """
    shown = sorted((s for s in stories if _readable(s)), key=lambda s: -s.size)[:top]
    shown.sort(key=lambda s: s.first_seen)
    if not shown:
        return ""
    if undated is None:
        undated = bool(is_undated(shown))
    t0 = min(_ts(s.first_seen) for s in shown)
    t1 = max(_ts(s.last_seen) for s in shown)
    span = max(t1 - t0, 60.0)
    width, left, row, top_y = 1100, 420, 22, 44
    height = row * len(shown) + top_y + 20
    plot = width - left - 20
    biggest = max(s.size for s in shown)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' "
             "font-size='12'>", f"<g class='axis'><line x1='{left}' y1='{top_y - 14}' x2='{left + plot}' "
             f"y2='{top_y - 14}' stroke='#999'/>"]
    for t, day in day_ticks(t0, t0 + span):
        x = left + (t - t0) / span * plot
        parts.append(f"<line x1='{x:.1f}' y1='{top_y - 18}' x2='{x:.1f}' y2='{height - 10}' stroke='#ddd'/>"
                     f"<text class='tick' x='{x:.1f}' y='{top_y - 22}' fill='#555'>{day}</text>")
    parts.append("</g>")
    for i, s in enumerate(shown):
        y = top_y + i * row
        x0 = left + (_ts(s.first_seen) - t0) / span * plot
        x1 = left + (_ts(s.last_seen) - t0) / span * plot
        thick = 4 + 12 * (s.size / biggest) ** 0.5
        label = s.label if len(s.label) <= 60 else s.label[:59] + "…"
        tip = html.escape(f"{s.label}\n{s.size} articles, {', '.join(s.languages)}\n{s.first_seen} → {s.last_seen}")
        parts.append(f"<text x='6' y='{y + 4}'>{html.escape(label)} ({s.size})</text>")
        parts.append(f"<rect x='{x0:.1f}' y='{y - thick / 2:.1f}' width='{max(x1 - x0, 3):.1f}' height='{thick:.1f}' "
                     f"rx='3' fill='#3b6ea8'><title>{tip}</title></rect>")
    parts.append("</svg>")
    note = f"<p class='undated'><b>{html.escape(UNDATED_NOTE)}</b></p>" if undated else ""
    return note + "".join(parts)


def timeline_html(stories: list[Story], title: str = "samestory: stories over time", top: int = 40,
                  undated: bool | None = None) -> str:
    """The page: ``timeline_chart`` with a title and a legend.

    Args:
        stories: the stories (with their members, so that the page can tell whether the
            records carry dates; see ``undated``).
        title: the page's title.
        top: how many of the largest stories to draw.
        undated: as in ``timeline_chart``.
    """
    chart = timeline_chart(stories, top=top, undated=undated)
    if not chart:
        return f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><p>No stories yet.</p>"
    drawn = chart.count("<rect")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif'><h1>{html.escape(title)}</h1>"
            f"<p>{len(stories)} stories; the {drawn} largest shown. Bar: first to last article; thickness: number "
            f"of articles; axis: days (UTC).</p>{chart}</body></html>")
