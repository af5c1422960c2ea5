"""Read queries the search index needs from the catalogue: what changed since a history number,
and records in bulk with the sources that described them.

Kept apart from `store.py` so the index reads the catalogue without widening its writing API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from discovery.catalogue.store import Catalogue, select_in

BATCH = 2000


@dataclass
class StoredRecord:
    """A merged record as stored (plain JSON, defaults left out), with its sources' names."""

    id: str
    kind: str
    parent: str | None
    data: dict[str, Any]
    sources: list[str] = field(default_factory=list)  # parser formats, e.g. "ddi-codebook-2.5"
    catalogues: list[str] = field(default_factory=list)  # publishing catalogues where stated
    locations: list[str] = field(default_factory=list)  # where each source was read: a URL or path


@dataclass
class Changes:
    """Records to (re)index and records to drop since a history number."""

    upserted: set[str]
    deleted: set[str]
    seq: int


def last_seq(catalogue: Catalogue) -> int:
    """The newest history number: the index records how far it has read."""
    return catalogue.db.execute("SELECT COALESCE(MAX(seq), 0) FROM history").fetchone()[0]


def changes_since(catalogue: Catalogue, seq: int) -> Changes:
    """Ids created, updated or deleted after `seq`; the last action of each id decides."""
    upserted: set[str] = set()
    deleted: set[str] = set()
    newest = seq
    for number, rid, action in catalogue.db.execute(
            "SELECT seq, record_id, action FROM history WHERE seq > ? ORDER BY seq", (seq,)):
        newest = number
        if action == "deleted":
            deleted.add(rid)
            upserted.discard(rid)
        else:
            upserted.add(rid)
            deleted.discard(rid)
    # a record deleted and created again ends as an upsert; one that no longer exists is a delete
    gone = upserted - set(existing_ids(catalogue, sorted(upserted)))
    return Changes(upserted=upserted - gone, deleted=deleted | gone, seq=newest)


def existing_ids(catalogue: Catalogue, ids: list[str]) -> Iterator[str]:
    for (rid,) in select_in(catalogue.db, "SELECT id FROM records WHERE id IN ({marks})", ids):
        yield rid


def all_ids(catalogue: Catalogue) -> list[str]:
    return [rid for (rid,) in catalogue.db.execute("SELECT id FROM records ORDER BY id")]


def child_titles(catalogue: Catalogue, parents: list[str]) -> dict[str, list[str]]:
    """The titles (variable labels, question texts) of each parent's children, in stored order."""
    found: dict[str, list[str]] = {}
    for parent, title in select_in(
            catalogue.db, "SELECT parent, title FROM records WHERE parent IN ({marks}) ORDER BY rowid",
            parents):
        found.setdefault(parent, []).append(title)
    return found


def read_records(catalogue: Catalogue, ids: list[str]) -> Iterator[StoredRecord]:
    """The stored records of `ids` in the order given, skipping ids that no longer exist."""
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        marks = ",".join("?" * len(chunk))
        sources: dict[str, tuple[list[str], list[str], list[str]]] = {}
        for rid, source, cat, location in catalogue.db.execute(
                f"SELECT record_id, source, catalogue, location FROM record_sources "
                f"WHERE record_id IN ({marks}) ORDER BY record_id, fetched_at, location", chunk):
            formats, catalogues, locations = sources.setdefault(rid, ([], [], []))
            if source not in formats:
                formats.append(source)
            if cat and cat not in catalogues:
                catalogues.append(cat)
            locations.append(location)
        rows = {rid: (kind, parent, data) for rid, kind, parent, data in catalogue.db.execute(
            f"SELECT id, kind, parent, data FROM records WHERE id IN ({marks})", chunk)}
        for rid in chunk:
            if rid in rows:
                kind, parent, data = rows[rid]
                formats, catalogues, locations = sources.get(rid, ([], [], []))
                yield StoredRecord(rid, kind, parent, json.loads(data), formats, catalogues, locations)
