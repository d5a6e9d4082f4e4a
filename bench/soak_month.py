"""A month in a benchmark: a long stream of news through the real write path, with a reader beside it.

    python bench/soak_month.py [--articles 1000000] [--days 10] [--hot-days 3] [--db DB] [--out FILE]

What it does. ``--articles`` synthetic articles arrive over ``--days`` simulated days (the same
number each day, timestamps increasing within a day, dates as ISO strings) and go through
``Corpus.add`` in batches of 512 with the ``hashing`` encoder (no model: the benchmark times the
index, the copies, the stories and the store, not the transformer), with ``hot_days`` (only the
last days of news in the writer's memory) when this version of ``Corpus`` takes it. The stream
is generated lazily, never all in memory, and looks like news: stories that run from 3 hours to
2 days with 1 to 50 articles each, headlines of 6 to 14 words from each story's own names and
topic words plus filler words every story uses; about 1.5% exact copies of a recent article
(the same text under another record id: stored once), 1.5% near copies (one word changed or
added: a syndicated copy), and 0.2% re-runs: near copies of an article from a day at least
``hot_days`` back (up to 8; in the first days, of the oldest day). A re-run counts as old when its
source is more than ``hot_days`` older than it; the writer no longer holds such a source in memory.

A reader process (``samestory index serve`` on the same file, started at the beginning) answers
``GET /articles/{id}/similar`` and ``GET /stories?limit=20``; after each day it gets 50 of each,
one at a time. After each day 100 random stored articles are deleted (``Corpus.delete``; skipped
with a note where this version has none); at the end each deleted article is looked for in
``stories(members=True)``, in ``similar`` for its own text, in ``duplicates()`` and over HTTP
(its own endpoint must answer 404).

How to read it. One row per day: ``ms/art`` is that day's write cost per article (generation
excluded), ``rss`` the writer's resident memory now (not the peak: it should level off once
``hot_days`` have passed, not grow with the corpus), ``disk`` the index's files (the .db and its
-wal, ``.usearch*``, a ``.cold/`` folder), and the reader's p50/p99 latency and resident memory.
The reader's p99 over 50 requests is its worst one: in practice the first request after the
day's writes, which catches the reader's in-memory index up with the store.
The last line is for machines: ``summary: days=.. articles=.. rss_day4_mb=.. rss_last_mb=..
ms_day4=.. ms_last=.. deleted_found=..`` (must be 0) then ``old_copies_found=X/Y`` (re-runs of
articles older than ``hot_days`` that the index marked as copies of their source) and more.
"""
from __future__ import annotations

import argparse
import heapq
import inspect
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx
from tqdm import tqdm

from samestory.corpus import Corpus
from samestory.embed import load_encoder
from samestory.ingest import InputRecord
from samestory.types import InputError

DAY = 86400.0
START = datetime(2025, 3, 1, tzinfo=UTC).timestamp()
BATCH = 512
PROBES = 50
FILLER = ("after as at says said over new amid more first could will report update live latest the of to in for "
          "on with by from up out about against than into before under week today year may still again now back "
          "off less most top big major key early late high low full part").split()
TOPIC = ("election vote budget tax court trial judge police fire flood storm quake drought strike union wage bank "
         "rates inflation market shares oil gas energy power grid rail airport flight crash border migrants army "
         "troops ceasefire talks summit treaty sanctions tariff trade exports factory jobs layoffs merger deal "
         "bid lawsuit fraud probe scandal resign minister president senate parliament mayor council school "
         "students teachers hospital doctors nurses virus vaccine outbreak drug prices housing rent mortgage "
         "climate emissions wildfire heatwave hurricane evacuation rescue missing victims protest riot arrest "
         "verdict appeal ruling ban law bill reform pension health insurance chip software hack outage data "
         "privacy satellite rocket launch mission museum festival film award final match cup league coach "
         "transfer record champion injury stadium fans ticket tourism hotel port ship cargo fuel harvest "
         "farmers food water dam bridge road tunnel metro bus").split()
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def name(rng: random.Random) -> str:
    """A made-up proper name (a person, a place, a company): unique enough per story."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


@dataclass
class Story:
    """A story's own words and when its next articles are due (latest first, so ``pop`` gives the next)."""

    names: list[str]
    topic: list[str]
    due: list[float]

    def headline(self, rng: random.Random) -> str:
        length = rng.randint(6, 14)
        own = rng.sample(self.names, rng.randint(1, len(self.names)))
        own += rng.sample(self.topic, min(len(self.topic), rng.randint(2, max(2, length // 2 - len(own)))))
        words = own + rng.choices(FILLER, k=max(0, length - len(own)))
        rng.shuffle(words)
        return " ".join(words)


def near_copy(title: str, rng: random.Random) -> str:
    """A lightly edited copy: one word changed, or (for a short headline) one added."""
    words = title.split()
    if len(words) < 9:
        words.insert(rng.randrange(len(words) + 1), rng.choice(FILLER))
    else:
        words[rng.randrange(len(words))] = rng.choice(FILLER)
    return " ".join(words)


@dataclass
class NewsStream:
    """Generates the month lazily, one simulated day at a time, and remembers only what the checks
    need: a sample of each day's headlines (for re-runs) and the record ids of copies."""

    articles: int
    days: int
    hot_days: float
    seed: int = 0
    rng: random.Random = field(init=False)
    running: list[tuple[float, int, Story]] = field(default_factory=list)   # a heap: (next due, order, story)
    stories: int = 0
    recent: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=5000))
    archive: dict[int, list[tuple[str, str, float]]] = field(default_factory=dict)   # day -> (id, title, ts)
    near: list[str] = field(default_factory=list)          # record ids of near copies of recent articles
    reruns: list[tuple[str, str, bool]] = field(default_factory=list)   # (record id, source's, older than hot)
    deleted: set[str] = field(default_factory=set)         # headlines of deleted articles (never copied)
    exact: int = 0
    generated: int = 0
    seconds: float = 0.0                                   # time spent generating (not writing)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def size(self, day: int) -> int:
        return self.articles * (day + 1) // self.days - self.articles * day // self.days

    def day(self, day: int) -> Iterator[InputRecord]:
        count, start = self.size(day), START + day * DAY
        sample: list[tuple[str, str, float]] = []
        for j in range(count):
            t0 = time.perf_counter()
            ts = start + (j + self.rng.random()) * DAY / count
            rid = f"a{self.generated}"
            title = self.title(ts, day, rid)
            if len(sample) < 400:
                sample.append((rid, title, ts))
            elif (slot := self.rng.randrange(j + 1)) < 400:
                sample[slot] = (rid, title, ts)
            self.recent.append((rid, title))
            date = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            self.generated += 1
            self.seconds += time.perf_counter() - t0
            yield InputRecord("month", self.generated, {"id": rid, "title": title, "date": date})
        self.archive[day] = sample
        self.archive.pop(day - 8, None)

    def title(self, ts: float, day: int, rid: str) -> str:
        """A copy (exact or near) of a recent article, a re-run of an old one, or a story's next headline.
        A deleted article is never copied: an exact copy would store its text again."""
        roll = self.rng.random()
        if roll < 0.03 and self.recent:
            copied = self.rng.choice(self.recent)[1]
            if copied not in self.deleted and roll < 0.015:
                self.exact += 1
                return copied
            if copied not in self.deleted:
                self.near.append(rid)
                return near_copy(copied, self.rng)
        if 0.03 <= roll < 0.032 and self.archive:
            old = [d for d in self.archive if day - d >= self.hot_days]
            source, text, then = self.rng.choice(self.archive[self.rng.choice(old) if old else min(self.archive)])
            if text not in self.deleted:
                self.reruns.append((rid, source, ts - then > self.hot_days * DAY))
                return near_copy(text, self.rng)
        return self.story(ts).headline(self.rng)

    def story(self, ts: float) -> Story:
        """The story this article reports: the running story whose next article is most overdue, or
        else a new one, which plans its other articles (1 to 49 more, most early) over 3 to 48 hours."""
        if self.running and self.running[0][0] <= ts:
            _, _, story = heapq.heappop(self.running)
        else:
            size = min(50, int(self.rng.paretovariate(1.0)))     # P(size >= k) = 1/k: most stories are small
            runs = self.rng.uniform(3 * 3600, 2 * DAY)
            due = sorted((ts + runs * self.rng.random() ** 2 for _ in range(size - 1)), reverse=True)
            story = Story([name(self.rng) for _ in range(self.rng.randint(2, 4))], self.rng.sample(TOPIC, 6), due)
        if story.due:
            self.stories += 1
            heapq.heappush(self.running, (story.due.pop(), self.stories, story))
        return story


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory now (not the peak), from /proc/PID/statm."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def disk_mb(db: Path) -> float:
    """The index's files: the .db and its -wal, PATH.usearch*, and a PATH.cold/ folder."""
    paths = [db, Path(f"{db}-wal"), *db.parent.glob(f"{db.name}.usearch*")]
    cold = Path(f"{db}.cold")
    paths += [p for p in cold.rglob("*") if p.is_file()] if cold.is_dir() else []
    return sum(p.stat().st_size for p in paths if p.is_file()) / 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_reader(db: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``samestory index serve`` on ``db`` (its stderr in ``log``), once it answers /healthz."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "samestory.cli", "index", "serve", "--db", str(db), "--port",
                                 str(port)], stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"samestory index serve exited before it became healthy; see {log}")
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("samestory index serve was not healthy after 180 s")


def latency(client: httpx.Client, urls: list[str]) -> tuple[float, float, int]:
    """p50 and p99 in ms over ``urls`` requested one at a time, and how many did not answer 200."""
    times, errors = [], 0
    for url in urls:
        t = time.perf_counter()
        errors += client.get(url).status_code != 200
        times.append(1000 * (time.perf_counter() - t))
    q = statistics.quantiles(times, n=100, method="inclusive")
    return q[49], q[98], errors


class Reservoir:
    """A uniform sample of the stored articles' ids (what the deletes and the probes pick from)."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng, self.seen = size, rng, 0
        self.items: list[str] = []

    def add(self, item: str) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        elif (slot := self.rng.randrange(self.seen)) < self.size:
            self.items[slot] = item

    def take(self, n: int) -> list[str]:
        self.rng.shuffle(self.items)
        taken, self.items = self.items[:n], self.items[n:]
        return taken


def count_deleted(report: Any) -> int | None:
    """How many the delete report says it deleted, whatever its shape: a ``deleted`` count or list,
    ``outcomes`` with a ``status`` each, or a mapping of id to status. None if it cannot tell."""
    value = report.get("deleted") if isinstance(report, dict) else getattr(report, "removed",
                                                                            getattr(report, "deleted", None))
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple | set | dict):
        return len(value)
    outcomes = report.get("outcomes", report) if isinstance(report, dict) else getattr(report, "outcomes", report)
    if isinstance(outcomes, dict):
        outcomes = list(outcomes.values())
    if not isinstance(outcomes, list | tuple):
        return None
    statuses = [o.get("status") if isinstance(o, dict) else getattr(o, "status", o) for o in outcomes]
    return sum(str(s).lower().rsplit(".", 1)[-1] == "deleted" for s in statuses)


def deleted_still_found(corpus: Corpus, deleted: dict[str, Any], client: httpx.Client, base: str) -> dict[str, int]:
    """For each place, how many deleted articles it still shows."""
    members = {m.id for s in corpus.stories(members=True) for m in s.members}
    copies = {e["id"] for g in corpus.duplicates() for e in (g["source"], *g["copies"])}
    paths = client.get(f"{base}/openapi.json").json().get("paths", {})
    one = "/articles/{}" if "get" in paths.get("/articles/{article_id}", {}) else "/articles/{}/similar"
    found = {"stories": 0, "similar": 0, "duplicates": 0, "http": 0, "store": 0}
    anywhere = set()
    for aid, article in deleted.items():
        hits: list[str] = []
        try:
            hits = [h.id for h in corpus.similar(article, k=10, rescore=False)]
        except InputError:
            pass
        checks = {"stories": aid in members, "similar": aid in hits, "duplicates": aid in copies,
                  "http": client.get(base + one.format(aid)).status_code != 404,
                  "store": corpus.store.article(aid) is not None}
        for key, hit in checks.items():
            found[key] += hit
            if hit:
                anywhere.add(aid)
    found["any"] = len(anywhere)
    return found


def copies_found(corpus: Corpus, stream: NewsStream, gone: set[str]) -> dict[str, list[int]]:
    """Near copies and re-runs that the index marked as copies (of their source, for re-runs): [found, of]."""
    marked = {rowid: root for rowid, root, _ in corpus.store.copies()}
    out = {"near": [0, 0], "old": [0, 0], "recent": [0, 0]}
    for rid in stream.near:
        a = corpus.store.article(rid)
        if a is not None:
            out["near"][0] += a.rowid in marked
            out["near"][1] += 1
    for rid, source_rid, old in stream.reruns:
        a, src = corpus.store.article(rid), corpus.store.article(source_rid)
        if a is None or src is None or source_rid in gone:
            continue
        key = "old" if old else "recent"
        out[key][0] += marked.get(a.rowid) in (src.rowid, src.dup_of)
        out[key][1] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--hot-days", type=float, default=3.0)
    ap.add_argument("--deletes-per-day", type=int, default=100)
    ap.add_argument("--db", type=Path, help="the index (default: a new one in a temporary folder)")
    ap.add_argument("--out", type=Path, help="also write the table and summary here")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-month-") as tmp:
        run(args, args.db or Path(tmp) / "month.db")


def run(args: argparse.Namespace, db: Path) -> None:
    out: list[TextIO] = [sys.stdout]
    if args.out:
        out.append(args.out.open("w"))

    def say(line: str) -> None:
        for f in out:
            print(line, file=f, flush=True)

    kwargs: dict[str, Any] = {"encoder": load_encoder("hashing"), "progress": False}
    if "hot_days" in inspect.signature(Corpus).parameters:
        kwargs["hot_days"] = args.hot_days
    else:
        say(f"note: this Corpus takes no hot_days: everything stays in the writer's memory ({db})")
    can_delete = hasattr(Corpus, "delete")
    if not can_delete:
        say("note: this Corpus has no delete(): the deletes and their checks are skipped")
    corpus = Corpus(db, **kwargs)
    with corpus.store.writer():   # so that the reader loads the same encoder, not the default model
        corpus.store.set_meta("encoder", corpus.encoder.name)
        corpus.store.set_meta("encoder_spec", "hashing")
    reader_log = Path(tempfile.gettempdir()) / f"soak-month-reader-{os.getpid()}.log"
    reader, base = start_reader(db, reader_log)
    stream = NewsStream(args.articles, args.days, args.hot_days, seed=args.seed)
    stored = Reservoir(20_000, random.Random(args.seed + 1))
    probe_rng = random.Random(args.seed + 2)
    deleted: dict[str, Any] = {}
    gone_records: set[str] = set()
    delete_reported = 0
    rows: list[dict[str, float]] = []
    say(f"soak month: {args.articles:,} articles over {args.days} days, hot_days={kwargs.get('hot_days', 'n/a')}, "
        f"batches of {BATCH}, hashing encoder, {db} (the reader's log: {reader_log})")
    say(f"{'day':>3} {'articles':>9} {'ms/art':>7} {'rss MB':>7} {'disk MB':>8} {'similar p50/p99 ms':>19} "
        f"{'stories p50/p99 ms':>19} {'reader MB':>9} {'deleted':>7}")
    bar = tqdm(total=args.articles, desc="month", unit="article", file=sys.stderr, smoothing=0.05)
    client = httpx.Client(timeout=300)
    try:
        for day in range(args.days):
            gen_before = stream.seconds
            t0 = time.perf_counter()
            report = corpus.add(progressed(stream.day(day), bar), batch_size=BATCH, total=stream.size(day))
            write_s = time.perf_counter() - t0 - (stream.seconds - gen_before)
            for o in report.outcomes:
                if o.status == "added" and o.article:
                    stored.add(o.article)
            del report
            ms = 1000 * write_s / max(1, stream.size(day))
            rss = rss_mb()
            if can_delete and args.deletes_per_day:
                ids = stored.take(args.deletes_per_day)
                for aid in ids:
                    a = corpus.store.article(aid)
                    if a is not None:
                        deleted[aid] = a.to_article()
                        gone_records.add(a.record_id or "")
                        stream.deleted.add(a.title)
                delete_reported += count_deleted(corpus.delete(ids)) or 0
            sim = latency(client, [f"{base}/articles/{probe_rng.choice(stored.items)}/similar?k=10"
                                   for _ in range(PROBES)]) if stored.items else (0.0, 0.0, 0)
            sto = latency(client, [f"{base}/stories?limit=20"] * PROBES)
            row = {"day": day + 1, "articles": stream.generated, "ms": ms, "rss": rss, "disk": disk_mb(db),
                   "sim50": sim[0], "sim99": sim[1], "sto50": sto[0], "sto99": sto[1], "reader": rss_mb(reader.pid),
                   "errors": sim[2] + sto[2]}
            rows.append(row)
            bar.clear()
            say(f"{day + 1:>3} {stream.generated:>9,} {ms:>7.2f} {rss:>7.0f} {row['disk']:>8.0f} "
                f"{sim[0]:>9.1f}/{sim[1]:<9.1f} {sto[0]:>9.1f}/{sto[1]:<9.1f} {row['reader']:>9.0f} {len(deleted):>7}"
                + (f"  ({row['errors']} requests not 200)" if row["errors"] else ""))
        bar.close()
        t0 = time.perf_counter()
        found = deleted_still_found(corpus, deleted, client, base) if can_delete else {"any": 0}
        copies = copies_found(corpus, stream, gone_records)
        check_s = time.perf_counter() - t0
    finally:
        client.close()
        reader.terminate()
        reader.wait(timeout=60)
        corpus.close()
    day4, last = rows[min(4, len(rows)) - 1], rows[-1]
    say(f"checks ({check_s:.0f} s): deleted {len(deleted)} (the delete reports said {delete_reported}); still "
        f"found: {found}; near copies marked {copies['near'][0]}/{copies['near'][1]}, re-runs of articles older "
        f"than {args.hot_days:g} days {copies['old'][0]}/{copies['old'][1]}, of recent ones "
        f"{copies['recent'][0]}/{copies['recent'][1]}; exact copies (stored once) {stream.exact}")
    say(f"summary: days={args.days} articles={stream.generated} rss_day4_mb={day4['rss']:.0f} "
        f"rss_last_mb={last['rss']:.0f} ms_day4={day4['ms']:.3f} ms_last={last['ms']:.3f} "
        f"deleted_found={found['any'] if can_delete else 'skipped'} "
        f"old_copies_found={copies['old'][0]}/{copies['old'][1]} "
        f"near_copies_found={copies['near'][0]}/{copies['near'][1]} deleted={len(deleted)} "
        f"disk_last_mb={last['disk']:.0f} similar_p99_last_ms={last['sim99']:.1f} "
        f"stories_p99_last_ms={last['sto99']:.1f} reader_rss_last_mb={last['reader']:.0f} "
        f"hot_days={kwargs.get('hot_days', 'none')}")
    for f in out[1:]:
        f.close()


def progressed(records: Iterator[InputRecord], bar: tqdm[Any]) -> Iterator[InputRecord]:
    """``records``, advancing the month's progress bar as they are taken."""
    for record in records:
        bar.update(1)
        yield record


if __name__ == "__main__":
    main()
