"""The system of record on a shared PostgreSQL server (psycopg 3), for many processes at once.

It behaves as the SQLite store (`store.py`) does, by the same rules (`rules.py`): each source's
view of a record and the merged record, raw documents compressed by content hash, aliases,
history, quarantine keyed by digest. Every write is one transaction that first takes Discovery's
advisory lock (`postgres_schema.WRITE_LOCK`), so writers from any number of processes queue as
SQLite's do: no two ingests can both decide an id is new, and history numbers commit in order
for the change feed. The schema is versioned and created by `discovery migrate`, never here.
The queries are the SQLite store's (`sql.py`); this module holds the connection and what
PostgreSQL writes its own way (`PostgresDialect`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from discovery.catalogue.postgres_schema import WRITE_LOCK, connect_current
from discovery.catalogue.rules import storable_text
from discovery.catalogue.sql import STREAM_BATCH, SqlCatalogue

Connection = psycopg.Connection[Any]
_cursor_names = itertools.count()


class PostgresDialect:
    """PostgreSQL's side of `sql.Dialect`: `%s` placeholders, a list bound as one array, an
    identity column as stored order, DISTINCT ON for the strongest edge, and text without NUL."""

    first_source = (
        "SELECT r.id, r.kind, r.parent, r.title, r.data, s.source, s.location, s.fetched_at, "
        "s.document_hash, s.record_key, s.catalogue FROM records r JOIN LATERAL ("
        "SELECT * FROM record_sources s2 WHERE s2.record_id = r.id "
        "ORDER BY s2.fetched_at, s2.location LIMIT 1) s ON true")
    stored_order = "stored_order"
    best_edges = ("SELECT * FROM (SELECT DISTINCT ON (subject, predicate, object) subject, predicate, "
                  "object, evidence, confidence FROM relations {where} "
                  "ORDER BY subject, predicate, object, confidence DESC) best "
                  "ORDER BY predicate, subject, object")
    ids_per_statement: int | None = None

    def statement(self, sql: str) -> str:
        return _pyformat(sql)

    def one_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return "= ANY(?)", [list(values)]

    def text(self, value: str) -> str:
        """`value` as PostgreSQL text can hold it: a lone surrogate escaped
        (`rules.storable_text`) and NUL, which its text type refuses and SQLite keeps, written as
        its escape."""
        return storable_text(value).replace("\x00", "\\x00")

    def pack(self, data: str) -> str:
        return data

    def unpack(self, stored: str) -> str:
        return stored


@functools.lru_cache(maxsize=1024)
def _pyformat(sql: str) -> str:
    """A statement written with `?` in psycopg's placeholders (a literal `%` doubled); kept, since
    the same few statements run for every document."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresCatalogue(SqlCatalogue):
    """The catalogue in the PostgreSQL database at `url`, whose schema `discovery migrate` made."""

    db: Connection
    dialect = PostgresDialect()

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = connect_current(url)

    @property
    def connected(self) -> bool:
        return not self.db.closed  # psycopg closes a connection the server dropped

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing, one writer at a time across every process."""
        with self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield self.db

    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.cursor().executemany(statement, rows)

    def _stream(self, statement: str, args: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """Through a server-side cursor in a transaction of its own, which reads one snapshot."""
        with self.db.transaction(), self.db.cursor(name=f"stored_rows_{next(_cursor_names)}") as cursor:
            cursor.execute(statement, args)
            while rows := cursor.fetchmany(STREAM_BATCH):
                yield from rows
