"""The SQLite helpers shared by the catalogue, the index's document store and the OAI-PMH
ledger: opening a database the way they all use one, one write transaction taken at once
(IMMEDIATE, so two writers queue rather than deadlock, all or nothing), and IN queries over
more ids than one statement may bind."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHUNK = 500
WAL_SECONDS = 10.0


def connect(path: Path, pragmas: Sequence[str] = ()) -> sqlite3.Connection:
    """A connection in autocommit mode (writes take `immediate`), usable from any thread, with a
    write-ahead log so readers never wait for a writer; then `pragmas`, in order."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    _write_ahead(db)
    for pragma in pragmas:
        db.execute(pragma)
    return db


def _write_ahead(db: sqlite3.Connection, seconds: float = WAL_SECONDS) -> None:
    """Switch a new database to write-ahead logging. SQLite refuses the switch at once, without
    its busy wait, while another process is creating the same file, so it is tried again for a
    while (once switched, the mode is kept in the file and this returns at the first try)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A failure anywhere inside rolls back everything written inside."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def chunks(items: Sequence[Any]) -> Iterator[list[Any]]:
    """Slices of at most CHUNK items: SQLite caps the parameters of one statement."""
    for start in range(0, len(items), CHUNK):
        yield list(items[start:start + CHUNK])


def select_in(db: sqlite3.Connection, sql: str, ids: Sequence[Any], params: Sequence[Any] = ()
              ) -> Iterator[Any]:
    """The rows of `sql`, whose `{marks}` stands for the placeholders of `ids`, read CHUNK ids at a
    time; `params` bind before the ids."""
    for chunk in chunks(ids):
        yield from db.execute(sql.format(marks=",".join("?" * len(chunk))), [*params, *chunk])
