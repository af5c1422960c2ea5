"""The system of record: SQLite in WAL mode, one transaction per source document.

Each record is stored once per source that described it (`record_sources`) and once merged
(`records`), so a record seen in two catalogues keeps both versions visible. Raw documents are
kept compressed by content hash so a parser fix can re-derive records without re-harvesting.
Identifiers become aliases; every change is written to `history`; what failed goes to
`quarantine` with the reason and the raw bytes, once per failure: a row is keyed by a digest of
where it failed, the record and the bytes, so re-running a batch never grows the quarantine.
The queries are the ones the PostgreSQL store runs too (`sql.py`); this module holds the schema,
the connection and what SQLite writes its own way (`SqliteDialect`).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from discovery.catalogue.rules import quarantine_digest, storable_text
from discovery.catalogue.sql import STREAM_BATCH, SqlCatalogue
from discovery.errors import CatalogueError
from discovery.sqlite import CHUNK, connect, immediate

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    hash TEXT PRIMARY KEY, location TEXT NOT NULL, size INTEGER NOT NULL,
    fetched_at TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, parent TEXT,
    data TEXT NOT NULL, data_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_kind ON records(kind);
CREATE INDEX IF NOT EXISTS records_parent ON records(parent);
CREATE TABLE IF NOT EXISTS record_sources (
    record_id TEXT NOT NULL, location TEXT NOT NULL, source TEXT NOT NULL, record_key TEXT,
    catalogue TEXT, document_hash TEXT NOT NULL, fetched_at TEXT NOT NULL,
    data BLOB NOT NULL, data_hash TEXT NOT NULL, PRIMARY KEY (record_id, location));
CREATE INDEX IF NOT EXISTS record_sources_location ON record_sources(location);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT NOT NULL, value TEXT NOT NULL, record_id TEXT NOT NULL, location TEXT NOT NULL,
    PRIMARY KEY (alias, record_id, location));
CREATE INDEX IF NOT EXISTS aliases_value ON aliases(value);
CREATE INDEX IF NOT EXISTS aliases_record ON aliases(record_id);
CREATE TABLE IF NOT EXISTS relations (
    subject TEXT NOT NULL, predicate TEXT NOT NULL, object TEXT NOT NULL, evidence TEXT,
    confidence REAL NOT NULL, location TEXT NOT NULL,
    PRIMARY KEY (subject, predicate, object, location));
CREATE INDEX IF NOT EXISTS relations_object ON relations(object);
CREATE INDEX IF NOT EXISTS relations_location ON relations(location);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL,
    data_hash TEXT, location TEXT);
CREATE INDEX IF NOT EXISTS history_record ON history(record_id);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, location TEXT NOT NULL, record TEXT,
    reason TEXT NOT NULL, hint TEXT, raw BLOB, digest TEXT);
CREATE TABLE IF NOT EXISTS clusters (
    record_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, confidence REAL NOT NULL, evidence TEXT);
CREATE INDEX IF NOT EXISTS clusters_cluster ON clusters(cluster_id);
CREATE TABLE IF NOT EXISTS harvests (
    endpoint TEXT NOT NULL, metadata_prefix TEXT NOT NULL, set_spec TEXT NOT NULL,
    started_at TEXT NOT NULL, PRIMARY KEY (endpoint, metadata_prefix, set_spec));
"""
# after `_add_quarantine_digests`, which gives catalogues made before digests their column
QUARANTINE_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_digest ON quarantine(digest);
CREATE INDEX IF NOT EXISTS quarantine_location ON quarantine(location);
"""

FILE = "catalogue.sqlite"  # inside the data folder
# A dump reads each page once: the catalogue's 256 MiB page cache and 1 GiB memory map only made
# its RSS grow with the catalogue (1.2 GB into a dump of 1.6M records), so a connection that
# streams keeps a small cache and no map.
STREAMING_PRAGMAS = ("PRAGMA cache_size=-16384", "PRAGMA mmap_size=0")


def exists(data_dir: Path) -> bool:
    return (data_dir / FILE).is_file()


class ReadOnlyVersion:
    """SQLite's `data_version`, which changes when another connection commits, read through a
    read-only connection of its own."""

    def __init__(self, data_dir: Path) -> None:
        self._db = sqlite3.connect(f"{(data_dir / FILE).as_uri()}?mode=ro", uri=True,
                                   check_same_thread=False)

    def __call__(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class SqliteDialect:
    """SQLite's side of `sql.Dialect`: `?` placeholders, a list bound one value per `?` (at most
    `sqlite.CHUNK` to a statement), the rowid as stored order, bare columns beside MAX() for
    the strongest edge, and each source's JSON kept compressed."""

    first_source = (
        "SELECT r.id, r.kind, r.parent, r.title, r.data, s.source, s.location, s.fetched_at, "
        "s.document_hash, s.record_key, s.catalogue FROM records r JOIN record_sources s "
        "ON s.rowid = (SELECT s2.rowid FROM record_sources s2 WHERE s2.record_id = r.id "
        "ORDER BY s2.fetched_at, s2.location LIMIT 1)")
    stored_order = "rowid"
    # SQLite takes `evidence` from the row whose confidence is the MAX
    best_edges = ("SELECT subject, predicate, object, evidence, MAX(confidence) FROM relations {where} "
                  "GROUP BY subject, predicate, object ORDER BY predicate, subject, object")
    ids_per_statement: int | None = CHUNK

    def statement(self, sql: str) -> str:
        return sql

    def one_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"IN ({','.join('?' * len(values))})", list(values)

    def text(self, value: str) -> str:
        return storable_text(value)

    def pack(self, data: str) -> bytes:
        return zlib.compress(data.encode("utf-8"), 1)

    def unpack(self, stored: bytes) -> str:
        return zlib.decompress(stored).decode("utf-8")


class Catalogue(SqlCatalogue):
    """Open (creating if needed) the catalogue under a data directory."""

    db: sqlite3.Connection
    dialect = SqliteDialect()

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.path = self.data_dir / FILE
            self.db = connect(self.path, (
                "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=10000",
                # large catalogues insert at random places in text-keyed B-trees: keep pages cached
                "PRAGMA cache_size=-262144",  # 256 MiB
                "PRAGMA mmap_size=1073741824", "PRAGMA temp_store=MEMORY", "PRAGMA foreign_keys=OFF"))
            self.db.executescript(SCHEMA)
            self._add_quarantine_digests()
            self.db.executescript(QUARANTINE_INDEXES)
        except (OSError, sqlite3.Error) as error:
            raise CatalogueError(f"cannot open the catalogue: {error}", file=str(data_dir),
                                 hint="check the --data directory is writable") from None

    @property
    def connected(self) -> bool:
        return True  # a file: nothing to lose between calls

    def _add_quarantine_digests(self) -> None:
        """A catalogue made before quarantine rows had digests gets them; of rows that repeat one
        failure (a row was added on every re-run), the latest is kept."""
        def done() -> bool:
            return "digest" in {row[1] for row in self.db.execute("PRAGMA table_info(quarantine)")}

        if done():
            return
        with self.transaction() as db:
            if done():  # another process got there first
                return
            db.execute("ALTER TABLE quarantine ADD COLUMN digest TEXT")
            seen: set[str] = set()
            for seq, location, record, reason, raw in db.execute(
                    "SELECT seq, location, record, reason, raw FROM quarantine ORDER BY seq DESC"
                    ).fetchall():
                digest = quarantine_digest(location, record, reason,
                                           zlib.decompress(raw) if raw is not None else None)
                if digest in seen:
                    db.execute("DELETE FROM quarantine WHERE seq=?", (seq,))
                else:
                    seen.add(digest)
                    db.execute("UPDATE quarantine SET digest=? WHERE seq=?", (digest, seq))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: a failure anywhere leaves the catalogue as it was (IMMEDIATE, so two
        writers queue rather than deadlock)."""
        with immediate(self.db) as db:
            yield db

    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.executemany(statement, rows)

    def _stream(self, statement: str, args: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """Through one cursor, which reads one snapshot, with a small page cache (`STREAMING_PRAGMAS`)."""
        for pragma in STREAMING_PRAGMAS:
            self.db.execute(pragma)
        cursor = self.db.execute(statement, args)
        while rows := cursor.fetchmany(STREAM_BATCH):
            yield from rows
