"""The items an OAI-PMH harvester sees, in the order they last changed, with their datestamps,
sets and deletions, derived from the catalogue's history (`history` table, one row per change).

An item is a study or dataset; a change to it or to one of its variables (ids `study.variable`)
moves it to the position of that history row, so a list ordered by position never skips an item
that changes while a harvester pages through it: the item only moves further on. Deleted items
stay as tombstones with the sets they were in (deletedRecord `persistent`).

The ledger is its own SQLite file beside the catalogue (`oai.sqlite`): the server writes it
without contending for the catalogue's write lock, and an ingest never waits for a harvester.
It is caught up at the start of every request (a few milliseconds when nothing changed).

Datestamps are the history's times, never earlier than the previous catch-up: an ingest takes
its time before it commits, so a change committed after a response whose `responseDate` was T
could carry a time before T, and a harvester asking `from=T` next would miss it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import CatalogueError
from discovery.model import Kind, slug, utcnow
from discovery.sqlite import connect, immediate, select_in

ITEM_KINDS = (Kind.STUDY.value, Kind.DATASET.value)
CHUNK = 5000  # history rows applied per ledger transaction
KIND_SET, CATALOGUE_SET = "kind", "catalogue"
SET_NAMES = {KIND_SET: "By kind of record", CATALOGUE_SET: "By source catalogue",
             f"{KIND_SET}:{Kind.STUDY.value}": "Studies",
             f"{KIND_SET}:{Kind.DATASET.value}": "Datasets"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, datestamp TEXT NOT NULL,
    deleted INTEGER NOT NULL, kind TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS items_position ON items(position);
CREATE INDEX IF NOT EXISTS items_datestamp ON items(datestamp);
CREATE TABLE IF NOT EXISTS memberships (
    set_spec TEXT NOT NULL, position INTEGER NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (set_spec, position));
CREATE INDEX IF NOT EXISTS memberships_id ON memberships(id);
CREATE TABLE IF NOT EXISTS sets (spec TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Item:
    """One record as the protocol sees it: where it stands, when it changed, its sets."""

    id: str
    position: int
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ
    deleted: bool
    kind: str
    sets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Window:
    """A selective list: a set, and datestamps from and until (inclusive, seconds, UTC)."""

    set_spec: str | None = None
    from_: str | None = None
    until: str | None = None


def datestamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def history_datestamp(at: str) -> str:
    """A history time (`2026-11-30T17:20:07+00:00`) as an OAI datestamp."""
    return datestamp(datetime.fromisoformat(at))


def set_specs(kind: str, catalogues: Iterable[str]) -> dict[str, str]:
    """The sets an item belongs to (its kind, each catalogue that published it), with names;
    each leaf's parent (`kind`, `catalogue`) included, since a set contains its subsets' items."""
    specs = {KIND_SET: SET_NAMES[KIND_SET], f"{KIND_SET}:{kind}": SET_NAMES[f"{KIND_SET}:{kind}"]}
    for name in catalogues:
        specs[CATALOGUE_SET] = SET_NAMES[CATALOGUE_SET]
        specs[f"{CATALOGUE_SET}:{slug(name)}"] = name
    return specs


class Ledger:
    """The provider's view of the catalogue, kept in `folder` (the data folder). One per thread:
    it holds a SQLite connection."""

    def __init__(self, catalogue: CatalogueStore, folder: Path) -> None:
        self.catalogue = catalogue
        path = Path(folder) / "oai.sqlite"
        try:
            self.db = connect(path, ("PRAGMA busy_timeout=10000",))
            self.db.executescript(SCHEMA)
        except sqlite3.Error as error:
            raise CatalogueError(f"cannot open the OAI-PMH ledger: {error}", file=str(path),
                                 hint="the data folder must be writable by the server") from None
        self.lock = threading.Lock()

    def close(self) -> None:
        self.db.close()

    def _state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _set_state(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO state VALUES (?,?)", (key, value))

    # ---- catching up -----------------------------------------------------------------------

    def refresh(self) -> str:
        """Apply the history written since the last catch-up; the time it started, which is the
        response's `responseDate`: every change this catch-up did not see gets a datestamp no
        earlier than it."""
        started = datestamp(utcnow())
        with self.lock:
            while True:
                with immediate(self.db):
                    read = int(self._state("seq") or 0)
                    floor = self._state("read_at") or ""
                    rows = self.catalogue.history_after(read, CHUNK)
                    if rows:
                        self._apply(rows, floor)
                        self._set_state("seq", str(rows[-1][0]))
                    if len(rows) < CHUNK:
                        self._set_state("read_at", max(floor, started))
                        return started

    def _apply(self, rows: list[tuple[int, str, str]], floor: str) -> None:
        latest = {rid: (seq, at) for seq, rid, at in rows}  # the last change of each record
        candidates = sorted({c for rid in latest for c in _candidates(rid)})
        live = self.catalogue.kinds(candidates)
        known = dict(select_in(self.db, "SELECT id, kind FROM items WHERE id IN ({marks})", candidates))
        touched: dict[str, tuple[int, str]] = {}
        for rid, (seq, at) in latest.items():
            item = next((c for c in _candidates(rid) if live.get(c) in ITEM_KINDS or c in known), None)
            if item is not None and seq > touched.get(item, (0, ""))[0]:
                touched[item] = (seq, at)
        alive = [rid for rid in touched if live.get(rid) in ITEM_KINDS]
        catalogues = self.catalogue.publishing_catalogues(alive)
        for rid, (seq, at) in sorted(touched.items(), key=lambda pair: pair[1][0]):
            stamp = max(history_datestamp(at), floor)
            if live.get(rid) in ITEM_KINDS:
                self._place(rid, seq, stamp, False, live[rid],
                            set_specs(live[rid], sorted(catalogues.get(rid, []))))
            else:  # gone from the catalogue: a tombstone in the sets it was in
                kept = {spec: "" for (spec,) in self.db.execute(
                    "SELECT set_spec FROM memberships WHERE id=?", (rid,))}
                self._place(rid, seq, stamp, True, known[rid], kept)

    def _place(self, rid: str, position: int, stamp: str, deleted: bool, kind: str,
               sets: dict[str, str]) -> None:
        self.db.execute("DELETE FROM memberships WHERE id=?", (rid,))
        self.db.execute("INSERT INTO items VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                        "position=excluded.position, datestamp=excluded.datestamp, "
                        "deleted=excluded.deleted, kind=excluded.kind",
                        (rid, position, stamp, int(deleted), kind))
        self.db.executemany("INSERT INTO memberships VALUES (?,?,?)",
                            [(spec, position, rid) for spec in sets])
        self.db.executemany("INSERT OR IGNORE INTO sets VALUES (?,?)",
                            [(spec, name) for spec, name in sets.items() if name])

    # ---- reading ---------------------------------------------------------------------------

    def page(self, window: Window, after: int, limit: int) -> list[Item]:
        """Up to `limit` items past position `after`, in position order: constant time at any
        depth (an index range from `after`)."""
        where, args = self._where(window)
        rows = self.db.execute(
            f"SELECT i.id, i.position, i.datestamp, i.deleted, i.kind FROM {where} AND "
            f"{'m' if window.set_spec else 'i'}.position > ? ORDER BY "
            f"{'m' if window.set_spec else 'i'}.position LIMIT ?", [*args, after, limit]).fetchall()
        return self._with_sets(rows)

    def count(self, window: Window) -> int:
        where, args = self._where(window)
        return self.db.execute(f"SELECT COUNT(*) FROM {where}", args).fetchone()[0]

    def _where(self, window: Window) -> tuple[str, list[str]]:
        if window.set_spec:
            sql = "memberships m JOIN items i ON i.id = m.id WHERE m.set_spec = ?"
            args = [window.set_spec]
        else:
            sql, args = "items i WHERE 1", []
        if window.from_:
            sql += " AND i.datestamp >= ?"
            args.append(window.from_)
        if window.until:
            sql += " AND i.datestamp <= ?"
            args.append(window.until)
        return sql, args

    def item(self, rid: str) -> Item | None:
        rows = self.db.execute("SELECT id, position, datestamp, deleted, kind FROM items WHERE id=?",
                               (rid,)).fetchall()
        found = self._with_sets(rows)
        return found[0] if found else None

    def _with_sets(self, rows: list[tuple[str, int, str, int, str]]) -> list[Item]:
        """Items with the leaf sets (`kind:study`, not `kind`) their headers list."""
        sets: dict[str, list[str]] = {}
        for rid, spec in select_in(self.db, "SELECT id, set_spec FROM memberships WHERE "
                                   "id IN ({marks}) AND instr(set_spec, ':') > 0 ORDER BY set_spec",
                                   [row[0] for row in rows]):
            sets.setdefault(rid, []).append(spec)
        return [Item(rid, position, stamp, bool(deleted), kind, tuple(sets.get(rid, [])))
                for rid, position, stamp, deleted, kind in rows]

    def sets(self) -> list[tuple[str, str]]:
        """(setSpec, setName) of every set some item is or was in."""
        return list(self.db.execute("SELECT spec, name FROM sets ORDER BY spec"))

    def earliest_datestamp(self) -> str | None:
        return self.db.execute("SELECT MIN(datestamp) FROM items").fetchone()[0]


def _candidates(rid: str) -> list[str]:
    """The record itself, then the ids it lives inside: `study.var-1` -> `study`."""
    found = [rid]
    position = rid.find(".")
    while position > 0:
        found.append(rid[:position])
        position = rid.find(".", position + 1)
    return found
