"""The index's own table of documents (SQLite): row number, id, parent, facet values, the texts a
hit explains itself from, and what it shows. Rows are never reused: an updated record gets a new
row and its old one dies, so the lexical and vector indexes only ever append and delete.

A published generation's table never changes, so its read-only store keeps the bodies it has
unpacked (`BODY_BYTES`, least recently used first out): a search reads about 110 bodies (its first
50 hits for the learned ranker, then a page's hits and their items), and distinct searches over
one catalogue keep meeting the same records. Unpacking them was 2.6 ms of CPU a search on the demo
catalogue (bench/query_cost.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic_core import from_json

from discovery.index.documents import FilterValues, IndexDocument
from discovery.index.vocabulary import Vocabulary
from discovery.model import ITEM_KINDS
from discovery.sqlite import connect, immediate, select_in

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, parent TEXT,
    title TEXT NOT NULL, facets TEXT NOT NULL, ranges TEXT NOT NULL, family TEXT,
    body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_parent ON docs(parent);
CREATE TABLE IF NOT EXISTS aliases (key TEXT NOT NULL, row INTEGER NOT NULL, code INTEGER NOT NULL,
    PRIMARY KEY (key, row)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_row ON aliases(row);
"""
BODY_BYTES = 32 * 1024 * 1024  # unpacked bodies kept per read-only store, weighed as their JSON
LIVE_BYTES_PER_JSON_BYTE = 5  # Python objects take about five times their JSON (server/cache.py)


class DocStore:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        """`read_only`: a published generation's table, which never changes again, so SQLite is
        told it is immutable: no locks, no journal files written beside it."""
        if read_only:
            self.db = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True, isolation_level=None,
                                      check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = connect(path, ("PRAGMA synchronous=NORMAL",))
            self.db.executescript(SCHEMA)
        self.vocabulary = Vocabulary(self.db)  # kept in step with the documents, in their transaction
        self._bodies = BodyCache(BODY_BYTES if read_only else 0)

    def close(self) -> None:
        self.db.close()

    def seal(self) -> None:
        """Fold the write-ahead log into the file and stop using one: the table becomes a single
        file that readers open as immutable and the next generation copies."""
        self.db.execute("PRAGMA journal_mode=DELETE")

    def rows_of(self, ids: Iterable[str]) -> dict[str, int]:
        return dict(select_in(self.db, "SELECT id, row FROM docs WHERE id IN ({marks})", list(ids)))

    def ids_of(self, rows: list[int]) -> list[str]:
        return [rid for (rid,) in select_in(self.db, "SELECT id FROM docs WHERE row IN ({marks})", rows)]

    def parents_of(self, ids: list[str]) -> set[str]:
        """The parents of those of `ids` that have one."""
        return {parent for (parent,) in select_in(
            self.db, "SELECT parent FROM docs WHERE id IN ({marks}) AND parent IS NOT NULL", ids)}

    def filter_values(self, ids: list[str]) -> dict[str, FilterValues]:
        """The facet values and ranges stored for those of `ids` that are live."""
        return {rid: FilterValues(json.loads(facets), json.loads(ranges)) for rid, facets, ranges
                in select_in(self.db, "SELECT id, facets, ranges FROM docs WHERE id IN ({marks})", ids)}

    def items_under(self, parents: list[str]) -> dict[str, int]:
        """The rows of the items (variables, questions) grouped under any of `parents`, by id."""
        kinds = ",".join("?" * len(ITEM_KINDS))
        return dict(select_in(self.db, f"SELECT id, row FROM docs WHERE kind IN ({kinds}) "
                              "AND parent IN ({marks})", parents, ITEM_KINDS))

    def max_row(self) -> int:
        """The highest live row; -1 when there is none."""
        return self.db.execute("SELECT COALESCE(MAX(row), -1) FROM docs").fetchone()[0]

    def put(self, rows: list[int], documents: list[IndexDocument]) -> None:
        self.db.executemany(
            "INSERT INTO docs VALUES (?,?,?,?,?,?,?,?,?)",
            [(row, doc.id, doc.kind, doc.parent, doc.title, json.dumps(doc.facets, ensure_ascii=False),
              json.dumps(doc.ranges), doc.family, _pack({"fields": doc.fields, "display": doc.display}))
             for row, doc in zip(rows, documents, strict=True)])
        self.vocabulary.add(_text(doc.fields) for doc in documents)
        self.db.executemany("INSERT INTO aliases VALUES (?,?,?)",
                            [(key, row, int(code)) for row, doc in zip(rows, documents, strict=True)
                             for key, code in doc.aliases.items()])

    def delete(self, rows: list[int]) -> None:
        self.vocabulary.remove(_text(body["fields"]) for body in self.bodies(rows).values())
        self.db.executemany("DELETE FROM docs WHERE row=?", [(row,) for row in rows])
        self.db.executemany("DELETE FROM aliases WHERE row=?", [(row,) for row in rows])

    def alias_rows(self, keys: list[str], codes_only: bool = False) -> dict[str, list[int]]:
        """Rows named exactly by each of `keys` (alias keys); with `codes_only`, only by an
        abbreviation or identifier, not a whole title."""
        found: dict[str, list[int]] = {}
        for key, row in select_in(self.db, "SELECT key, row FROM aliases WHERE key IN ({marks})"
                                  + (" AND code=1" if codes_only else ""), keys):
            found.setdefault(key, []).append(row)
        return found

    def scan(self) -> Iterator[tuple[int, str, str, str | None, str, str, str | None]]:
        """(row, id, kind, parent, facets JSON, ranges JSON, family) of every live document."""
        yield from self.db.execute(
            "SELECT row, id, kind, parent, facets, ranges, family FROM docs ORDER BY row")

    def bodies(self, rows: Iterable[int]) -> dict[int, dict[str, Any]]:
        """id, kind, title, parent, fields and display values of the given rows (shared with
        other callers on a read-only store: not to be changed)."""
        asked = [int(r) for r in rows]
        found = self._bodies.get(asked)
        missing = [row for row in asked if row not in found]
        for row, rid, kind, parent, title, ranges, body in select_in(
                self.db, "SELECT row, id, kind, parent, title, ranges, body FROM docs "
                "WHERE row IN ({marks})", missing):
            unpacked = zlib.decompress(body)  # pydantic_core's from_json: 6 us a body, json.loads 14
            found[row] = {"id": rid, "kind": kind, "parent": parent, "title": title,
                          "ranges": from_json(ranges), **from_json(unpacked)}
            self._bodies.put(row, found[row], len(unpacked) + len(ranges) + len(title))
        return found

    def titles(self, rows: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(id, title) of the given rows, without reading their bodies."""
        return {row: (rid, title) for row, rid, title in select_in(
            self.db, "SELECT row, id, title FROM docs WHERE row IN ({marks})", [int(r) for r in rows])}

    def count_below(self, rid: str) -> int:
        """How many live ids sort before `rid`: its place in id order even once it is gone."""
        return self.db.execute("SELECT COUNT(*) FROM docs WHERE id < ?", (rid,)).fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with immediate(self.db):
            yield


def _text(fields: dict[str, str]) -> str:
    return "\n".join(fields.values())


def _pack(value: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 1)


class BodyCache:
    """Unpacked bodies by row, at most `max_bytes` of them by their JSON's weight; thread-safe.
    A budget of 0 keeps none (a store being written)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[int, tuple[int, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rows: list[int]) -> dict[int, dict[str, Any]]:
        """Those of `rows` held, as a new dict."""
        if not self.max_bytes:
            return {}
        found = {}
        with self._lock:
            for row in rows:
                entry = self._entries.get(row)
                if entry is not None:
                    self._entries.move_to_end(row)
                    found[row] = entry[1]
        return found

    def put(self, row: int, body: dict[str, Any], json_bytes: int) -> None:
        size = json_bytes * LIVE_BYTES_PER_JSON_BYTE
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(row, None)
            if old is not None:
                self.bytes -= old[0]
            self._entries[row] = (size, body)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (dropped, _) = self._entries.popitem(last=False)
                self.bytes -= dropped
