"""The per-article stages, apart from the writer: records -> rows that carry everything
the serial write path would otherwise compute for each article.

A row is one input record, in input order (``part``: which input file, ``seq``: its
place in that file): its provenance (source, line, the record's own id, or the reason
it cannot be indexed), the cleaned and language-tagged article (JSON), its content id,
and what ``corpus.ingest.add_batch`` needs per article: the head vector of
``opening(article)``, the MinHash signature of its full text and its per-article
linker features (names, keywords, numbers, length). The writer finds these by the
exact text it would compute them from (``Precomputed``), so the stories come out as a
local run makes them; where the corpus's learned boilerplate stripping changed an
article on the writer, the text differs and the writer computes that one itself.

Nothing here imports Ray: ``samestory embed`` runs these functions locally, and
``scale.ray_engine`` runs the same functions as Ray Data stages.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from samestory.corpus.ingest import Prepared, _record_id, prepare
from samestory.embed import Encoder
from samestory.index.minhash import NUM_PERM, signatures
from samestory.ingest import CleanSettings, Columns, InputRecord, folder_files, iter_records
from samestory.stories.link import Fingerprint, fingerprint
from samestory.text import opening
from samestory.types import Article, CleaningReport, IndexMismatch, InputError

#: Rows per Parquet file written by ``samestory embed``.
ROWS_PER_FILE = 20_000
#: Fingerprint fields that depend on the batch or on the neighbours, not on the text alone.
_CONTEXT_FIELDS = {"signature", "ts", "dated", "density"}


def corpus_clean() -> CleanSettings:
    """The cleaning settings ``Corpus`` indexes with (the same ids need the same cleaning)."""
    from samestory.corpus.corpus import DEFAULT_CLEAN

    return DEFAULT_CLEAN


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _arrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise RuntimeError("embedded rows (Parquet) need pyarrow: pip install 'samestory[ray]'") from exc
    return pa, pq


def _schema() -> Any:
    pa, _ = _arrow()
    return pa.schema([
        ("part", pa.int64()), ("seq", pa.int64()), ("source", pa.string()), ("line", pa.int64()),
        ("record_id", pa.string()), ("error", pa.string()), ("record", pa.string()),
        ("id", pa.string()), ("lang", pa.string()), ("ts", pa.float64()), ("dated", pa.bool_()),
        ("article", pa.string()), ("known", pa.bool_()),
        ("text_hash", pa.string()), ("head_hash", pa.string()),
        ("vector", pa.list_(pa.float32())), ("signature", pa.list_(pa.uint32())), ("features", pa.string()),
    ])


def to_table(rows: Sequence[dict[str, Any]]) -> Any:
    """Rows (dicts; missing fields are null) as an Arrow table with the one fixed schema."""
    pa, _ = _arrow()
    schema = _schema()      # the one list of fields: each row gets every one of them
    return pa.Table.from_pylist([{f: row.get(f) for f in schema.names} for row in rows], schema=schema)


# -- reading -------------------------------------------------------------------------
def input_files(inputs: Sequence[str | Path], follow_symlinks: bool = False) -> list[tuple[str, str | None]]:
    """The inputs as ``iter_records`` walks them (each folder's files, sorted, a link out of the
    folder refused unless ``follow_symlinks``), each with None or why it is not read."""
    out: list[tuple[str, str | None]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out.extend((str(p), why) for p, why in folder_files(path, follow_symlinks))
        else:
            out.append((str(path), None))
    return out


def _encode_record(record: dict[str, Any] | None) -> str | None:
    if record is None:
        return None
    return json.dumps(record, ensure_ascii=True, default=str)


def read_rows(part: int, path: str, cols: Columns, error: str | None = None) -> Iterator[dict[str, Any]]:
    """One input file's records as rows, every record once (unreadable ones with their reason);
    a file ``input_files`` refused (``error``) is one error row."""
    if error:
        yield {"part": part, "seq": 0, "source": path, "line": 0, "record_id": None, "error": error, "record": None}
        return
    for seq, item in enumerate(iter_records([path], cols)):
        yield {"part": part, "seq": seq, "source": item.source, "line": item.line, "record_id": item.record_id,
               "error": item.error, "record": _encode_record(item.record)}


# -- per-article stages --------------------------------------------------------------
def _article_json(article: Article) -> str:
    return json.dumps(dataclasses.asdict(article), ensure_ascii=True)


def _article(text: str) -> Article:
    data = json.loads(text)
    cleaning = data.pop("cleaning")
    cleaning["removed"] = tuple(cleaning["removed"])
    return Article(**data, cleaning=CleaningReport(**cleaning))


def prepare_rows(rows: Iterable[dict[str, Any]], clean: CleanSettings, known: Callable[[str], bool] | None = None
                 ) -> list[dict[str, Any]]:
    """Clean and language-tag each record (``corpus.ingest.prepare``). ``known(id)``: the article
    is stored already, so its later stages are skipped (a resumed run embeds only what is new)."""
    out = []
    for row in rows:
        record = None if row.get("record") is None else json.loads(row["record"])
        p = prepare(InputRecord(row["source"], row["line"], record, row.get("error"), row.get("record_id")), clean)
        new = {**row, "record": None, "record_id": _record_id(p)}
        if p.article is None:
            new["error"] = p.error
        else:
            new.update(error=None, id=p.id, lang=p.article.lang, ts=p.ts, dated=p.dated,
                       article=_article_json(p.article), known=bool(known and known(p.id)))
        out.append(new)
    return out


def _todo(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Article]]:
    return [(row, _article(row["article"])) for row in rows if row.get("article") and not row.get("known")]


def sign_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MinHash signature and per-article linker features of each new article's full text."""
    todo = _todo(rows)
    if not todo:
        return rows
    texts = [a.full_text for _, a in todo]
    sigs = signatures(texts)
    for (row, a), text, sig in zip(todo, texts, sigs):
        row["text_hash"] = text_key(text)
        row["signature"] = sig.tolist()
        row["features"] = features_json(fingerprint(text, a.lang, sig, 0.0, False, np.zeros(0)))
    return rows


def embed_rows(rows: list[dict[str, Any]], encoder: Encoder) -> list[dict[str, Any]]:
    """The head vector of each new article (``opening``). ``encoder`` is a ``CachedEncoder``, as
    on the writer: it encodes the texts it has not seen in the runs a local batch uses (the int8
    model's dynamic quantisation makes a vector depend a little on its run), so a block of the
    writer's batch size gets the vectors a local run gets."""
    todo = _todo(rows)
    if not todo:
        return rows
    heads = [opening(a) for _, a in todo]
    vectors = np.asarray(encoder.encode(heads), np.float32)
    for (row, _), head, vector in zip(todo, heads, vectors):
        row["head_hash"] = text_key(head)
        row["vector"] = vector.tolist()
    return rows


def embed_records(items: Iterable[InputRecord], encoder: Encoder, clean: CleanSettings,
                  batch_size: int = 128) -> Iterator[list[dict[str, Any]]]:
    """All the per-article stages in this process, one batch of rows at a time (``samestory embed``
    without Ray)."""
    batch: list[dict[str, Any]] = []
    for seq, item in enumerate(items):
        batch.append({"part": 0, "seq": seq, "source": item.source, "line": item.line, "record_id": item.record_id,
                      "error": item.error, "record": _encode_record(item.record)})
        if len(batch) == batch_size:
            yield embed_rows(sign_rows(prepare_rows(batch, clean)), encoder)
            batch = []
    if batch:
        yield embed_rows(sign_rows(prepare_rows(batch, clean)), encoder)


# -- per-article features as data ----------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return {"set": sorted(int(v) for v in value)}
    if isinstance(value, dict):
        return {"map": [[int(k), float(v)] for k, v in value.items()]}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} feature")


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and "set" in value:
        return frozenset(value["set"])
    if isinstance(value, dict) and "map" in value:
        return {k: v for k, v in value["map"]}
    return value


def features_json(fp: Fingerprint) -> str | None:
    """The text-derived fields of a fingerprint (whatever ``Fingerprint`` holds), or None when
    one of them cannot be kept as data (then the writer computes the fingerprint itself)."""
    try:
        return json.dumps({f.name: _plain(getattr(fp, f.name)) for f in dataclasses.fields(fp)
                           if f.init and f.name not in _CONTEXT_FIELDS})
    except TypeError:
        return None


# -- the writer's side ---------------------------------------------------------------
class Precomputed:
    """What one batch's rows carry, found by the exact text the write path computes it from."""

    def __init__(self, encoder_name: str | None = None):
        self.encoder_name = encoder_name
        self.vectors: dict[str, np.ndarray] = {}
        self.sigs: dict[str, np.ndarray] = {}
        self.features: dict[tuple[str, str], dict[str, Any]] = {}
        self.hits = self.misses = 0

    def add(self, row: dict[str, Any]) -> None:
        if row.get("head_hash") and row.get("vector") is not None:
            self.vectors[row["head_hash"]] = np.asarray(row["vector"], np.float32)
        if row.get("text_hash") and row.get("signature") is not None:
            self.sigs[row["text_hash"]] = np.asarray(row["signature"], np.uint32)
            if row.get("features"):
                self.features[(row["text_hash"], row["lang"])] = json.loads(row["features"])

    def encoder(self, fallback: Encoder) -> Encoder:
        if self.encoder_name and self.encoder_name != fallback.name:
            raise IndexMismatch(f"the vectors were made with encoder {self.encoder_name}, the index uses "
                                f"{fallback.name}; embed again with that encoder or use a new index")
        return _LookupEncoder(self, fallback)

    def signatures(self, texts: list[str]) -> list[np.ndarray]:
        keys = [text_key(t) for t in texts]
        missing = [t for t, k in zip(texts, keys) if k not in self.sigs]
        computed = dict(zip(missing, signatures(missing))) if missing else {}
        self._count(len(texts) - len(missing), len(missing))
        return [self.sigs[k] if k in self.sigs else computed[t] for t, k in zip(texts, keys)]

    def fingerprint(self, text: str, lang: str, signature: np.ndarray, ts: float, dated: bool,
                    neighbour_sims: np.ndarray) -> Fingerprint:
        parts = self.features.get((text_key(text), lang))
        if parts is None:
            self._count(0, 1)
            return fingerprint(text, lang, signature, ts, dated, neighbour_sims)
        self._count(1, 0)
        base = fingerprint("", lang, signature, ts, dated, neighbour_sims)
        return dataclasses.replace(base, **{k: _unplain(v) for k, v in parts.items()})

    def _count(self, hits: int, misses: int) -> None:
        self.hits += hits
        self.misses += misses


class _LookupEncoder:
    def __init__(self, ahead: Precomputed, fallback: Encoder):
        self.ahead, self.fallback = ahead, fallback
        self.name, self.dim = fallback.name, fallback.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = [t for t, k in zip(texts, keys) if k not in self.ahead.vectors]
        computed = dict(zip(missing, self.fallback.encode(missing))) if missing else {}
        self.ahead._count(len(texts) - len(missing), len(missing))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.ahead.vectors[k] if k in self.ahead.vectors else computed[t]
                         for t, k in zip(texts, keys)]).astype(np.float32)


def to_batches(rows: Iterable[dict[str, Any]], batch_size: int, encoder_name: str | None = None,
               dim: int | None = None) -> Iterator[tuple[list[Prepared], Precomputed]]:
    """Rows (in input order) as the write path's batches: ``Prepared`` records and their ``Precomputed``.
    A damaged row (``row_problem``; ``dim``: the encoder's vector length) is that record's error."""
    prepared: list[Prepared] = []
    ahead = Precomputed(encoder_name)
    for row in rows:
        prepared.append(to_prepared(row, dim))
        if prepared[-1].article is not None:     # a damaged row's vector is never looked up
            ahead.add(row)
        if len(prepared) == batch_size:
            yield prepared, ahead
            prepared, ahead = [], Precomputed(encoder_name)
    if prepared:
        yield prepared, ahead


def _typed(row: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = row.get(name)
    return value if isinstance(value, kind) and not (kind is int and isinstance(value, bool)) else default


def row_problem(row: dict[str, Any], dim: int | None = None) -> str | None:
    """Why an article row read back cannot be indexed (a damaged or hand-made part), or None.
    Checks the field types, and for a row not stored already: a vector of ``dim`` finite values
    and a MinHash signature of ``NUM_PERM`` values."""
    for name, kind in (("id", str), ("lang", str), ("dated", bool), ("ts", float)):
        if _typed(row, name, kind) is None:
            return f"damaged embedded row: {name!r} is missing or not a {kind.__name__}"
    if not math.isfinite(row["ts"]):
        return "damaged embedded row: 'ts' is not a finite time"
    if row.get("known"):
        return None        # stored already: nothing was computed ahead for it
    vector, sig = row.get("vector"), row.get("signature")
    if not isinstance(vector, list) or (dim is not None and len(vector) != dim):
        return f"damaged embedded row: the vector has {len(vector or [])} values, the encoder makes {dim}"
    if not all(isinstance(v, float | int) and math.isfinite(v) for v in vector):
        return "damaged embedded row: the vector holds NaN, infinite or missing values"
    if not isinstance(sig, list) or len(sig) != NUM_PERM or not all(isinstance(v, int) for v in sig):
        return f"damaged embedded row: the MinHash signature is missing or not {NUM_PERM} whole numbers"
    if row.get("features") is not None and not isinstance(row["features"], str):
        return "damaged embedded row: 'features' is not text"
    return None


def to_prepared(row: dict[str, Any], dim: int | None = None) -> Prepared:
    """One row as the write path's record: the article, or the error it carries, or why the row is
    damaged (``row_problem``, or an article that cannot be read back): never an exception."""
    line = _typed(row, "line", int, 0)
    item = InputRecord(_typed(row, "source", str, "?"), line, None, _typed(row, "error", str), _typed(row, "record_id", str))
    if not row.get("article"):
        return Prepared(item, error=item.error or "empty record")
    problem = row_problem(row, dim)
    if problem is None:
        try:
            if row.get("features") is not None and not isinstance(json.loads(row["features"]), dict):
                raise ValueError("the features are not a JSON object")
            return Prepared(item, _article(row["article"]), row["id"], float(row["ts"]), bool(row["dated"]))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            problem = f"damaged embedded row: {type(exc).__name__}: {str(exc)[:200]}"
    return Prepared(item, error=problem)


# -- Parquet -------------------------------------------------------------------------
def write_parquet(batches: Iterable[list[dict[str, Any]]], out: str | Path, encoder_name: str,
                  rows_per_file: int = ROWS_PER_FILE) -> dict[str, int]:
    """Rows, in input order, as ``OUT/part-NNNNN.parquet`` files (the encoder named in each
    file's metadata); counts of rows, articles and errors."""
    _, pq = _arrow()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("part-*.parquet")):
        raise InputError(f"{out} already holds embedded parts; use a new folder")
    schema = _schema().with_metadata({"samestory.encoder": encoder_name})
    counts = {"rows": 0, "articles": 0, "errors": 0, "files": 0}
    writer = None
    in_file = 0
    try:
        for batch in batches:
            if writer is None or in_file >= rows_per_file:
                if writer is not None:
                    writer.close()
                writer = pq.ParquetWriter(out / f"part-{counts['files']:05d}.parquet", schema)
                counts["files"] += 1
                in_file = 0
            writer.write_table(to_table(batch).replace_schema_metadata(schema.metadata))
            in_file += len(batch)
            counts["rows"] += len(batch)
            counts["errors"] += sum(1 for r in batch if not r.get("article"))
        counts["articles"] = counts["rows"] - counts["errors"]
    finally:
        if writer is not None:
            writer.close()
    return counts


def read_parquet(folder: str | Path) -> tuple[str | None, Iterator[dict[str, Any]]]:
    """The encoder named in ``samestory embed``'s output and its rows, in input order."""
    _, pq = _arrow()
    files = sorted(Path(folder).glob("part-*.parquet"))
    if not files:
        raise InputError(f"{folder}: no part-*.parquet files (made by `samestory embed`)")
    names = {(pq.read_schema(f).metadata or {}).get(b"samestory.encoder", b"").decode() for f in files}
    if len(names) != 1:
        raise InputError(f"{folder}: parts made with different encoders ({sorted(names)})")

    def rows() -> Iterator[dict[str, Any]]:
        for f in files:
            table = pq.read_table(f)
            table = table.sort_by([("part", "ascending"), ("seq", "ascending")])
            for batch in table.to_batches(max_chunksize=1024):
                yield from batch.to_pylist()

    return names.pop() or None, rows()

