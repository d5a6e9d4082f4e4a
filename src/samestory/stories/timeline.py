"""A story timeline a person can look at: one self-contained HTML page with an
SVG chart (no network, no JavaScript), each story a bar from first to last seen,
its thickness growing with the number of articles."""
from __future__ import annotations

import html
from datetime import datetime

from samestory.types import Story


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _readable(story: Story) -> bool:
    try:
        _ts(story.first_seen), _ts(story.last_seen)
    except ValueError:      # a time the store could not show ("")
        return False
    return True


def timeline_html(stories: list[Story], title: str = "samestory: stories over time", top: int = 40) -> str:
    """The page; a story without readable first and last times is counted but not drawn."""
    shown = sorted((s for s in stories if _readable(s)), key=lambda s: -s.size)[:top]
    shown.sort(key=lambda s: s.first_seen)
    if not shown:
        return f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><p>No stories yet.</p>"
    t0 = min(_ts(s.first_seen) for s in shown)
    t1 = max(_ts(s.last_seen) for s in shown)
    span = max(t1 - t0, 60.0)
    width, left, row = 1100, 420, 22
    height = row * len(shown) + 50
    biggest = max(s.size for s in shown)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='12'>"]
    for i, s in enumerate(shown):
        y = 30 + i * row
        x0 = left + (_ts(s.first_seen) - t0) / span * (width - left - 20)
        x1 = left + (_ts(s.last_seen) - t0) / span * (width - left - 20)
        thick = 4 + 12 * (s.size / biggest) ** 0.5
        label = s.label if len(s.label) <= 60 else s.label[:59] + "…"
        tip = html.escape(f"{s.label}\n{s.size} articles, {', '.join(s.languages)}\n{s.first_seen} → {s.last_seen}")
        parts.append(f"<text x='6' y='{y + 4}'>{html.escape(label)} ({s.size})</text>")
        parts.append(f"<rect x='{x0:.1f}' y='{y - thick / 2:.1f}' width='{max(x1 - x0, 3):.1f}' height='{thick:.1f}' "
                     f"rx='3' fill='#3b6ea8'><title>{tip}</title></rect>")
    parts.append(f"<text x='{left}' y='16' fill='#555'>{html.escape(shown[0].first_seen)}</text>")
    parts.append(f"<text x='{width - 20}' y='16' fill='#555' text-anchor='end'>{html.escape(max(s.last_seen for s in shown))}</text>")
    parts.append("</svg>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1 style='font-family:sans-serif'>{html.escape(title)}</h1>"
            f"<p style='font-family:sans-serif'>{len(stories)} stories; the {len(shown)} largest shown. "
            f"Bar: first to last article; thickness: number of articles.</p>{''.join(parts)}</body></html>")
