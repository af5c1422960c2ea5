"""Records read in bulk for exports: each merged record with its first source as provenance, as
`Catalogue.get` gives one, but a study's variables in one query and the whole catalogue through
one cursor, so a dump of millions of records holds one batch at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from discovery.catalogue.store import Catalogue
from discovery.model import Record, Variable, record_from_json

BATCH = 1000
# A dump reads each page once: the catalogue's 256 MiB page cache and 1 GiB memory map only made
# its RSS grow with the catalogue (1.2 GB into a dump of 1.6M records), so a connection that
# streams keeps a small cache and no map.
STREAMING_PRAGMAS = ("PRAGMA cache_size=-16384", "PRAGMA mmap_size=0")
# every merged record with its earliest source, the one that stands as its provenance
_ROWS = ("SELECT r.id, r.kind, r.parent, r.title, r.data, s.source, s.location, s.fetched_at, "
         "s.document_hash, s.record_key, s.catalogue FROM records r JOIN record_sources s "
         "ON s.rowid = (SELECT s2.rowid FROM record_sources s2 WHERE s2.record_id = r.id "
         "ORDER BY s2.fetched_at, s2.location LIMIT 1)")


@dataclass(frozen=True)
class StoredRow:
    """A record as stored: its compact JSON (defaults left out) and its first source."""

    id: str
    kind: str
    parent: str | None
    title: str
    data: str
    provenance: dict[str, Any]

    def json_line(self) -> str:
        """The record as one JSON object with its provenance, as `record_from_json` reads it;
        spliced as text, since the stored JSON is already what a reader wants."""
        provenance = json.dumps(self.provenance, ensure_ascii=False, separators=(",", ":"))
        return f'{self.data[:-1]},"provenance":{provenance}}}'

    def record(self) -> Record:
        return record_from_json({**json.loads(self.data), "provenance": self.provenance})


def _row(row: Sequence[Any]) -> StoredRow:
    rid, kind, parent, title, data, source, location, fetched_at, digest, key, catalogue = row
    return StoredRow(rid, kind, parent, title, data, {
        "source": source, "location": location, "fetched_at": fetched_at, "content_hash": digest,
        "record_key": key, "catalogue": catalogue})


def stream(catalogue: Catalogue, kinds: Sequence[str] = (), catalogues: Sequence[str] = (),
           since: str | None = None) -> Iterator[StoredRow]:
    """Every record of these kinds (all when empty), published by one of these catalogues (any
    when empty), changed at or after `since` (ISO date or time), in id order, BATCH rows at a
    time through one cursor: the dump reads one consistent snapshot of the catalogue."""
    where, args = [], []
    if kinds:
        where.append(f"r.kind IN ({','.join('?' * len(kinds))})")
        args += list(kinds)
    if catalogues:
        where.append(f"EXISTS (SELECT 1 FROM record_sources c WHERE c.record_id = r.id AND "
                     f"c.catalogue IN ({','.join('?' * len(catalogues))}))")
        args += list(catalogues)
    if since:
        where.append("r.updated_at >= ?")
        args.append(since)
    sql = _ROWS + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY r.id"
    for pragma in STREAMING_PRAGMAS:
        catalogue.db.execute(pragma)
    cursor = catalogue.db.execute(sql, args)
    while rows := cursor.fetchmany(BATCH):
        for row in rows:
            yield _row(row)


def variables_of(catalogue: Catalogue, study_id: str) -> list[Variable]:
    """A study's variables in the order they were stored (the source document's order)."""
    rows = catalogue.db.execute(f"{_ROWS} WHERE r.parent = ? AND r.kind = 'variable' ORDER BY r.rowid",
                                (study_id,))
    return [v for v in (_row(row).record() for row in rows) if isinstance(v, Variable)]
