"""``samestory index check``: find and mend what an index written before every field was
validated at the door may hold, so that every read of it works again.

What is checked, and how each is mended (all in one transaction):

- an article's ``lang`` that is not a language code: detected again from its text;
- an article's time outside the years news is written in (a date in year 9999, or one with
  an offset of a day): its date is dropped and it is dated when it was indexed;
- a story whose languages, first or last time or vector sum do not read, or disagree with
  its members: recomputed from its members.

A writer runs ``repair`` once on an index that was never checked (``meta.checked``), so a
poisoned index mends itself on the next write.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from samestory.index.rows import pack_langs
from samestory.index.store import Store
from samestory.ingest.validate import FUTURE_SLACK, MIN_YEAR, language
from samestory.text.lang import detect

log = logging.getLogger(__name__)
#: The checks' version: an index checked by an older set is checked again on its next write.
CHECKS = 1
_MIN_TS = -2208988800.0 + (MIN_YEAR - 1900) * 365.25 * 86400     # 1900-01-01 UTC


@dataclass
class CheckReport:
    """What ``check`` found (and, with ``repair``, mended)."""

    articles: int = 0
    bad_langs: list[int] = field(default_factory=list)      # rowids
    bad_times: list[int] = field(default_factory=list)      # rowids
    bad_stories: list[int] = field(default_factory=list)    # story ids
    repaired: bool = False

    @property
    def problems(self) -> int:
        return len(self.bad_langs) + len(self.bad_times) + len(self.bad_stories)

    def to_dict(self) -> dict[str, object]:
        return {"articles": self.articles, "bad_langs": len(self.bad_langs), "bad_times": len(self.bad_times),
                "bad_stories": len(self.bad_stories), "problems": self.problems, "repaired": self.repaired}


def _lang_ok(lang: object) -> bool:
    return lang == "und" or (isinstance(lang, str) and language(lang) == (lang, None))


def _time_ok(ts: object, now: float) -> bool:
    return isinstance(ts, int | float) and _MIN_TS <= ts <= now + FUTURE_SLACK.total_seconds()


def check(store: Store, repair: bool = False) -> CheckReport:
    """Scan ``store``; with ``repair``, mend what was found (the caller holds ``store.writer()``).

    Args:
        store: an index opened for writing when ``repair`` is asked for.
        repair: mend the problems found, in one transaction.

    Returns:
        What was found, and whether it was mended.
    """
    now = time.time()
    report = CheckReport()
    db = store.db
    for rowid, lang, ts in db.execute("SELECT rowid, lang, ts FROM articles"):
        report.articles += 1
        if not _lang_ok(lang):
            report.bad_langs.append(rowid)
        if not _time_ok(ts, now):
            report.bad_times.append(rowid)
    touched = {s for (s,) in store.where_in("SELECT DISTINCT story FROM articles WHERE rowid IN ({})",
                                               report.bad_langs + report.bad_times) if s is not None}
    for sid, vsum, n, first, last, langs in db.execute(
            "SELECT id, vsum, n, first, last, langs FROM stories WHERE merged_into IS NULL AND n > 0"):
        items = [item.rpartition(":") for item in (langs or "").split(",") if item]
        counts_ok = all(sep and c.isascii() and c.isdigit() and _lang_ok(code) for code, sep, c in items)
        if (sid in touched or not counts_ok or not _time_ok(first, now) or not _time_ok(last, now)
                or not isinstance(vsum, bytes) or len(vsum) % 8):
            report.bad_stories.append(sid)
    if repair and report.problems:
        _repair(store, report, now)
        report.repaired = True
    return report


def _repair(store: Store, report: CheckReport, now: float) -> None:
    with store.batch() as db:
        for rowid in report.bad_langs:
            title, text = db.execute("SELECT title, text FROM articles WHERE rowid=?", (rowid,)).fetchone()
            db.execute("UPDATE articles SET lang=? WHERE rowid=?", (detect(f"{title or ''}\n{text or ''}")[0], rowid))
        for rowid in report.bad_times:
            db.execute("UPDATE articles SET date=NULL, dated=0, ts=COALESCE(added, ?) WHERE rowid=?", (now, rowid))
        for sid in report.bad_stories:
            members = db.execute("SELECT lang, ts, vec FROM articles WHERE story=?", (sid,)).fetchall()
            if not members:
                db.execute("UPDATE stories SET n=0 WHERE id=?", (sid,))
                continue
            vsum = np.sum([np.frombuffer(v, np.float32).astype(np.float64) for _, _, v in members], axis=0)
            times = [float(t) for _, t, _ in members]
            db.execute("UPDATE stories SET vsum=?, n=?, first=?, last=?, langs=? WHERE id=?",
                       (vsum.tobytes(), len(members), min(times), max(times),
                        pack_langs(dict(Counter(str(lang) for lang, _, _ in members))), sid))
    log.warning("%s: repaired %d article languages, %d article times and %d stories", store.path,
                len(report.bad_langs), len(report.bad_times), len(report.bad_stories))


def repair_once(store: Store) -> CheckReport | None:
    """``check(repair=True)`` if this index was never checked by the current checks (the writer
    calls it under its lock); None when it already was."""
    if (store.get_meta("checked") or 0) >= CHECKS:
        return None
    report = check(store, repair=True)
    store.set_meta("checked", CHECKS)
    return report
