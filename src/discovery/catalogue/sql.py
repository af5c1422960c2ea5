"""The catalogue's queries, written once for both SQL backends.

The SQLite store (`store.py`) and the PostgreSQL store (`postgres.py`) keep the same tables and
apply the same rules (`rules.py`), so every query lives here, written with `?` placeholders and
the `INSERT ... ON CONFLICT` upserts both engines accept. What truly differs is a `Dialect`: how
the driver marks parameters, how a column is matched against a list, how each record is joined
to its earliest source, which column keeps the stored order, how the strongest of repeated edges
is picked, and how text and a source's JSON are stored. A store adds only its connection: how it
opens, how a write transaction is taken, how many rows go in one call, how a long read streams.
"""

from __future__ import annotations

import json
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, Self

from discovery.catalogue.protocol import Applied, Changes, SourceRow, StoredRecord, StoredRow
from discovery.catalogue.rules import (LINKING, conflict_candidates, data_digest, folded_history, kept_ids,
                                       merge_plan, parent_relations, quarantine_digest, record_json,
                                       renamed, separated_ids, storable_text, unique_ids)
from discovery.errors import CatalogueError, NotFoundError
from discovery.model import (Deletion, Identifier, ParseResult, Predicate, Record, Relation, Variable,
                             content_hash, normalise_doi, utcnow)

READ_BATCH = 2000  # records read at a time by `read_records`
STREAM_BATCH = 1000  # rows fetched at a time by `stored_rows`


class Dialect(Protocol):
    """What the two engines write differently; everything else is one statement for both."""

    # every merged record with its earliest source, the one that stands as its provenance: r.id,
    # r.kind, r.parent, r.title, r.data, s.source, s.location, s.fetched_at, s.document_hash,
    # s.record_key, s.catalogue; a WHERE clause may follow
    first_source: str
    # the column of `records` that keeps the order records were first stored in
    stored_order: str
    # each edge of `relations` once, with its highest confidence (subject, predicate, object,
    # evidence, confidence), ordered by predicate, subject, object; `{where}` filters the rows
    best_edges: str
    # the most values one statement may bind, or None where a list is bound as one value
    ids_per_statement: int | None

    def statement(self, sql: str) -> str:
        """`sql`, written with `?` placeholders, as the driver takes it."""
        ...

    def one_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """The condition, to follow a column, that it holds one of `values`, with its parameters."""
        ...

    def text(self, value: str) -> str:
        """`value` as the engine's text type can hold it."""
        ...

    def pack(self, data: str) -> Any:
        """A source's record JSON as `record_sources.data` keeps it."""
        ...

    def unpack(self, stored: Any) -> str:
        """The record JSON that `pack` stored."""
        ...


class Rows(Protocol):
    """What a query answers with, on either driver."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of a driver's connection that the shared queries use."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Rows: ...

    def close(self) -> None: ...


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """The range [low, high) of the texts that start with `prefix` (not empty), in code-point
    order, which both engines' text keys sort by: a condition an index on the column can serve."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


class SqlCatalogue(ABC):
    """The catalogue's reads and writes over a connection and its dialect (see the module)."""

    db: Connection
    dialect: Dialect

    # ---- the connection, which each store provides ---------------------------------------

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """All or nothing: a failure anywhere leaves the catalogue as it was; writers queue."""

    @abstractmethod
    def _execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a driver-ready `statement` once for each of `rows`."""

    @abstractmethod
    def _stream(self, statement: str, args: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """The rows of a driver-ready `statement`, read STREAM_BATCH at a time from one snapshot."""

    @property
    @abstractmethod
    def connected(self) -> bool:
        """False once the connection is lost for good."""

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- statements ----------------------------------------------------------------------

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        # always with parameters: psycopg reads `%%` as `%` only when it is given some
        return self.db.execute(self.dialect.statement(sql), args)

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._execute_many(self.dialect.statement(sql), rows)

    def _chunks(self, ids: Sequence[Any]) -> Iterator[Sequence[Any]]:
        size = self.dialect.ids_per_statement or max(len(ids), 1)
        for start in range(0, len(ids), size):
            yield ids[start:start + size]

    def _bound_in(self, sql: str, ids: Sequence[Any], params: Sequence[Any]
                  ) -> Iterator[tuple[str, list[Any]]]:
        """`sql`, whose `{ids}` follows the column matched against `ids`, with its arguments, as
        many times as the dialect needs to bind every id; `params` bind before the ids."""
        for chunk in self._chunks(ids):
            condition, values = self.dialect.one_of(chunk)
            yield sql.format(ids=condition), [*params, *values]

    def _select_in(self, sql: str, ids: Sequence[Any], params: Sequence[Any] = ()) -> Iterator[Any]:
        for statement, args in self._bound_in(sql, ids, params):
            yield from self._execute(statement, args)

    def _execute_in(self, sql: str, ids: Sequence[Any], params: Sequence[Any] = ()) -> None:
        for statement, args in self._bound_in(sql, ids, params):
            self._execute(statement, args)

    # ---- writing -------------------------------------------------------------------------

    def apply(self, location: str, raw: bytes, fetched_at: str, result: ParseResult) -> Applied:
        """Store what a document says, replacing what the same document said before."""
        applied = Applied()
        now = utcnow().isoformat()
        with self.transaction():
            self._execute("INSERT INTO documents VALUES (?,?,?,?,?) ON CONFLICT (hash) DO NOTHING",
                          (content_hash(raw), location, len(raw), fetched_at, zlib.compress(raw, 3)))
            previous: dict[str, str] = dict(self._execute(
                "SELECT record_id, data_hash FROM record_sources WHERE location=?", (location,)))
            records, relations = self._assign_ids(location, unique_ids(result), result.relations,
                                                  previous)
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
                             prov.content_hash, prov.fetched_at.isoformat(), self.dialect.pack(data),
                             digest))
                changed.append(record)
            self._many(
                "INSERT INTO record_sources VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (record_id, location) DO UPDATE SET source=excluded.source, "
                "record_key=excluded.record_key, catalogue=excluded.catalogue, "
                "document_hash=excluded.document_hash, fetched_at=excluded.fetched_at, "
                "data=excluded.data, data_hash=excluded.data_hash", rows)
            self._write_aliases(location, changed)
            self._merge([r.id for r in changed], now, location, applied)
            stale = sorted(set(previous) - set(applied.ids))
            if stale:
                self._execute_in("DELETE FROM record_sources WHERE location=? AND record_id {ids}",
                                 stale, [location])
                self._execute_in("DELETE FROM aliases WHERE location=? AND record_id {ids}",
                                 stale, [location])
                self._merge(stale, now, location, applied)
            self._execute("DELETE FROM relations WHERE location=?", (location,))
            relations = relations + parent_relations(records, relations)
            self._write_relations([(r.subject, r.predicate.value, r.object, r.evidence, r.confidence,
                                    location) for r in relations])
            for deletion in result.deletions:
                applied.deleted += self._delete_alias(deletion, now)
        return applied

    def _assign_ids(self, location: str, records: list[Record], relations: list[Relation],
                    previous: dict[str, str]) -> tuple[list[Record], list[Relation]]:
        """Final ids, by the rules of `rules.kept_ids` and `rules.separated_ids`."""
        incoming = {r.id for r in records}
        renames = kept_ids(records, previous, self._old_aliases(
            location, [rid for rid in previous if rid not in incoming]))
        candidates = conflict_candidates(records, previous, renames)
        renames.update(separated_ids(candidates, self._aliases_elsewhere(
            location, [r.id for r in candidates])))
        return renamed(records, relations, renames)

    def _old_aliases(self, location: str, stale: list[str]) -> dict[tuple[str, str], str]:
        """(kind, alias) -> id of the records this location held that it no longer names."""
        return {(kind, alias): rid for alias, rid, kind in self._select_in(
            "SELECT a.alias, a.record_id, r.kind FROM aliases a JOIN records r ON r.id = a.record_id "
            "WHERE a.location=? AND a.record_id {ids}", stale, [location])}

    def _aliases_elsewhere(self, location: str, ids: list[str]) -> dict[str, list[str]]:
        """id -> the aliases other locations gave it."""
        theirs: dict[str, list[str]] = {}
        for rid, alias in self._select_in(
                "SELECT record_id, alias FROM aliases WHERE location != ? AND record_id {ids}",
                ids, [location]):
            theirs.setdefault(rid, []).append(alias)
        return theirs

    def _write_aliases(self, location: str, records: list[Record]) -> None:
        self._execute_in("DELETE FROM aliases WHERE location=? AND record_id {ids}",
                         [r.id for r in records], [location])
        self._many("INSERT INTO aliases VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                   [(alias, alias.split(":", 1)[1], record.id, location)
                    for record in records for alias in record.aliases()])

    def _write_relations(self, rows: Sequence[Sequence[Any]]) -> None:
        self._many("INSERT INTO relations VALUES (?,?,?,?,?,?) ON CONFLICT "
                   "(subject, predicate, object, location) DO UPDATE SET evidence=excluded.evidence, "
                   "confidence=excluded.confidence", rows)

    def _merge(self, ids: list[str], now: str, location: str, applied: Applied) -> None:
        """Recompute the merged record of each id from all its sources (or delete it if none)."""
        for chunk in self._chunks(ids):
            condition, values = self.dialect.one_of(chunk)
            sources: dict[str, list[str]] = {}
            for rid, data in self._execute(
                    f"SELECT record_id, data FROM record_sources WHERE record_id {condition} "
                    "ORDER BY record_id, fetched_at, location", values):
                sources.setdefault(rid, []).append(self.dialect.unpack(data))
            existing: dict[str, str] = dict(self._execute(
                f"SELECT id, data_hash FROM records WHERE id {condition}", values))
            plan = merge_plan(chunk, sources, existing, now, location, applied, clean=self.dialect.text)
            self._many(
                "INSERT INTO records (id, kind, title, parent, data, data_hash, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET kind=excluded.kind, "
                "title=excluded.title, parent=excluded.parent, data=excluded.data, "
                "data_hash=excluded.data_hash, updated_at=excluded.updated_at", plan.upserts)
            self._many("INSERT INTO history (record_id, at, action, data_hash, location) "
                       "VALUES (?,?,?,?,?)", plan.history)
            for rid in plan.gone:
                applied.deleted += self._delete_record(rid, now, location)

    def _delete_alias(self, deletion: Deletion, now: str) -> int:
        ids = [rid for (rid,) in self._execute(
            "SELECT DISTINCT record_id FROM aliases WHERE alias=? ORDER BY record_id", (deletion.alias,))]
        return sum(self._delete_record(rid, now, deletion.location, cascade=True) for rid in ids)

    def _delete_record(self, rid: str, now: str, location: str, cascade: bool = False) -> int:
        """Remove a record with its aliases and outgoing relations; with cascade, its children."""
        count = 0
        if cascade:
            children = [c for (c,) in self._execute(
                f"SELECT id FROM records WHERE parent=? ORDER BY {self.dialect.stored_order}", (rid,))]
            count += sum(self._delete_record(child, now, location) for child in children)
        for table, column in (("records", "id"), ("record_sources", "record_id"),
                              ("aliases", "record_id"), ("relations", "subject"),
                              ("clusters", "record_id")):
            self._execute(f"DELETE FROM {table} WHERE {column}=?", (rid,))
        self._execute("INSERT INTO history (record_id, at, action, data_hash, location) "
                      "VALUES (?,?,?,?,?)", (rid, now, "deleted", None, location))
        return count + 1

    def quarantine(self, location: str, reason: str, *, record: str | None = None,
                   hint: str | None = None, raw: bytes | str | None = None) -> str:
        """Keep a failure with its bytes and return its digest. The same failure again (same
        location, record and bytes) updates its row's time and reason instead of adding a row.
        Text the engine cannot hold (a lone surrogate; NUL on PostgreSQL) is kept escaped."""
        text = self.dialect.text
        location, reason = text(location), text(reason)
        record = text(record) if record is not None else None
        hint = text(hint) if hint is not None else None
        if isinstance(raw, str):
            raw = storable_text(raw).encode("utf-8")
        digest = quarantine_digest(location, record, reason, raw)
        self._execute(
            "INSERT INTO quarantine (at, location, record, reason, hint, raw, digest) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (digest) DO UPDATE SET "
            "at=excluded.at, reason=excluded.reason, hint=excluded.hint",
            (utcnow().isoformat(), location, record, reason, hint,
             zlib.compress(raw, 3) if raw is not None else None, digest))
        return digest

    def clear_quarantine(self, location: str, keep: Iterable[str] = ()) -> None:
        """What a location's latest ingest did not report again (a document that now parses, a
        record now read) is no longer quarantined; `keep` holds the digests it did report."""
        kept = set(keep)
        stale = [(digest,) for (digest,) in self._execute(
            "SELECT digest FROM quarantine WHERE location=?", (self.dialect.text(location),))
                 if digest not in kept]
        self._many("DELETE FROM quarantine WHERE digest=?", stale)

    def mark_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None,
                     started_at: str) -> None:
        self._execute("INSERT INTO harvests VALUES (?,?,?,?) ON CONFLICT "
                      "(endpoint, metadata_prefix, set_spec) DO UPDATE SET started_at=excluded.started_at",
                      (endpoint, metadata_prefix, set_spec or "", started_at))

    def last_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None) -> str | None:
        row = self._execute(
            "SELECT started_at FROM harvests WHERE endpoint=? AND metadata_prefix=? AND set_spec=?",
            (endpoint, metadata_prefix, set_spec or "")).fetchone()
        return row[0] if row else None

    def replace_links(self, relations: Iterable[tuple[Relation, str]],
                      members: Iterable[tuple[str, str, float, str | None]]) -> None:
        """Swap in what a linking run derived, all at once: every relation under a `linking:`
        location and every cluster membership is replaced, so re-running never duplicates.
        `relations` are (relation, location); `members` are (record, cluster, confidence,
        evidence)."""
        rows = []
        for relation, location in relations:
            if not location.startswith(LINKING):
                raise CatalogueError(f"linking relations belong under {LINKING!r}, not {location!r}",
                                     record=relation.subject)
            rows.append((relation.subject, relation.predicate.value, relation.object,
                         relation.evidence, relation.confidence, location))
        with self.transaction():
            self._execute("DELETE FROM relations WHERE location >= ? AND location < ?",
                          prefix_bounds(LINKING))
            self._execute("DELETE FROM clusters")
            self._write_relations(rows)
            self._many("INSERT INTO clusters VALUES (?,?,?,?) ON CONFLICT (record_id) DO UPDATE SET "
                       "cluster_id=excluded.cluster_id, confidence=excluded.confidence, "
                       "evidence=excluded.evidence", list(members))

    # ---- reading -------------------------------------------------------------------------

    def resolve(self, key: str) -> str:
        """The id of the record a user means: an id, a DOI, a study number, a grant reference."""
        key = key.strip()
        if self._execute("SELECT 1 FROM records WHERE id=?", (key,)).fetchone():
            return key
        candidates = [key.lower()]
        if "10." in key:
            candidates.append(Identifier(scheme="doi", value=key).alias())
        for candidate in candidates:
            row = self._execute(
                "SELECT a.record_id FROM aliases a JOIN records r ON r.id = a.record_id "
                "WHERE a.alias=? OR a.value=? ORDER BY r.kind IN ('variable','question'), "
                "EXISTS (SELECT 1 FROM clusters c WHERE c.record_id = r.id AND c.cluster_id != r.id), "
                "r.id LIMIT 1",
                (candidate, normalise_doi(candidate) if "10." in candidate else candidate)).fetchone()
            if row:
                return str(row[0])
        raise NotFoundError(f"no record with id or alias {key!r}", record=key,
                            hint="try `discovery list` to see ids, or a DOI / study number")

    def get(self, key: str) -> Record:
        rid = self.resolve(key)
        return _stored_row(self._execute(f"{self.dialect.first_source} WHERE r.id=?",
                                         (rid,)).fetchone()).record()

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]:
        """The records of these ids (ids, not aliases) that exist, each as `get` reads it, in a
        query per batch: an item page read its 271 variables one `get` (two queries) at a time."""
        return {row.id: row.record() for row in map(_stored_row, self._select_in(
            f"{self.dialect.first_source} WHERE r.id {{ids}}", list(dict.fromkeys(ids))))}

    def sources(self, rid: str) -> list[SourceRow]:
        return [SourceRow(location, source, key, cat, fetched, digest,
                          json.loads(self.dialect.unpack(data)))
                for location, source, key, cat, fetched, digest, data in self._execute(
                    "SELECT location, source, record_key, catalogue, fetched_at, document_hash, data "
                    "FROM record_sources WHERE record_id=? ORDER BY fetched_at, location", (rid,))]

    def raw_document(self, digest: str) -> bytes | None:
        row = self._execute("SELECT raw FROM documents WHERE hash=?", (digest,)).fetchone()
        return zlib.decompress(row[0]) if row else None

    def relations(self, rid: str | None = None, predicates: Iterable[Predicate] = ()) -> list[Relation]:
        """Edges out of and into `rid` (every edge when None), only of these `predicates` when
        given; each once, with its highest confidence."""
        where: list[str] = []
        args: list[Any] = []
        if rid is not None:
            where.append("(subject=? OR object=?)")
            args += [rid, rid]
        values = [p.value for p in predicates]
        if values:
            condition, bound = self.dialect.one_of(values)
            where.append(f"predicate {condition}")
            args += bound
        return _relations(self._execute(self.dialect.best_edges.format(
            where=f"WHERE {' AND '.join(where)}" if where else ""), args))

    def titles(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Kind and title of each id that exists, for showing neighbours."""
        return {rid: (kind, title) for rid, kind, title in self._select_in(
            "SELECT id, kind, title FROM records WHERE id {ids}", list(dict.fromkeys(ids)))}

    def aliases_of(self, rid: str) -> list[str]:
        return [a for (a,) in self._execute(
            "SELECT DISTINCT alias FROM aliases WHERE record_id=? ORDER BY alias", (rid,))]

    def cluster(self, rid: str) -> list[tuple[str, float, str | None]]:
        """The records linking found to be the same as `rid` (itself included, canonical first),
        each with the confidence and evidence of its membership; [] when it is in no cluster."""
        row = self._execute("SELECT cluster_id FROM clusters WHERE record_id=?", (rid,)).fetchone()
        if row is None:
            return []
        return [(member, confidence, evidence) for member, confidence, evidence in self._execute(
            "SELECT c.record_id, c.confidence, c.evidence FROM clusters c JOIN records r "
            "ON r.id = c.record_id WHERE c.cluster_id=? ORDER BY c.record_id != c.cluster_id, "
            "c.record_id", (row[0],))]

    def canonical(self, rid: str) -> str:
        """The id that stands for the cluster `rid` is in (itself when in none)."""
        row = self._execute("SELECT cluster_id FROM clusters WHERE record_id=?", (rid,)).fetchone()
        return str(row[0]) if row else rid

    def records_of_kinds(self, kinds: Iterable[str]) -> Iterator[Record]:
        """Every merged record of these kinds, as `get` reads one: what linking compares, read in
        one pass rather than one `get` per record."""
        condition, args = self.dialect.one_of(list(kinds))
        for row in self._execute(f"{self.dialect.first_source} WHERE r.kind {condition} ORDER BY r.id",
                                 args):
            yield _stored_row(row).record()

    def dangling_relations(self, prefix: str) -> list[Relation]:
        """Edges, stated by sources, with an end id starting with `prefix` that names no record:
        references across documents (a GtR outcome naming its project by GUID) that linking
        can resolve through aliases."""
        return _relations(self._execute(
            "SELECT subject, predicate, object, evidence, confidence FROM relations "
            "WHERE NOT (location >= ? AND location < ?) AND ("
            "(subject >= ? AND subject < ? AND NOT EXISTS (SELECT 1 FROM records WHERE id = subject)) OR "
            "(object >= ? AND object < ? AND NOT EXISTS (SELECT 1 FROM records WHERE id = object))) "
            "ORDER BY subject, predicate, object, location",
            (*prefix_bounds(LINKING), *prefix_bounds(prefix), *prefix_bounds(prefix))))

    def record_stats(self, ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """When each record was created and how many sources describe it: what decides which
        member of a cluster stands for it."""
        return {rid: (created, count) for rid, created, count in self._select_in(
            "SELECT r.id, r.created_at, COUNT(s.location) FROM records r JOIN record_sources s "
            "ON s.record_id = r.id WHERE r.id {ids} GROUP BY r.id", list(dict.fromkeys(ids)))}

    def history(self, rid: str) -> list[tuple[str, str, str | None]]:
        return self._execute("SELECT at, action, location FROM history WHERE record_id=? ORDER BY seq",
                             (rid,)).fetchall()

    def list_records(self, kind: str | None = None, source_prefix: str | None = None,
                     limit: int | None = None) -> Iterator[tuple[str, str, str, str]]:
        """(id, kind, title, location of its first source) for every matching record."""
        query = ("SELECT r.id, r.kind, r.title, MIN(s.location) FROM records r "
                 "JOIN record_sources s ON s.record_id = r.id")
        where: list[str] = []
        args: list[str] = []
        if kind:
            where.append("r.kind=?")
            args.append(kind)
        if source_prefix:
            where.append("s.location >= ? AND s.location < ?")
            args += prefix_bounds(source_prefix)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " GROUP BY r.id ORDER BY r.kind, r.id"
        if limit:
            query += f" LIMIT {int(limit)}"
        yield from self._execute(query, args)

    def stored_rows(self, kinds: Sequence[str] = (), catalogues: Sequence[str] = (),
                    since: str | None = None) -> Iterator[StoredRow]:
        """Every record of these kinds (all when empty), published by one of these catalogues (any
        when empty), changed at or after `since` (ISO date or time), in id order, with its first
        source as provenance, streamed (`_stream`): a dump reads one consistent snapshot of the
        catalogue and holds one batch at a time."""
        where: list[str] = []
        args: list[Any] = []
        if kinds:
            condition, bound = self.dialect.one_of(list(kinds))
            where.append(f"r.kind {condition}")
            args += bound
        if catalogues:
            condition, bound = self.dialect.one_of(list(catalogues))
            where.append("EXISTS (SELECT 1 FROM record_sources c WHERE c.record_id = r.id AND "
                         f"c.catalogue {condition})")
            args += bound
        if since:
            where.append("r.updated_at >= ?")
            args.append(since)
        sql = f"{self.dialect.first_source} {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY r.id"
        for row in self._stream(self.dialect.statement(sql), args):
            yield _stored_row(row)

    def variables_of(self, study_id: str) -> list[Variable]:
        """A study's variables in the order they were stored (the source document's order), read
        in one query."""
        rows = self._execute(f"{self.dialect.first_source} WHERE r.parent = ? AND r.kind = 'variable' "
                             f"ORDER BY r.{self.dialect.stored_order}", (study_id,))
        return [v for v in (_stored_row(row).record() for row in rows) if isinstance(v, Variable)]

    def counts_by_kind(self) -> dict[str, int]:
        return dict(self._execute("SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY kind"))

    def counts_by_source(self) -> list[tuple[str, str, int]]:
        """(parser format, kind, records) across all sources."""
        return self._execute(
            "SELECT s.source, r.kind, COUNT(DISTINCT r.id) FROM record_sources s "
            "JOIN records r ON r.id = s.record_id GROUP BY s.source, r.kind ORDER BY s.source, r.kind"
        ).fetchall()

    def counts_by_catalogue(self) -> list[tuple[str, int]]:
        return self._execute(
            "SELECT COALESCE(catalogue, '(not stated)'), COUNT(DISTINCT record_id) "
            "FROM record_sources GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()

    def quarantined(self) -> list[tuple[int, str, str, str | None, str, str | None]]:
        """(number, at, location, record, reason, hint) of everything that failed."""
        return self._execute(
            "SELECT seq, at, location, record, reason, hint FROM quarantine ORDER BY seq").fetchall()

    def quarantined_raw(self, number: int) -> bytes | None:
        """The bytes that failed, as they arrived, for inspection."""
        row = self._execute("SELECT raw FROM quarantine WHERE seq=?", (number,)).fetchone()
        if row is None:
            raise NotFoundError(f"no quarantine entry {number}",
                                hint="`discovery quarantine` lists the numbers")
        return zlib.decompress(row[0]) if row[0] is not None else None

    def totals(self) -> dict[str, int]:
        counts = self._execute(
            "SELECT (SELECT COUNT(*) FROM records), (SELECT COUNT(*) FROM (SELECT DISTINCT subject, "
            "predicate, object FROM relations) edges), (SELECT COUNT(*) FROM documents), "
            "(SELECT COUNT(DISTINCT alias) FROM aliases), (SELECT COUNT(*) FROM quarantine)").fetchone()
        return dict(zip(("records", "relations", "documents", "aliases", "quarantined"), counts,
                        strict=True))

    # ---- the change feed: what the search index and the OAI-PMH ledger read -----------------

    def last_seq(self) -> int:
        """The newest history number: the index records how far it has read."""
        return int(self._execute("SELECT COALESCE(MAX(seq), 0) FROM history").fetchone()[0])

    def changes_since(self, seq: int) -> Changes:
        """Ids created, updated or deleted after `seq` (`rules.folded_history`)."""
        upserted, deleted, newest = folded_history(self._execute(
            "SELECT seq, record_id, action FROM history WHERE seq > ? ORDER BY seq", (seq,)), seq)
        # a record deleted and created again ends as an upsert; one that no longer exists is a delete
        gone = upserted - set(self.existing_ids(sorted(upserted)))
        return Changes(upserted=upserted - gone, deleted=deleted | gone, seq=newest)

    def history_after(self, seq: int, limit: int) -> list[tuple[int, str, str]]:
        """(history number, id, time) of the next `limit` changes after `seq`, in order."""
        return self._execute("SELECT seq, record_id, at FROM history WHERE seq > ? ORDER BY seq LIMIT ?",
                             (seq, limit)).fetchall()

    def existing_ids(self, ids: list[str]) -> Iterator[str]:
        for (rid,) in self._select_in("SELECT id FROM records WHERE id {ids}", ids):
            yield rid

    def kinds(self, ids: list[str]) -> dict[str, str]:
        """The kind of each id that exists."""
        return dict(self._select_in("SELECT id, kind FROM records WHERE id {ids}", ids))

    def publishing_catalogues(self, ids: list[str]) -> dict[str, list[str]]:
        """The catalogues that sources say published each id, where they say one."""
        found: dict[str, list[str]] = {}
        for rid, name in self._select_in(
                "SELECT DISTINCT record_id, catalogue FROM record_sources WHERE catalogue IS NOT NULL "
                "AND record_id {ids} ORDER BY record_id, catalogue", ids):
            found.setdefault(rid, []).append(name)
        return found

    def all_ids(self) -> list[str]:
        return [rid for (rid,) in self._execute("SELECT id FROM records ORDER BY id")]

    def children(self, parents: list[str]) -> dict[str, list[tuple[str, str]]]:
        """The kind and title (variable label, question text) of each parent's children, in
        stored order."""
        found: dict[str, list[tuple[str, str]]] = {}
        for parent, kind, title in self._select_in(
                f"SELECT parent, kind, title FROM records WHERE parent {{ids}} "
                f"ORDER BY {self.dialect.stored_order}", parents):
            found.setdefault(parent, []).append((kind, title))
        return found

    def read_records(self, ids: list[str]) -> Iterator[StoredRecord]:
        """The stored records of `ids` in the order given, skipping ids that no longer exist."""
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start:start + READ_BATCH]
            condition, values = self.dialect.one_of(chunk)
            sources: dict[str, tuple[list[str], list[str], list[str]]] = {}
            for rid, source, cat, location in self._execute(
                    f"SELECT record_id, source, catalogue, location FROM record_sources "
                    f"WHERE record_id {condition} ORDER BY record_id, fetched_at, location", values):
                formats, catalogues, locations = sources.setdefault(rid, ([], [], []))
                if source not in formats:
                    formats.append(source)
                if cat and cat not in catalogues:
                    catalogues.append(cat)
                locations.append(location)
            rows = {rid: (kind, parent, data) for rid, kind, parent, data in self._execute(
                f"SELECT id, kind, parent, data FROM records WHERE id {condition}", values)}
            for rid in chunk:
                if rid in rows:
                    kind, parent, data = rows[rid]
                    formats, catalogues, locations = sources.get(rid, ([], [], []))
                    yield StoredRecord(rid, kind, parent, json.loads(data), formats, catalogues, locations)


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
