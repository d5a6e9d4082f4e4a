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

Nothing here imports Ray: ``samestory index embed`` runs these functions locally, and
``scale.ray_engine`` runs the same functions as Ray Data stages.
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from samestory.corpus.corpus import DEFAULT_CLEAN
from samestory.corpus.precomputed import Precomputed, features_json, text_key
from samestory.corpus.prepare import Prepared, prepare, record_id_of
from samestory.embed import Encoder
from samestory.index.minhash import NUM_PERM, signatures
from samestory.ingest import CleanSettings, Columns, InputRecord, folder_files, iter_records
from samestory.stories.link import fingerprint
from samestory.text import opening
from samestory.types import Article, CleaningReport, InputError

#: Rows per Parquet file written by ``samestory index embed``.
ROWS_PER_FILE = 20_000


def corpus_clean() -> CleanSettings:
    """The cleaning settings ``Corpus`` indexes with (the same ids need the same cleaning)."""
    return DEFAULT_CLEAN


def _arrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise RuntimeError("embedded rows (Parquet) need pyarrow: pip install 'samestory[ray]'") from exc
    return pa, pq


@dataclass(frozen=True)
class EmbeddedRow:
    """One row of ``samestory index embed``'s Parquet (and of the Ray stages between them): an input
    record with its provenance, or the reason it cannot be indexed, and what the per-article
    stages computed for it. Its fields, in order, are the Parquet schema (``arrow_schema``);
    the stages pass rows as plain dicts with these keys (what Arrow reads and writes)."""

    part: int                        # which input file
    seq: int                         # its place in that file
    source: str
    line: int
    record_id: str | None            # the record's own id
    error: str | None                # why it cannot be indexed
    record: str | None               # the raw record (JSON), until it is prepared
    id: str | None = None            # content id of the cleaned article
    lang: str | None = None
    ts: float | None = None
    dated: bool | None = None
    article: str | None = None       # the cleaned article (JSON)
    known: bool | None = None        # already in the index the run writes to
    text_hash: str | None = None     # text_key of the full text (signature, features)
    head_hash: str | None = None     # text_key of opening(article) (vector)
    vector: list[float] | None = None
    signature: list[int] | None = None
    features: str | None = None      # features_json of the fingerprint
    replaces: str | None = None      # the content id of the version this one replaces (a page updated)

    #: Arrow type of each field that is not a string (``arrow_schema``).
    ARROW_TYPES: ClassVar[dict[str, str]] = {
        "part": "int64", "seq": "int64", "line": "int64", "ts": "float64", "dated": "bool_", "known": "bool_",
        "vector": "float32[]", "signature": "uint32[]"}

    @classmethod
    def arrow_schema(cls) -> Any:
        """The Parquet schema: every field, in order."""
        pa, _ = _arrow()

        def arrow_type(name: str) -> Any:
            kind = cls.ARROW_TYPES.get(name, "string")
            return pa.list_(getattr(pa, kind[:-2])()) if kind.endswith("[]") else getattr(pa, kind)()

        return pa.schema([(f.name, arrow_type(f.name)) for f in dataclasses.fields(cls)])


def to_table(rows: Sequence[dict[str, Any]]) -> Any:
    """Rows (dicts with ``EmbeddedRow``'s keys; missing ones are null) as an Arrow table."""
    pa, _ = _arrow()
    schema = EmbeddedRow.arrow_schema()
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
        new = {**row, "record": None, "record_id": record_id_of(p)}
        if p.article is None:
            new["error"] = p.error
        else:
            new.update(error=None, id=p.id, lang=p.article.lang, ts=p.ts, dated=p.dated, replaces=p.replaces,
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
    """All the per-article stages in this process, one batch of rows at a time (``samestory index embed``
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
            return Prepared(item, _article(row["article"]), row["id"], float(row["ts"]), bool(row["dated"]),
                            replaces=_typed(row, "replaces", str))
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
    schema = EmbeddedRow.arrow_schema().with_metadata({"samestory.encoder": encoder_name})
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
    """The encoder named in ``samestory index embed``'s output and its rows, in input order."""
    _, pq = _arrow()
    files = sorted(Path(folder).glob("part-*.parquet"))
    if not files:
        raise InputError(f"{folder}: no part-*.parquet files (made by `samestory index embed`)")
    names = {(pq.read_schema(f).metadata or {}).get(b"samestory.encoder", b"").decode() for f in files}
    if len(names) != 1:
        raise InputError(f"{folder}: parts made with different encoders ({sorted(names)})")

    def rows() -> Iterator[dict[str, Any]]:
        for f in files:
            table = pq.read_table(f)
            table = table.sort_by([("part", "ascending"), ("seq", "ascending")])
            if "user_id" in table.column_names:     # written before the record's own id was record_id
                table = table.rename_columns(["record_id" if c == "user_id" else c for c in table.column_names])
            for batch in table.to_batches(max_chunksize=1024):
                yield from batch.to_pylist()

    return names.pop() or None, rows()

