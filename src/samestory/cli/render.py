"""What the commands print: the pair report, story, neighbour and copy tables, JSON on one
line, JSON lines and CSV (every CSV cell formula-safe, every table cell on one line)."""
from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from samestory.types import DIMENSIONS, PairScore, SimilarArticle, Story

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


def dump_json(obj: Any) -> None:
    """``obj`` as exactly one JSON object on one line of standard output."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")


def _bar(score: float, width: int = 24) -> str:
    filled = round((4.0 - score) / 3.0 * width)  # longer bar = more similar
    return "█" * filled + "·" * (width - filled)


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """One table cell on one line: control characters (newlines, escapes) become spaces and
    runs of whitespace one space, so a title can never start a row of its own or move the cursor."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def csv_safe(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string that starts like a formula gets a ``'``
    in front (OWASP's advice); other values are left as they are."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _date_label(key: str) -> str:
    return _WEEKDAYS[int(key.split(":")[1])] if key.startswith("weekday:") else key


def render(result: PairScore) -> str:
    ev = result.evidence
    lines = [
        f"Same story: {'YES' if result.same_story else 'no'} (confidence {result.confidence:.2f})   "
        f"Overall {result.overall:.2f}   [1 = very similar ... 4 = very dissimilar]",
        "",
    ]
    for d in DIMENSIONS:
        lines.append(f"  {d:<10} {result.dimensions[d]:4.2f}  {_bar(result.dimensions[d])}")
    lines += ["", f"Languages: A={ev.languages[0]}  B={ev.languages[1]}"]
    for label, names in ev.shared_entities.items():
        if names or ev.only_a_entities[label] or ev.only_b_entities[label]:
            lines.append(f"{label.capitalize():<14} shared: {', '.join(names) or '-'}")
            lines.append(f"{'':<14} only A: {', '.join(ev.only_a_entities[label][:12]) or '-'}")
            lines.append(f"{'':<14} only B: {', '.join(ev.only_b_entities[label][:12]) or '-'}")
    lines.append(f"Countries      A: {', '.join(ev.countries[0]) or '-'}   B: {', '.join(ev.countries[1]) or '-'}")
    dates = [", ".join(map(_date_label, side)) or "-" for side in ev.dates]
    lines.append(f"Dates          A: {dates[0]}   B: {dates[1]}")
    lines.append(f"Numbers        A: {', '.join(ev.numbers[0][:15]) or '-'}   B: {', '.join(ev.numbers[1][:15]) or '-'}")
    lines.append(f"Copied text    {ev.copied_share[0]:.0%} of A appears in B; {ev.copied_share[1]:.0%} of B appears in A")
    lines += ["", "Aligned passages (similarity):"]
    if not ev.aligned_passages:
        lines.append("  none above 0.80")
    for p in ev.aligned_passages:
        lines.append(f"  {p.similarity:.2f}  A: {_clip(p.a)}")
        lines.append(f"        B: {_clip(p.b)}")
    lines += ["", "Cleaning removed:"]
    for side, report in zip("AB", ev.cleaning):
        sample = "; ".join(f'"{_clip(r, 40)}"' for r in report.removed[:4])
        more = f" (+{len(report.removed) - 4} more)" if len(report.removed) > 4 else ""
        lines.append(f"  {side}: {len(report.removed)} lines, {report.chars_removed:,} chars"
                     f"{' (encoding repaired)' if report.encoding_fixed else ''}"
                     f"{': ' + sample + more if sample else ''}")
    for flag in ev.flags:
        lines.append(f"Note: {flag}")
    return "\n".join(lines)


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, fieldnames: Sequence[str], out: SupportsWrite[str]) -> None:
    """``rows`` as ``jsonl`` (one JSON object a line) or ``csv`` (a header of ``fieldnames``, then a
    row each; lists joined with commas, a cell that starts like a formula quoted with ``'``)."""
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    w = csv.DictWriter(out, fieldnames=list(fieldnames), extrasaction="ignore")
    w.writeheader()
    w.writerows({k: csv_safe(",".join(v) if isinstance(v, list) else v) for k, v in row.items()} for row in rows)


def write_similar(hits: Sequence[SimilarArticle], fmt: str, out: SupportsWrite[str]) -> None:
    """``index similar``'s answer in ``text`` (a table), ``jsonl`` or ``csv`` (a row per article)."""
    if fmt != "text":
        write_rows((h.to_dict() for h in hits), fmt, [f.name for f in fields(SimilarArticle)], out)
        return
    out.write(f"{'overall':>7}  {'cosine':>6}  {'story':>6}  {'lang':<4}  {'date':<25}  title\n")
    for h in hits:
        overall = "-" if h.overall is None else f"{h.overall:.2f}"
        out.write(f"{overall:>7}  {h.similarity:>6.3f}  {h.story or '-':>6}  {cell(h.lang):<4}  "
                  f"{cell(h.date or '-'):<25}  {cell(h.title)}\n")


_COPY_FIELDS = ("group", "kind", "copied_share", "id", "record_id", "also_record_ids", "lang", "date", "title")


def write_duplicates(groups: Sequence[dict[str, Any]], fmt: str, out: SupportsWrite[str]) -> None:
    """``index duplicates``'s groups in ``text``, ``jsonl`` (a group a line) or ``csv`` (a row per
    article: its group's number from 1, ``kind`` ``source`` for the earliest, else the copy's kind)."""
    if fmt == "jsonl":
        write_rows(groups, fmt, (), out)
    elif fmt == "csv":
        write_rows(({**a, "group": n, "kind": a.get("kind", "source"), "copied_share": a.get("copied_share")}
                    for n, g in enumerate(groups, 1) for a in (g["source"], *g["copies"])), fmt, _COPY_FIELDS, out)
    else:
        def name(a: dict[str, Any]) -> str:
            ids = [i for i in (a.get("record_id"), *a.get("also_record_ids", [])) if i]
            return cell(f"{a['id']} [{', '.join(ids)}]" if ids else a["id"])

        for g in groups:
            src = g["source"]
            out.write(f"source {name(src)} ({cell(src['lang'])}, {cell(src['date'])}): {cell(src['title'])}\n")
            for c in g["copies"]:
                share = "" if c["copied_share"] is None else f", {c['copied_share']:.0%} of it copied"
                out.write(f"    {c['kind']}: {name(c)} ({cell(c['lang'])}{share}): {cell(c['title'])}\n")


def write_stories(stories: Sequence[Story], fmt: str, out: SupportsWrite[str]) -> None:
    """Stories in ``text`` (a table; ``table`` is its older name), ``jsonl`` (a story a line, as
    ``Story.to_dict``) or ``csv`` (a row per story, without members)."""
    rows = [{"story": s.id, "label": s.label, "size": s.size, "first_seen": s.first_seen,
             "last_seen": s.last_seen, "languages": ",".join(s.languages)} for s in stories]
    if fmt == "jsonl":
        for s in stories:
            out.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        write_rows(rows, fmt, ["story", "label", "size", "first_seen", "last_seen", "languages"], out)
    else:
        out.write(f"{'story':>7}  {'size':>5}  {'first seen':<25}  {'langs':<8}  label\n")
        for r in rows:
            out.write(f"{r['story']:>7}  {r['size']:>5}  {cell(r['first_seen']):<25}  {cell(r['languages']):<8}  "
                      f"{cell(r['label'])}\n")
