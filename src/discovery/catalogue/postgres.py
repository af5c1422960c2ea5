"""The system of record on a shared PostgreSQL server (psycopg 3), for many processes at once.

It behaves as the SQLite store (`store.py`) does, by the same rules (`rules.py`): each source's
view of a record and the merged record, raw documents compressed by content hash, aliases,
history, quarantine keyed by digest. Every write is one transaction that first takes Discovery's
advisory lock (`postgres_schema.WRITE_LOCK`), so writers from any number of processes queue as
SQLite's do: no two ingests can both decide an id is new, and history numbers commit in order
for the change feed. The schema is versioned and created by `discovery migrate`, never here.
"""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from discovery.catalogue.postgres_schema import WRITE_LOCK, connect_current
from discovery.catalogue.protocol import Applied, Changes, SourceRow, StoredRecord, StoredRow
from discovery.catalogue.rules import (LINKING, conflict_candidates, data_digest, folded_history, kept_ids,
                                       merge_plan, parent_relations, quarantine_digest, record_json,
                                       renamed, separated_ids, storable_text, unique_ids)
from discovery.errors import CatalogueError, NotFoundError
from discovery.model import (Deletion, Identifier, ParseResult, Predicate, Record, Relation, Variable,
                             content_hash, normalise_doi, utcnow)

Connection = psycopg.Connection[Any]
STREAM_BATCH = 1000  # rows fetched at a time by `stored_rows`
# every merged record with its earliest source, the one that stands as its provenance
_ROWS = ("SELECT r.id, r.kind, r.parent, r.title, r.data, s.source, s.location, s.fetched_at, "
         "s.document_hash, s.record_key, s.catalogue FROM records r JOIN LATERAL ("
         "SELECT * FROM record_sources s2 WHERE s2.record_id = r.id "
         "ORDER BY s2.fetched_at, s2.location LIMIT 1) s ON true")
_cursor_names = itertools.count()


class PostgresCatalogue:
    """The catalogue in the PostgreSQL database at `url`, whose schema `discovery migrate` made."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.db: Connection = connect_current(url)

    def close(self) -> None:
        self.db.close()

    @property
    def connected(self) -> bool:
        return not self.db.closed  # psycopg closes a connection the server dropped

    def __enter__(self) -> PostgresCatalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing, one writer at a time across every process."""
        with self.db.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield self.db

    # ---- writing -------------------------------------------------------------------------

    def apply(self, location: str, raw: bytes, fetched_at: str, result: ParseResult) -> Applied:
        """Store what a document says, replacing what the same document said before."""
        applied = Applied()
        now = utcnow().isoformat()
        with self.transaction() as db:
            db.execute("INSERT INTO documents VALUES (%s,%s,%s,%s,%s) ON CONFLICT (hash) DO NOTHING",
                       (content_hash(raw), location, len(raw), fetched_at, zlib.compress(raw, 3)))
            previous: dict[str, str] = dict(db.execute(
                "SELECT record_id, data_hash FROM record_sources WHERE location=%s", (location,)))
            records, relations = self._assign_ids(db, location, unique_ids(result),
                                                  result.relations, previous)
            rows, changed = [], []
            for record in records:
                data = record_json(record)
                digest = data_digest(data)
                applied.ids.append(record.id)
                if previous.get(record.id) == digest:
                    applied.unchanged += 1
                    continue
                prov = record.provenance
                rows.append((record.id, location, prov.source, prov.record_key, prov.catalogue,
                             prov.content_hash, prov.fetched_at.isoformat(), data, digest))
                changed.append(record)
            db.cursor().executemany(
                "INSERT INTO record_sources VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (record_id, location) DO UPDATE SET source=excluded.source, "
                "record_key=excluded.record_key, catalogue=excluded.catalogue, "
                "document_hash=excluded.document_hash, fetched_at=excluded.fetched_at, "
                "data=excluded.data, data_hash=excluded.data_hash", rows)
            self._write_aliases(db, location, changed)
            self._merge(db, [r.id for r in changed], now, location, applied)
            stale = sorted(set(previous) - set(applied.ids))
            if stale:
                db.execute("DELETE FROM record_sources WHERE location=%s AND record_id = ANY(%s)",
                           (location, stale))
                db.execute("DELETE FROM aliases WHERE location=%s AND record_id = ANY(%s)",
                           (location, stale))
                self._merge(db, stale, now, location, applied)
            db.execute("DELETE FROM relations WHERE location=%s", (location,))
            relations = relations + parent_relations(records, relations)
            db.cursor().executemany(
                "INSERT INTO relations VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT "
                "(subject, predicate, object, location) DO UPDATE SET evidence=excluded.evidence, "
                "confidence=excluded.confidence",
                [(r.subject, r.predicate.value, r.object, r.evidence, r.confidence, location)
                 for r in relations])
            for deletion in result.deletions:
                applied.deleted += self._delete_alias(db, deletion, now)
        return applied

    def _assign_ids(self, db: Connection, location: str, records: list[Record],
                    relations: list[Relation], previous: dict[str, str]
                    ) -> tuple[list[Record], list[Relation]]:
        """Final ids, by the rules of `rules.kept_ids` and `rules.separated_ids`."""
        incoming = {r.id for r in records}
        renames = kept_ids(records, previous, self._old_aliases(
            db, location, [rid for rid in previous if rid not in incoming]))
        candidates = conflict_candidates(records, previous, renames)
        renames.update(separated_ids(candidates, self._aliases_elsewhere(
            db, location, [r.id for r in candidates])))
        return renamed(records, relations, renames)

    def _old_aliases(self, db: Connection, location: str, stale: list[str]
                     ) -> dict[tuple[str, str], str]:
        """(kind, alias) -> id of the records this location held that it no longer names."""
        if not stale:
            return {}
        return {(kind, alias): rid for alias, rid, kind in db.execute(
            "SELECT a.alias, a.record_id, r.kind FROM aliases a JOIN records r ON r.id = a.record_id "
            "WHERE a.location=%s AND a.record_id = ANY(%s)", (location, stale))}

    def _aliases_elsewhere(self, db: Connection, location: str, ids: list[str]) -> dict[str, list[str]]:
        """id -> the aliases other locations gave it."""
        theirs: dict[str, list[str]] = {}
        if ids:
            for rid, alias in db.execute("SELECT record_id, alias FROM aliases WHERE location != %s "
                                         "AND record_id = ANY(%s)", (location, ids)):
                theirs.setdefault(rid, []).append(alias)
        return theirs

    def _write_aliases(self, db: Connection, location: str, records: list[Record]) -> None:
        if not records:
            return
        db.execute("DELETE FROM aliases WHERE location=%s AND record_id = ANY(%s)",
                   (location, [r.id for r in records]))
        db.cursor().executemany(
            "INSERT INTO aliases VALUES (%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            [(alias, alias.split(":", 1)[1], record.id, location)
             for record in records for alias in record.aliases()])

    def _merge(self, db: Connection, ids: list[str], now: str, location: str, applied: Applied) -> None:
        """Recompute the merged record of each id from all its sources (or delete it if none)."""
        if not ids:
            return
        sources: dict[str, list[str]] = {}
        for rid, data in db.execute(
                "SELECT record_id, data FROM record_sources WHERE record_id = ANY(%s) "
                "ORDER BY record_id, fetched_at, location", (ids,)):
            sources.setdefault(rid, []).append(data)
        existing: dict[str, str] = dict(db.execute(
            "SELECT id, data_hash FROM records WHERE id = ANY(%s)", (ids,)))
        plan = merge_plan(ids, sources, existing, now, location, applied, clean=_text)
        db.cursor().executemany(
            "INSERT INTO records (id, kind, title, parent, data, data_hash, created_at, updated_at) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET kind=excluded.kind, "
            "title=excluded.title, parent=excluded.parent, data=excluded.data, "
            "data_hash=excluded.data_hash, updated_at=excluded.updated_at", plan.upserts)
        db.cursor().executemany("INSERT INTO history (record_id, at, action, data_hash, location) "
                                "VALUES (%s,%s,%s,%s,%s)", plan.history)
        for rid in plan.gone:
            applied.deleted += self._delete_record(db, rid, now, location)

    def _delete_alias(self, db: Connection, deletion: Deletion, now: str) -> int:
        ids = [rid for (rid,) in db.execute(
            "SELECT DISTINCT record_id FROM aliases WHERE alias=%s ORDER BY record_id", (deletion.alias,))]
        return sum(self._delete_record(db, rid, now, deletion.location, cascade=True) for rid in ids)

    def _delete_record(self, db: Connection, rid: str, now: str, location: str,
                       cascade: bool = False) -> int:
        """Remove a record with its aliases and outgoing relations; with cascade, its children."""
        count = 0
        if cascade:
            children = [c for (c,) in db.execute(
                "SELECT id FROM records WHERE parent=%s ORDER BY stored_order", (rid,))]
            count += sum(self._delete_record(db, child, now, location) for child in children)
        for statement in ("DELETE FROM records WHERE id=%s", "DELETE FROM record_sources WHERE record_id=%s",
                          "DELETE FROM aliases WHERE record_id=%s", "DELETE FROM relations WHERE subject=%s",
                          "DELETE FROM clusters WHERE record_id=%s"):
            db.execute(statement, (rid,))
        db.execute("INSERT INTO history (record_id, at, action, data_hash, location) "
                   "VALUES (%s,%s,%s,%s,%s)", (rid, now, "deleted", None, location))
        return count + 1

    def quarantine(self, location: str, reason: str, *, record: str | None = None,
                   hint: str | None = None, raw: bytes | str | None = None) -> str:
        """Keep a failure with its bytes and return its digest; the same failure again updates
        its row's time and reason (see the SQLite store)."""
        location, reason = _text(location), _text(reason)
        record = _text(record) if record is not None else None
        hint = _text(hint) if hint is not None else None
        if isinstance(raw, str):
            raw = storable_text(raw).encode("utf-8")
        digest = quarantine_digest(location, record, reason, raw)
        self.db.execute(
            "INSERT INTO quarantine (at, location, record, reason, hint, raw, digest) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (digest) DO UPDATE SET "
            "at=excluded.at, reason=excluded.reason, hint=excluded.hint",
            (utcnow().isoformat(), location, record, reason, hint,
             zlib.compress(raw, 3) if raw is not None else None, digest))
        return digest

    def clear_quarantine(self, location: str, keep: Iterable[str] = ()) -> None:
        """Drop a location's failures that its latest ingest did not report again."""
        self.db.execute("DELETE FROM quarantine WHERE location=%s AND NOT (digest = ANY(%s))",
                        (_text(location), list(keep)))

    def mark_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None,
                     started_at: str) -> None:
        self.db.execute("INSERT INTO harvests VALUES (%s,%s,%s,%s) ON CONFLICT "
                        "(endpoint, metadata_prefix, set_spec) DO UPDATE SET started_at=excluded.started_at",
                        (endpoint, metadata_prefix, set_spec or "", started_at))

    def last_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None) -> str | None:
        row = self.db.execute(
            "SELECT started_at FROM harvests WHERE endpoint=%s AND metadata_prefix=%s AND set_spec=%s",
            (endpoint, metadata_prefix, set_spec or "")).fetchone()
        return row[0] if row else None

    def replace_links(self, relations: Iterable[tuple[Relation, str]],
                      members: Iterable[tuple[str, str, float, str | None]]) -> None:
        """Swap in what a linking run derived, all at once (see the SQLite store)."""
        rows = []
        for relation, location in relations:
            if not location.startswith(LINKING):
                raise CatalogueError(f"linking relations belong under {LINKING!r}, not {location!r}",
                                     record=relation.subject)
            rows.append((relation.subject, relation.predicate.value, relation.object,
                         relation.evidence, relation.confidence, location))
        with self.transaction() as db:
            db.execute("DELETE FROM relations WHERE starts_with(location, %s)", (LINKING,))
            db.execute("DELETE FROM clusters")
            db.cursor().executemany(
                "INSERT INTO relations VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT "
                "(subject, predicate, object, location) DO UPDATE SET evidence=excluded.evidence, "
                "confidence=excluded.confidence", rows)
            db.cursor().executemany(
                "INSERT INTO clusters VALUES (%s,%s,%s,%s) ON CONFLICT (record_id) DO UPDATE SET "
                "cluster_id=excluded.cluster_id, confidence=excluded.confidence, "
                "evidence=excluded.evidence", list(members))

    # ---- reading -------------------------------------------------------------------------

    def resolve(self, key: str) -> str:
        """The id of the record a user means: an id, a DOI, a study number, a grant reference."""
        key = key.strip()
        if self.db.execute("SELECT 1 FROM records WHERE id=%s", (key,)).fetchone():
            return key
        candidates = [key.lower()]
        if "10." in key:
            candidates.append(Identifier(scheme="doi", value=key).alias())
        for candidate in candidates:
            row = self.db.execute(
                "SELECT a.record_id FROM aliases a JOIN records r ON r.id = a.record_id "
                "WHERE a.alias=%s OR a.value=%s ORDER BY r.kind IN ('variable','question'), "
                "EXISTS (SELECT 1 FROM clusters c WHERE c.record_id = r.id AND c.cluster_id != r.id), "
                "r.id LIMIT 1",
                (candidate, normalise_doi(candidate) if "10." in candidate else candidate)).fetchone()
            if row:
                return str(row[0])
        raise NotFoundError(f"no record with id or alias {key!r}", record=key,
                            hint="try `discovery list` to see ids, or a DOI / study number")

    def get(self, key: str) -> Record:
        rid = self.resolve(key)
        return _stored_row(self.db.execute(f"{_ROWS} WHERE r.id=%s", (rid,)).fetchone()).record()

    def sources(self, rid: str) -> list[SourceRow]:
        return [SourceRow(location, source, key, cat, fetched, digest, json.loads(data))
                for location, source, key, cat, fetched, digest, data in self.db.execute(
                    "SELECT location, source, record_key, catalogue, fetched_at, document_hash, data "
                    "FROM record_sources WHERE record_id=%s ORDER BY fetched_at, location", (rid,))]

    def raw_document(self, digest: str) -> bytes | None:
        row = self.db.execute("SELECT raw FROM documents WHERE hash=%s", (digest,)).fetchone()
        return zlib.decompress(row[0]) if row else None

    def relations(self, rid: str | None = None, predicates: Iterable[Predicate] = ()) -> list[Relation]:
        """Edges out of and into `rid` (every edge when None), only of these `predicates` when
        given; each once, with its highest confidence."""
        values = [p.value for p in predicates]
        return _relations(self.db.execute(
            "SELECT * FROM (SELECT DISTINCT ON (subject, predicate, object) subject, predicate, "
            "object, evidence, confidence FROM relations "
            "WHERE (%(rid)s::text IS NULL OR subject=%(rid)s OR object=%(rid)s) "
            "AND (cardinality(%(values)s::text[]) = 0 OR predicate = ANY(%(values)s)) "
            "ORDER BY subject, predicate, object, confidence DESC) best "
            "ORDER BY predicate, subject, object", {"rid": rid, "values": values}))

    def titles(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Kind and title of each id that exists, for showing neighbours."""
        return {rid: (kind, title) for rid, kind, title in self.db.execute(
            "SELECT id, kind, title FROM records WHERE id = ANY(%s)", (list(dict.fromkeys(ids)),))}

    def aliases_of(self, rid: str) -> list[str]:
        return [a for (a,) in self.db.execute(
            "SELECT DISTINCT alias FROM aliases WHERE record_id=%s ORDER BY alias", (rid,))]

    def cluster(self, rid: str) -> list[tuple[str, float, str | None]]:
        """The records linking found to be the same as `rid` (canonical first), with the
        confidence and evidence of each membership; [] when it is in no cluster."""
        row = self.db.execute("SELECT cluster_id FROM clusters WHERE record_id=%s", (rid,)).fetchone()
        if row is None:
            return []
        return [(member, confidence, evidence) for member, confidence, evidence in self.db.execute(
            "SELECT c.record_id, c.confidence, c.evidence FROM clusters c JOIN records r "
            "ON r.id = c.record_id WHERE c.cluster_id=%s ORDER BY c.record_id != c.cluster_id, "
            "c.record_id", (row[0],))]

    def canonical(self, rid: str) -> str:
        """The id that stands for the cluster `rid` is in (itself when in none)."""
        row = self.db.execute("SELECT cluster_id FROM clusters WHERE record_id=%s", (rid,)).fetchone()
        return str(row[0]) if row else rid

    def records_of_kinds(self, kinds: Iterable[str]) -> Iterator[Record]:
        """Every merged record of these kinds, as `get` reads one, in one pass."""
        for row in self.db.execute(f"{_ROWS} WHERE r.kind = ANY(%s) ORDER BY r.id", (list(kinds),)):
            yield _stored_row(row).record()

    def dangling_relations(self, prefix: str) -> list[Relation]:
        """Edges, stated by sources, with an end id starting with `prefix` that names no record
        (see the SQLite store)."""
        return _relations(self.db.execute(
            "SELECT subject, predicate, object, evidence, confidence FROM relations "
            "WHERE NOT starts_with(location, %(linking)s) AND ("
            "(starts_with(subject, %(prefix)s) AND NOT EXISTS (SELECT 1 FROM records WHERE id = subject)) OR "
            "(starts_with(object, %(prefix)s) AND NOT EXISTS (SELECT 1 FROM records WHERE id = object))) "
            "ORDER BY subject, predicate, object, location",
            {"linking": LINKING, "prefix": prefix}))

    def record_stats(self, ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """When each record was created and how many sources describe it."""
        return {rid: (created, count) for rid, created, count in self.db.execute(
            "SELECT r.id, r.created_at, COUNT(s.location) FROM records r JOIN record_sources s "
            "ON s.record_id = r.id WHERE r.id = ANY(%s) GROUP BY r.id", (list(dict.fromkeys(ids)),))}

    def history(self, rid: str) -> list[tuple[str, str, str | None]]:
        return self.db.execute("SELECT at, action, location FROM history WHERE record_id=%s "
                               "ORDER BY seq", (rid,)).fetchall()

    def list_records(self, kind: str | None = None, source_prefix: str | None = None,
                     limit: int | None = None) -> Iterator[tuple[str, str, str, str]]:
        """(id, kind, title, location of its first source) for every matching record."""
        query = ("SELECT r.id, r.kind, r.title, MIN(s.location) FROM records r "
                 "JOIN record_sources s ON s.record_id = r.id "
                 "WHERE (%(kind)s::text IS NULL OR r.kind = %(kind)s) "
                 "AND (%(prefix)s::text IS NULL OR starts_with(s.location, %(prefix)s)) "
                 "GROUP BY r.id ORDER BY r.kind, r.id")
        if limit:
            query += f" LIMIT {int(limit)}"
        yield from self.db.execute(query, {"kind": kind or None, "prefix": source_prefix or None})

    def stored_rows(self, kinds: Sequence[str] = (), catalogues: Sequence[str] = (),
                    since: str | None = None) -> Iterator[StoredRow]:
        """Every record of these kinds (all when empty), published by one of these catalogues (any
        when empty), changed at or after `since`, in id order, with its first source as
        provenance: one server-side cursor in one transaction, so a dump reads one consistent
        snapshot and holds one batch of STREAM_BATCH rows at a time."""
        sql = (f"{_ROWS} WHERE (cardinality(%(kinds)s::text[]) = 0 OR r.kind = ANY(%(kinds)s)) "
               "AND (cardinality(%(catalogues)s::text[]) = 0 OR EXISTS (SELECT 1 FROM record_sources c "
               "WHERE c.record_id = r.id AND c.catalogue = ANY(%(catalogues)s))) "
               "AND (%(since)s::text IS NULL OR r.updated_at >= %(since)s) ORDER BY r.id")
        with self.db.transaction(), self.db.cursor(name=f"stored_rows_{next(_cursor_names)}") as cursor:
            cursor.execute(sql, {"kinds": list(kinds), "catalogues": list(catalogues), "since": since})
            while rows := cursor.fetchmany(STREAM_BATCH):
                for row in rows:
                    yield _stored_row(row)

    def variables_of(self, study_id: str) -> list[Variable]:
        """A study's variables in the order they were stored (the source document's order)."""
        rows = self.db.execute(f"{_ROWS} WHERE r.parent = %s AND r.kind = 'variable' "
                               "ORDER BY r.stored_order", (study_id,))
        return [v for v in (_stored_row(row).record() for row in rows) if isinstance(v, Variable)]

    def counts_by_kind(self) -> dict[str, int]:
        return {kind: count for kind, count in self.db.execute(
            "SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY kind")}

    def counts_by_source(self) -> list[tuple[str, str, int]]:
        """(parser format, kind, records) across all sources."""
        return self.db.execute(
            "SELECT s.source, r.kind, COUNT(DISTINCT r.id) FROM record_sources s "
            "JOIN records r ON r.id = s.record_id GROUP BY s.source, r.kind ORDER BY s.source, r.kind"
        ).fetchall()

    def counts_by_catalogue(self) -> list[tuple[str, int]]:
        return self.db.execute(
            "SELECT COALESCE(catalogue, '(not stated)'), COUNT(DISTINCT record_id) "
            "FROM record_sources GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()

    def quarantined(self) -> list[tuple[int, str, str, str | None, str, str | None]]:
        """(number, at, location, record, reason, hint) of everything that failed."""
        return self.db.execute(
            "SELECT seq, at, location, record, reason, hint FROM quarantine ORDER BY seq").fetchall()

    def quarantined_raw(self, number: int) -> bytes | None:
        """The bytes that failed, as they arrived, for inspection."""
        row = self.db.execute("SELECT raw FROM quarantine WHERE seq=%s", (number,)).fetchone()
        if row is None:
            raise NotFoundError(f"no quarantine entry {number}",
                                hint="`discovery quarantine` lists the numbers")
        return zlib.decompress(row[0]) if row[0] is not None else None

    def totals(self) -> dict[str, int]:
        counts = self.db.execute(
            "SELECT (SELECT COUNT(*) FROM records), (SELECT COUNT(*) FROM (SELECT DISTINCT subject, "
            "predicate, object FROM relations) edges), (SELECT COUNT(*) FROM documents), "
            "(SELECT COUNT(DISTINCT alias) FROM aliases), (SELECT COUNT(*) FROM quarantine)").fetchall()
        return dict(zip(("records", "relations", "documents", "aliases", "quarantined"), counts[0],
                        strict=True))

    # ---- the change feed -----------------------------------------------------------------

    def last_seq(self) -> int:
        """The newest history number: the index records how far it has read."""
        row = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM history").fetchone()
        return int(row[0]) if row else 0

    def changes_since(self, seq: int) -> Changes:
        """Ids created, updated or deleted after `seq` (`rules.folded_history`)."""
        upserted, deleted, newest = folded_history(self.db.execute(
            "SELECT seq, record_id, action FROM history WHERE seq > %s ORDER BY seq", (seq,)), seq)
        gone = upserted - set(self.existing_ids(sorted(upserted)))
        return Changes(upserted=upserted - gone, deleted=deleted | gone, seq=newest)

    def history_after(self, seq: int, limit: int) -> list[tuple[int, str, str]]:
        """(history number, id, time) of the next `limit` changes after `seq`, in order."""
        return self.db.execute("SELECT seq, record_id, at FROM history WHERE seq > %s ORDER BY seq "
                               "LIMIT %s", (seq, limit)).fetchall()

    def existing_ids(self, ids: list[str]) -> Iterator[str]:
        for (rid,) in self.db.execute("SELECT id FROM records WHERE id = ANY(%s)", (ids,)):
            yield rid

    def kinds(self, ids: list[str]) -> dict[str, str]:
        """The kind of each id that exists."""
        return {rid: kind for rid, kind in self.db.execute(
            "SELECT id, kind FROM records WHERE id = ANY(%s)", (ids,))}

    def publishing_catalogues(self, ids: list[str]) -> dict[str, list[str]]:
        """The catalogues that sources say published each id, where they say one."""
        found: dict[str, list[str]] = {}
        for rid, name in self.db.execute(
                "SELECT DISTINCT record_id, catalogue FROM record_sources WHERE catalogue IS NOT NULL "
                "AND record_id = ANY(%s) ORDER BY record_id, catalogue", (ids,)):
            found.setdefault(rid, []).append(name)
        return found

    def all_ids(self) -> list[str]:
        return [rid for (rid,) in self.db.execute("SELECT id FROM records ORDER BY id")]

    def child_titles(self, parents: list[str]) -> dict[str, list[str]]:
        """The titles (variable labels, question texts) of each parent's children, in stored order."""
        found: dict[str, list[str]] = {}
        for parent, title in self.db.execute(
                "SELECT parent, title FROM records WHERE parent = ANY(%s) ORDER BY stored_order",
                (parents,)):
            found.setdefault(parent, []).append(title)
        return found

    def read_records(self, ids: list[str]) -> Iterator[StoredRecord]:
        """The stored records of `ids` in the order given, skipping ids that no longer exist."""
        for start in range(0, len(ids), STREAM_BATCH):
            chunk = ids[start:start + STREAM_BATCH]
            sources: dict[str, tuple[list[str], list[str], list[str]]] = {}
            for rid, source, cat, location in self.db.execute(
                    "SELECT record_id, source, catalogue, location FROM record_sources "
                    "WHERE record_id = ANY(%s) ORDER BY record_id, fetched_at, location", (chunk,)):
                formats, catalogues, locations = sources.setdefault(rid, ([], [], []))
                if source not in formats:
                    formats.append(source)
                if cat and cat not in catalogues:
                    catalogues.append(cat)
                locations.append(location)
            rows = {rid: (kind, parent, data) for rid, kind, parent, data in self.db.execute(
                "SELECT id, kind, parent, data FROM records WHERE id = ANY(%s)", (chunk,))}
            for rid in chunk:
                if rid in rows:
                    kind, parent, data = rows[rid]
                    formats, catalogues, locations = sources.get(rid, ([], [], []))
                    yield StoredRecord(rid, kind, parent, json.loads(data), formats, catalogues, locations)


def _text(value: str) -> str:
    """`value` as PostgreSQL text can hold it: a lone surrogate escaped (`rules.storable_text`)
    and NUL, which its text type refuses and SQLite keeps, written as its escape."""
    return storable_text(value).replace("\x00", "\\x00")


def _stored_row(row: Sequence[Any] | None) -> StoredRow:
    if row is None:
        raise NotFoundError("the record has no source left")  # deleted between resolve and read
    rid, kind, parent, title, data, source, location, fetched_at, digest, key, catalogue = row
    return StoredRow(rid, kind, parent, title, data, {
        "source": source, "location": location, "fetched_at": fetched_at, "content_hash": digest,
        "record_key": key, "catalogue": catalogue})


def _relations(rows: Iterable[Sequence[Any]]) -> list[Relation]:
    return [Relation(subject=s, predicate=Predicate(p), object=o, evidence=e, confidence=c)
            for s, p, o, e, c in rows]
