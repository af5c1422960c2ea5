"""Query vectors shared by every server process: a small SQLite table beside the index, keyed by
the model's name and a hash of the query, kept across restarts and index generations.

Encoding one query costs multilingual e5 about 10 ms of CPU on this machine (bench/api_load.py's
distinct searches are mostly that); with `discovery serve --workers 2`, each process encoded the
same popular queries again. The table holds no query text, only its hash; it keeps at most
`LIMIT` vectors (the oldest go first), so no client can grow it without end; and a write that
cannot take SQLite's lock at once is skipped: the cache is a shortcut, never a wait.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from discovery.index.embed import text_key

FILE = "queries.sqlite"  # in the index folder, beside the passages' embedding cache
LIMIT = 50_000  # vectors kept: 384 float32 each, about 80 MB on disk at most
PRUNE_EVERY = 500  # writes between removals of the oldest rows
LOCK_WAIT = 0.05  # seconds a write may wait for another process's write before it is skipped
SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (model TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL,
    stamp INTEGER NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS queries_stamp ON queries(stamp);
"""


class QueryVectors:
    """The shared cache for one model; thread-safe."""

    def __init__(self, path: Path, model: str, limit: int = LIMIT) -> None:
        self.model = model
        self.limit = limit
        self.db = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None,
                                  check_same_thread=False)
        self._lock = threading.Lock()
        self._writes = 0
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except sqlite3.Error:
            self.db.close()
            raise

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            found = self.db.execute("SELECT vector FROM queries WHERE model=? AND key=?",
                                    (self.model, text_key(text))).fetchone()
        return None if found is None else np.frombuffer(found[0], np.float32).reshape(1, -1)

    def put(self, text: str, vector: np.ndarray) -> None:
        """Remember a vector, unless another process holds the write lock right now."""
        blob = np.ascontiguousarray(vector, np.float32).tobytes()
        with self._lock:
            try:
                self.db.execute(
                    "INSERT OR REPLACE INTO queries VALUES (?, ?, ?, "
                    "(SELECT COALESCE(MAX(stamp), 0) + 1 FROM queries))",
                    (self.model, text_key(text), blob))
                self._writes += 1
                if self._writes % PRUNE_EVERY == 0:
                    self.prune()
            except sqlite3.OperationalError:  # locked by another writer: skip, never wait
                pass

    def prune(self) -> None:
        """Keep the newest `limit` vectors."""
        self.db.execute("DELETE FROM queries WHERE stamp <= (SELECT MAX(stamp) FROM queries) - ?",
                        (self.limit,))

    def __len__(self) -> int:
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM queries").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def open_query_vectors(path: Path, model: str) -> QueryVectors | None:
    """The shared cache, or None where it cannot be opened (a read-only data folder): queries
    are then encoded in each process, as before."""
    try:
        return QueryVectors(path, model)
    except (sqlite3.Error, OSError):
        return None
