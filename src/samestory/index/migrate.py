"""The index file's schema and its versions: what an older file gains when a writer opens
it, keyed on SQLite's ``PRAGMA user_version``, and what a reader of an older file it may
not change can still read. All old-schema handling lives here; every other read assumes
today's schema or asks ``readable`` what this file has.

Versions: 0 (or unset) the first releases; 1 the linker's fingerprint columns, the record's
own id (``ext_id``) and the ``record_ids`` table; 2 the store's id in ``meta`` (what derived
files are tied to); 3 ``articles.replaces``, the content id of the version an article
replaces (a page whose text changed at the same URL); 4 the cold archive: ``articles.segment``
(the archive segment holding an article's vector once it left the writer's memory, NULL while
it is hot), the ``segments`` table and ``cold_bands`` (the LSH bands that find copies of cold
articles), and incremental auto-vacuum for new files (space comes back after a prune).
"""
from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass

#: Today's schema version (``PRAGMA user_version``).
VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,          -- content hash: the same article is stored once
    title TEXT, text TEXT, lang TEXT, date TEXT, ts REAL, url TEXT, source TEXT,
    story INTEGER, dup_of INTEGER, copied REAL,
    vec BLOB NOT NULL, minhash BLOB NOT NULL, added REAL,
    names BLOB, keywords BLOB, numbers BLOB, tokens INTEGER, density REAL, dated INTEGER,
    replaces TEXT,                    -- the content id of the version this one replaces (same URL)
    segment INTEGER                   -- the cold archive segment holding its vector (NULL: hot)
);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story);
CREATE INDEX IF NOT EXISTS articles_ts ON articles(ts);
CREATE INDEX IF NOT EXISTS articles_dup ON articles(dup_of) WHERE dup_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY,
    vsum BLOB NOT NULL, n INTEGER NOT NULL, tsum REAL NOT NULL DEFAULT 0,   -- no longer read; written 0
    first REAL, last REAL, label TEXT, langs TEXT, merged_into INTEGER
);
CREATE INDEX IF NOT EXISTS stories_last ON stories(last);        -- latest first, without reading them all
CREATE TABLE IF NOT EXISTS line_counts (      -- how many stored articles had each line (boilerplate)
    key INTEGER PRIMARY KEY, n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS links (           -- likely same-story pairs (newer a, older b): what settling reads
    a INTEGER NOT NULL, b INTEGER NOT NULL, p REAL NOT NULL, PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_b ON links(b);
CREATE TABLE IF NOT EXISTS inputs (
    source TEXT NOT NULL, line INTEGER NOT NULL, article TEXT, error TEXT,
    PRIMARY KEY (source, line)
);
CREATE TABLE IF NOT EXISTS record_ids (      -- every record's own id (record_id; the column keeps its first name)
                                             -- that carried a stored text, as they came
    article TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (article, user_id)
);
CREATE INDEX IF NOT EXISTS record_ids_user ON record_ids (user_id);
CREATE TABLE IF NOT EXISTS segments (        -- the cold archive's ANN files (PATH.cold/), one per eviction
    id INTEGER PRIMARY KEY, file TEXT NOT NULL, n INTEGER NOT NULL, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cold_bands (      -- LSH band hashes of cold articles: their copies are still found
    h INTEGER NOT NULL, article INTEGER NOT NULL, PRIMARY KEY (h, article)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cold_bands_article ON cold_bands(article);
CREATE INDEX IF NOT EXISTS inputs_article ON inputs(article) WHERE article IS NOT NULL;
"""
# Columns added after the first release: an older file gains them on open (NULL
# for old rows; the corpus derives those from the stored text).
ADDED_COLUMNS = {"names": "BLOB", "keywords": "BLOB", "numbers": "BLOB", "tokens": "INTEGER", "density": "REAL",
                  "dated": "INTEGER", "ext_id": "TEXT", "replaces": "TEXT", "segment": "INTEGER"}


def upgrade(db: sqlite3.Connection) -> None:
    """Bring a file opened for writing to today's schema (a new file is created at it)."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return
    if db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")    # a new file: pages freed by a prune can be returned
        db.execute("VACUUM")                              # (WAL mode is on already: it takes effect so)
    db.executescript(SCHEMA)
    have = {r[1] for r in db.execute("PRAGMA table_info(articles)")}
    for col, kind in ADDED_COLUMNS.items():
        if col not in have:
            db.execute(f"ALTER TABLE articles ADD COLUMN {col} {kind}")
    db.execute("CREATE INDEX IF NOT EXISTS articles_ext_id ON articles (ext_id)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_segment ON articles (segment) WHERE segment IS NOT NULL")
    # What derived files (PATH.usearch) are tied to: a copied or replaced file is another store.
    db.execute("INSERT OR IGNORE INTO meta VALUES ('store_id', ?)", (json.dumps(uuid.uuid4().hex),))
    db.execute(f"PRAGMA user_version = {VERSION}")


@dataclass(frozen=True)
class Readable:
    """What a file offers a reader: an older file opened read-only may lack the record ids
    and the versions' ``replaces``."""

    record_id_column: bool      # articles.ext_id
    record_ids_table: bool
    replaces_column: bool = True     # articles.replaces (version 3)


def readable(db: sqlite3.Connection) -> Readable:
    """What this file has (all of it, at today's version)."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= VERSION:
        return Readable(True, True, True)
    have = {r[1] for r in db.execute("PRAGMA table_info(articles)")}
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return Readable("ext_id" in have, "record_ids" in tables, "replaces" in have)
