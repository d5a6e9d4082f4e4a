"""The per-article stages as a Ray Data pipeline; the writer stays one process.

    input files --read (tasks, one per file)--> records --repartition (batch-size blocks)-->
    prepare: clean + language-tag (tasks) --> sign: MinHash + per-article features (tasks) -->
    embed: head vectors (an actor pool; each actor loads the encoder once) --> rows, in input order

The rows stream back to the driver in input order, where ``Corpus.add_prepared`` links
and assigns them serially, batch by batch, exactly as ``--engine local`` does (see
``scale.embedded``). Blocks hold ``batch_size`` records, the writer's batch, and each
actor encodes a block's texts in the runs a local run uses, so the vectors (and
stories) come out as a local run makes them.

Ray is imported only here (``pip install 'samestory[ray]'``).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from samestory.ingest import CleanSettings, Columns

log = logging.getLogger(__name__)

#: CPUs each encoder actor and each task asks Ray for: fractional, so that on a small cluster
#: the read and prepare tasks still get a share (an actor pool that takes whole CPUs on a
#: 2-CPU cluster stalls the tasks that feed it). No stage may ask for a whole CPU: on nodes of
#: one CPU each, an actor's half leaves no node a whole one (the pipeline has no repartition,
#: whose tasks ask for one: the read stage already cuts blocks of --batch-size rows).
ACTOR_CPUS = 0.5
TASK_CPUS = 0.5


def require_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("--engine ray needs Ray: pip install 'samestory[ray]'") from exc
    return ray


class RaySession:
    """Connects to ``address`` (or ``RAY_ADDRESS``), or starts a local Ray cluster with this
    machine's CPUs; shuts down only what it started. Reuses a running ``ray.init``."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        self.address, self.num_cpus = address, num_cpus
        self.started = False

    def __enter__(self) -> Any:
        ray = require_ray()
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            # A cluster started here runs this process's code and cache; a running one has its own.
            env = {} if address else {k: v for k, v in os.environ.items() if k in ("SAMESTORY_CACHE", "PYTHONPATH")}
            try:
                ray.init(address=address, num_cpus=None if address else self.num_cpus, log_to_driver=False,
                         include_dashboard=False, runtime_env={"env_vars": env} if env else None,
                         logging_level=logging.WARNING)
            except ConnectionError as exc:
                # Ray 2.60's `ray start` turns token authentication on: a writer without the token is
                # refused with no word about it.
                raise ConnectionError(
                    f"{exc}. If the cluster uses token authentication (Ray's `ray start` turns it on), give "
                    "this machine the cluster's token: copy the head node's ~/.ray/auth_token here, or set "
                    "RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) before running samestory; docs/scale.md says more"
                ) from exc
            self.started = True
        return ray

    def __exit__(self, *exc: object) -> None:
        if self.started:
            import ray

            ray.shutdown()


# -- stages (module functions and one class: Ray pickles them by reference) -------------
def _read(batch: Any, cols: Columns, batch_rows: int) -> Iterator[Any]:
    from samestory.scale.embedded import read_rows, to_table

    for part, path, error in zip(batch["part"].to_pylist(), batch["path"].to_pylist(), batch["error"].to_pylist()):
        rows = []
        for row in read_rows(part, path, cols, error):
            rows.append(row)
            if len(rows) == batch_rows:
                yield to_table(rows)
                rows = []
        if rows:
            yield to_table(rows)


_KNOWN: dict[str, frozenset[str]] = {}


def _known_ids(ref: Any) -> frozenset[str]:
    """The stored ids (put in Ray's object store once; fetched once per worker process)."""
    import ray

    key = ref.hex()
    if key not in _KNOWN:
        _KNOWN.clear()
        _KNOWN[key] = frozenset(ray.get(ref))
    return _KNOWN[key]


def _prepare(batch: Any, clean: CleanSettings, known_ref: list[Any] | None) -> Any:
    from samestory.scale.embedded import prepare_rows, sign_rows, to_table

    known = _known_ids(known_ref[0]) if known_ref else frozenset()
    return to_table(sign_rows(prepare_rows(batch.to_pylist(), clean, known.__contains__)))


class _Embedder:
    """One per actor: loads the encoder once, then embeds block after block."""

    def __init__(self, spec: str, threads: int):
        from samestory.embed import CachedEncoder, load_encoder

        self.encoder = CachedEncoder(load_encoder(spec, threads=threads))   # this node's vector cache

    def __call__(self, batch: Any) -> Any:
        from samestory.scale.embedded import embed_rows, to_table

        return to_table(embed_rows(batch.to_pylist(), self.encoder))


def ray_rows(inputs: Sequence[str], cols: Columns, clean: CleanSettings, encoder_spec: str, batch_size: int = 128,
             workers: int | None = None, threads: int | None = None,
             known: frozenset[str] = frozenset(), follow_symlinks: bool = False) -> Iterator[dict[str, Any]]:
    """Every input record as a row (``scale.embedded``), in input order, computed on the
    current Ray cluster (``RaySession``): ``workers`` encoder actors (default: one per
    cluster CPU), each running ONNX Runtime on ``threads`` threads."""
    ray: Any = require_ray()     # untyped in places: the pipeline is checked by tests/test_ray.py

    from samestory.scale.embedded import input_files

    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = workers or max(1, cpus)
    threads = threads or max(1, cpus // workers)
    files = input_files(inputs, follow_symlinks)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True      # the writer reads the rows in input order
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    known_ref = [ray.put(known)] if known else None
    ds = (ray.data.from_items([{"part": i, "path": p, "error": e} for i, (p, e) in enumerate(files)],
                              override_num_blocks=max(1, min(len(files), 4 * cpus)))
          .map_batches(_read, batch_format="pyarrow", batch_size=1, num_cpus=TASK_CPUS,
                       fn_kwargs={"cols": cols, "batch_rows": batch_size})
          .map_batches(_prepare, batch_format="pyarrow", batch_size=batch_size, num_cpus=TASK_CPUS,
                       fn_kwargs={"clean": clean, "known_ref": known_ref})
          .map_batches(_Embedder, batch_format="pyarrow", batch_size=batch_size,
                       compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=ACTOR_CPUS,
                       fn_constructor_kwargs={"spec": encoder_spec, "threads": threads}))
    for table in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
        yield from table.to_pylist()
