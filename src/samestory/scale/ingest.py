"""One call that ingests files into a corpus on the engine asked for: ``local`` (this
process: ``Corpus.add``), ``ray`` (the per-article stages as Ray Data stages on a cluster,
the writer here) or from folders ``samestory index embed`` wrote. The CLI's ``index add`` is
this function; a Python user gets the same choice."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from samestory.corpus import DEFAULT_ENCODER, Corpus
from samestory.ingest import Columns, iter_records
from samestory.types import AddReport, IndexMismatch, InputError

ENGINES = ("local", "ray")


def ingest(corpus: Corpus, inputs: Sequence[str] = (), cols: Columns = Columns(), engine: str = "local",
           batch_size: int = 128, follow_symlinks: bool = False, ray_address: str | None = None,
           ray_workers: int | None = None, from_embedded: Sequence[str] = (), total: int | None = None,
           update: bool = False) -> AddReport:
    """Add ``inputs`` (files and folders, as ``iter_records`` reads them) to ``corpus``.

    Args:
        corpus: the index written to (this process is its one writer).
        inputs: files and folders; or give ``from_embedded`` instead.
        cols: which fields hold what.
        engine: ``local`` or ``ray`` (needs ``samestory[ray]``).
        batch_size: records per write transaction (and per Ray block).
        follow_symlinks: read links out of an input folder.
        ray_address: the Ray cluster to join (default: ``$RAY_ADDRESS``, else a local one).
        ray_workers: encoder actors on the cluster (default: one per CPU).
        from_embedded: folders ``samestory index embed`` wrote, read instead of ``inputs``.
        total: how many records to expect (the progress bar's total and ETA), when known.
        update: correct stored articles' metadata from re-added records (``Corpus.add_prepared``).

    Returns:
        What became of every record.

    Raises:
        InputError: both or neither of ``inputs`` and ``from_embedded``, or an unknown engine.
        IndexMismatch: embedded rows made with another encoder than the index's.
    """
    if inputs and from_embedded:
        raise InputError("give INPUTS or --from-embedded DIR, not both")
    if not (inputs or from_embedded):
        raise InputError("nothing to add: give INPUTS or --from-embedded DIR")
    if engine not in ENGINES:
        raise InputError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if from_embedded:
        from samestory.scale.embedded import read_parquet, to_batches

        def embedded_rows() -> Iterator[dict[str, Any]]:
            for folder in from_embedded:
                name, found = read_parquet(folder)
                if name and name != corpus.encoder.name:
                    raise IndexMismatch(f"{folder} was embedded with {name}, the index uses {corpus.encoder.name}")
                yield from found

        return corpus.add_prepared(to_batches(embedded_rows(), batch_size, corpus.encoder.name,
                                              dim=corpus.encoder.dim), total=total, engine="embedded", update=update)
    if engine == "ray":
        from samestory.scale.embedded import to_batches
        from samestory.scale.ray_engine import RaySession, ray_rows

        spec = corpus.store.get_meta("encoder_spec") or DEFAULT_ENCODER
        known = frozenset(corpus.store.all_ids())
        with RaySession(ray_address):
            rows = ray_rows(list(inputs), cols, corpus.clean, spec, batch_size, ray_workers, known=known,
                            follow_symlinks=follow_symlinks)
            return corpus.add_prepared(to_batches(rows, batch_size, corpus.encoder.name,
                                                  dim=corpus.encoder.dim), total=total, engine="ray", update=update)
    return corpus.add(iter_records(inputs, cols, follow_symlinks=follow_symlinks), batch_size=batch_size,
                      total=total, update=update)
