"""``samestory follow`` through the whole loop, beside ``index add`` of the same pages as files.

    python bench/follow_bench.py [--outlets 5] [--articles 300] [--encoder SPEC] [--repeat 2]

Serves ``--articles`` pages rendered from the multilingual stories file (headline, date,
navigation debris; rendered in memory, never stored) from ``--outlets`` local outlets
(threaded HTTP servers on loopback ports, each with robots.txt, an RSS feed and the
pages), then, in the same run and with the same encoder (each run with an empty vector
cache of its own):

  - ``index add``: the same pages written as .html files, added with ``Corpus.add``;
  - ``follow --once``: the outlets' feeds followed into a fresh index (``--host-delay``,
    0 by default: this measures the loop's own cost, not the politeness pauses).

It prints pages per second for each, the follower's overhead over ``index add`` (the
target is at most 15 %), the adjusted Rand index of the two indexes' story memberships,
whether every URL was reported once, and the smallest gap between two requests to one host.
Nothing here touches the internet.
"""
from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
SHARED = HERE.parent.parent / "shared" / "data"

from follow_fixtures import Outlet, gaps, page_html, stories_articles


def _corpus(db: Path, base, cache: Path):
    from samestory.corpus import Corpus
    from samestory.embed import CachedEncoder

    return Corpus(db, encoder=CachedEncoder(base, path=cache), progress=False)


def memberships(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT id, story FROM articles"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outlets", type=int, default=5)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--encoder", default=None, help="encoder spec (default: the corpus's default encoder)")
    ap.add_argument("--host-delay", type=float, default=0.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest is reported")
    ap.add_argument("--stories", type=Path, default=SHARED / "multilingual_stories" / "dev.csv")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from sklearn.metrics import adjusted_rand_score

    from samestory.corpus import DEFAULT_ENCODER
    from samestory.embed import load_encoder
    from samestory.ingest import iter_records
    from samestory.sources import FollowSettings, follow

    articles = stories_articles(args.stories, args.articles)
    outlets = [Outlet(f"Outlet {i}", articles[i::args.outlets]) for i in range(args.outlets)]
    base = load_encoder(args.encoder or DEFAULT_ENCODER)
    settings = FollowSettings(host_delay=args.host_delay, concurrency=args.concurrency)
    tmp = Path(tempfile.mkdtemp(prefix="follow-bench-"))
    folder = tmp / "pages"
    folder.mkdir()
    for o in outlets:
        for a in o.articles:
            (folder / f"{o.name.replace(' ', '-')}-{a.slug}.html").write_text(page_html(a, o.name), encoding="utf-8")
    print(f"{len(articles)} pages from {len(outlets)} outlets; encoder {base.name}; host delay {args.host_delay:g} s; "
          f"concurrency {args.concurrency}", flush=True)

    warm = _corpus(tmp / "warm.db", base, tmp / "warm.sqlite")        # imports and model start-up, not timed
    warm.add(list(iter_records(sorted(folder.iterdir())[:5])))
    warm.close()

    file_of = {f"{o.base}/news/{a.slug}": folder / f"{o.name.replace(' ', '-')}-{a.slug}.html"
               for o in outlets for a in o.articles}
    add_times, follow_times = [], []
    report: list[dict] = []
    for run in range(args.repeat):
        for o in outlets:
            o.log.clear()
        corpus = _corpus(tmp / f"follow-{run}.db", base, tmp / f"follow-{run}.sqlite")
        report = []
        start = time.perf_counter()
        summary = follow([f"{o.base}/feed.xml" for o in outlets], corpus, settings, once=True,
                         report_sink=report.append)
        follow_times.append(time.perf_counter() - start)
        corpus.close()

        # The same pages as files, in the order and the batches the follower wrote them (stories
        # are built incrementally: another order or other batches may group a few differently).
        order = [file_of[line["url"]] for line in report if line["type"] == "url" and line["url"] in file_of]
        corpus = _corpus(tmp / f"files-{run}.db", base, tmp / f"files-{run}.sqlite")
        start = time.perf_counter()
        done = corpus.add(iter_records(order), batch_size=settings.batch_size)
        add_times.append(time.perf_counter() - start)
        corpus.close()
        assert done.added + done.already_stored + done.errors == len(articles), done.summary()
        for o in done.outcomes:
            if o.status == "error" and run == 0:
                print(f"  (a page index add refuses, as follow did: {o.error})", flush=True)
        print(f"run {run + 1}: index add {add_times[-1]:.1f} s, follow {follow_times[-1]:.1f} s, {summary.to_dict()}",
              flush=True)

    n = len(articles)
    t_add, t_follow = min(add_times), min(follow_times)
    urls = Counter(line["url"] for line in report if line["type"] == "url")
    followed, indexed = memberships(tmp / "follow-0.db"), memberships(tmp / "files-0.db")
    ids = sorted(set(followed) & set(indexed))
    ari = adjusted_rand_score([followed[i] for i in ids], [indexed[i] for i in ids])
    min_gap = min(min(gaps(o.log)) for o in outlets)
    print(f"\nindex add (files):  {n / t_add:7.1f} pages/s  ({t_add:.1f} s)")
    print(f"follow --once:      {n / t_follow:7.1f} pages/s  ({t_follow:.1f} s, robots.txt, feeds and pages over HTTP)")
    print(f"follower overhead:  {100 * (t_follow / t_add - 1):+.1f} % (target: at most +15 %)")
    print(f"same stories:       adjusted Rand {ari:.4f} over {len(ids)} articles "
          f"({len(followed)} followed, {len(indexed)} from files)")
    print(f"reported once:      {len(urls)} URLs, {sum(v > 1 for v in urls.values())} more than once")
    print(f"politeness:         smallest gap between two requests to one host {min_gap * 1000:.0f} ms "
          f"(host delay {args.host_delay:g} s)")
    for o in outlets:
        o.close()


if __name__ == "__main__":
    main()
