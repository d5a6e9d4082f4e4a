"""``samestory index upgrade``: re-embed an index built by an older release with the current encoder."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from samestory.cli.render import dump_json
from samestory.types import InputError


def cmd_index_upgrade(args: argparse.Namespace) -> int:
    """Re-embed every article of ``--db`` with the current default encoder, in place and resumably
    (``corpus.upgrade``); a progress bar with its total and ETA goes to standard error.

    Returns:
        0 (done, or nothing to do).

    Raises:
        InputError: ``--db`` names no index, or a file that is not one.
    """
    from tqdm import tqdm

    from samestory.corpus import DEFAULT_ENCODER
    from samestory.corpus.upgrade import pending, upgrade
    from samestory.embed import load_encoder
    from samestory.index.store import Store

    if not Path(args.db).is_file():
        raise InputError(f"no index at {args.db} (--db names an existing index here)")
    start = time.perf_counter()
    store = Store(args.db, lock_timeout=args.lock_timeout)
    try:
        before = store.get_meta("encoder")
        encoder = load_encoder(DEFAULT_ENCODER)
        total = pending(store, encoder)
        bar = tqdm(total=total, desc="re-embedding", unit="article", file=sys.stderr, disable=total == 0)
        try:
            embedded = upgrade(store, encoder, batch_size=args.batch_size, progress=bar.update, spec=DEFAULT_ENCODER)
        except KeyboardInterrupt:
            print("samestory: interrupted; the batches done are kept: run the same command again to go on",
                  file=sys.stderr)
            raise
        finally:
            bar.close()
        articles = store.count()
    finally:
        store.db.close()
    summary = {"db": str(args.db), "from": before, "to": encoder.name, "embedded": embedded, "articles": articles,
               "seconds": round(time.perf_counter() - start, 2)}
    if args.format == "json":
        dump_json(summary)
    elif before == encoder.name and not embedded:
        print(f"{args.db} already uses encoder {encoder.name}; nothing to do")
    else:
        print(f"{args.db}: re-embedded {embedded} articles ({articles} in the index) with {encoder.name} "
              f"(was {before}) in {summary['seconds']} s")
    if embedded:
        print("samestory: the ANN index and the cold archive are rebuilt from the new vectors on next use; restart "
              "any `samestory index serve` that has this index open", file=sys.stderr)
    return 0
