"""One SQLite write transaction, shared by the catalogue, the index's document store and the OAI
ledger: taken at once (IMMEDIATE, so two writers queue rather than deadlock), all or nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


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
