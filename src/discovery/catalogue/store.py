"""The system of record: SQLite in WAL mode, one transaction per source document.

Each record is stored once per source that described it (`record_sources`) and once merged
(`records`), so a record seen in two catalogues keeps both versions visible. Raw documents are
kept compressed by content hash so a parser fix can re-derive records without re-harvesting.
Identifiers become aliases; every change is written to `history`; what failed goes to
`quarantine` with the reason and the raw bytes, once per failure: a row is keyed by a digest of
where it failed, the record and the bytes, so re-running a batch never grows the quarantine.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from discovery.errors import CatalogueError, NotFoundError
from discovery.catalogue.protocol import Applied, Changes, SourceRow, StoredRecord, StoredRow
from discovery.catalogue.rules import (LINKING, conflict_candidates, data_digest, folded_history, kept_ids,
                                       merge_plan, parent_relations, quarantine_digest, record_json,
                                       renamed, separated_ids, storable_text, unique_ids)
from discovery.model import (Deletion, Identifier, ParseResult, Predicate, Record, Relation, Variable,
                             content_hash, normalise_doi, utcnow)
from discovery.sqlite import chunks, connect, immediate, select_in

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    hash TEXT PRIMARY KEY, location TEXT NOT NULL, size INTEGER NOT NULL,
    fetched_at TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, parent TEXT,
    data TEXT NOT NULL, data_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_kind ON records(kind);
CREATE INDEX IF NOT EXISTS records_parent ON records(parent);
CREATE TABLE IF NOT EXISTS record_sources (
    record_id TEXT NOT NULL, location TEXT NOT NULL, source TEXT NOT NULL, record_key TEXT,
    catalogue TEXT, document_hash TEXT NOT NULL, fetched_at TEXT NOT NULL,
    data BLOB NOT NULL, data_hash TEXT NOT NULL, PRIMARY KEY (record_id, location));
CREATE INDEX IF NOT EXISTS record_sources_location ON record_sources(location);
CREATE TABLE IF NOT EXISTS aliases (
    alias TEXT NOT NULL, value TEXT NOT NULL, record_id TEXT NOT NULL, location TEXT NOT NULL,
    PRIMARY KEY (alias, record_id, location));
CREATE INDEX IF NOT EXISTS aliases_value ON aliases(value);
CREATE INDEX IF NOT EXISTS aliases_record ON aliases(record_id);
CREATE TABLE IF NOT EXISTS relations (
    subject TEXT NOT NULL, predicate TEXT NOT NULL, object TEXT NOT NULL, evidence TEXT,
    confidence REAL NOT NULL, location TEXT NOT NULL,
    PRIMARY KEY (subject, predicate, object, location));
CREATE INDEX IF NOT EXISTS relations_object ON relations(object);
CREATE INDEX IF NOT EXISTS relations_location ON relations(location);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL,
    data_hash TEXT, location TEXT);
CREATE INDEX IF NOT EXISTS history_record ON history(record_id);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, location TEXT NOT NULL, record TEXT,
    reason TEXT NOT NULL, hint TEXT, raw BLOB, digest TEXT);
CREATE TABLE IF NOT EXISTS clusters (
    record_id TEXT PRIMARY KEY, cluster_id TEXT NOT NULL, confidence REAL NOT NULL, evidence TEXT);
CREATE INDEX IF NOT EXISTS clusters_cluster ON clusters(cluster_id);
CREATE TABLE IF NOT EXISTS harvests (
    endpoint TEXT NOT NULL, metadata_prefix TEXT NOT NULL, set_spec TEXT NOT NULL,
    started_at TEXT NOT NULL, PRIMARY KEY (endpoint, metadata_prefix, set_spec));
"""
# after `_add_quarantine_digests`, which gives catalogues made before digests their column
QUARANTINE_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_digest ON quarantine(digest);
CREATE INDEX IF NOT EXISTS quarantine_location ON quarantine(location);
"""

FILE = "catalogue.sqlite"  # inside the data folder
BATCH = 2000  # records read at a time by `read_records`
STREAM_BATCH = 1000  # rows fetched at a time by `stored_rows`
# A dump reads each page once: the catalogue's 256 MiB page cache and 1 GiB memory map only made
# its RSS grow with the catalogue (1.2 GB into a dump of 1.6M records), so a connection that
# streams keeps a small cache and no map.
STREAMING_PRAGMAS = ("PRAGMA cache_size=-16384", "PRAGMA mmap_size=0")
# every merged record with its earliest source, the one that stands as its provenance
_ROWS = ("SELECT r.id, r.kind, r.parent, r.title, r.data, s.source, s.location, s.fetched_at, "
         "s.document_hash, s.record_key, s.catalogue FROM records r JOIN record_sources s "
         "ON s.rowid = (SELECT s2.rowid FROM record_sources s2 WHERE s2.record_id = r.id "
         "ORDER BY s2.fetched_at, s2.location LIMIT 1)")


def exists(data_dir: Path) -> bool:
    return (data_dir / FILE).is_file()


class ReadOnlyVersion:
    """SQLite's `data_version`, which changes when another connection commits, read through a
    read-only connection of its own."""

    def __init__(self, data_dir: Path) -> None:
        self._db = sqlite3.connect(f"{(data_dir / FILE).as_uri()}?mode=ro", uri=True,
                                   check_same_thread=False)

    def __call__(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class Catalogue:
    """Open (creating if needed) the catalogue under a data directory."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.path = self.data_dir / FILE
            self.db = connect(self.path, (
                "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=10000",
                # large catalogues insert at random places in text-keyed B-trees: keep pages cached
                "PRAGMA cache_size=-262144",  # 256 MiB
                "PRAGMA mmap_size=1073741824", "PRAGMA temp_store=MEMORY", "PRAGMA foreign_keys=OFF"))
            self.db.executescript(SCHEMA)
            self._add_quarantine_digests()
            self.db.executescript(QUARANTINE_INDEXES)
        except (OSError, sqlite3.Error) as error:
            raise CatalogueError(f"cannot open the catalogue: {error}", file=str(data_dir),
                                 hint="check the --data directory is writable") from None

    def close(self) -> None:
        self.db.close()

    @property
    def connected(self) -> bool:
        return True  # a file: nothing to lose between calls

    def _add_quarantine_digests(self) -> None:
        """A catalogue made before quarantine rows had digests gets them; of rows that repeat one
        failure (a row was added on every re-run), the latest is kept."""
        def done() -> bool:
            return "digest" in {row[1] for row in self.db.execute("PRAGMA table_info(quarantine)")}

        if done():
            return
        with self.transaction() as db:
            if done():  # another process got there first
                return
            db.execute("ALTER TABLE quarantine ADD COLUMN digest TEXT")
            seen: set[str] = set()
            for seq, location, record, reason, raw in db.execute(
                    "SELECT seq, location, record, reason, raw FROM quarantine ORDER BY seq DESC"
                    ).fetchall():
                digest = quarantine_digest(location, record, reason,
                                           zlib.decompress(raw) if raw is not None else None)
                if digest in seen:
                    db.execute("DELETE FROM quarantine WHERE seq=?", (seq,))
                else:
                    seen.add(digest)
                    db.execute("UPDATE quarantine SET digest=? WHERE seq=?", (digest, seq))

    def __enter__(self) -> "Catalogue":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: a failure anywhere leaves the catalogue as it was."""
        with immediate(self.db) as db:
            yield db

    # ---- writing -------------------------------------------------------------------------

    def apply(self, location: str, raw: bytes, fetched_at: str, result: ParseResult) -> Applied:
        """Store what a document says, replacing what the same document said before."""
        applied = Applied()
        now = utcnow().isoformat()
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO documents VALUES (?,?,?,?,?)",
                       (content_hash(raw), location, len(raw), fetched_at, zlib.compress(raw, 3)))
            previous = dict(db.execute(
                "SELECT record_id, data_hash FROM record_sources WHERE location=?", (location,)))
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
                             prov.content_hash, prov.fetched_at.isoformat(), _pack(data), digest))
                changed.append(record)
            db.executemany("INSERT OR REPLACE INTO record_sources VALUES (?,?,?,?,?,?,?,?,?)", rows)
            self._write_aliases(db, location, changed)
            self._merge(db, [r.id for r in changed], now, location, applied)
            stale = set(previous) - set(applied.ids)
            if stale:
                db.executemany("DELETE FROM record_sources WHERE record_id=? AND location=?",
                               [(rid, location) for rid in stale])
                db.executemany("DELETE FROM aliases WHERE record_id=? AND location=?",
                               [(rid, location) for rid in stale])
                self._merge(db, sorted(stale), now, location, applied)
            db.execute("DELETE FROM relations WHERE location=?", (location,))
            relations = relations + parent_relations(records, relations)
            db.executemany("INSERT OR REPLACE INTO relations VALUES (?,?,?,?,?,?)",
                           [(r.subject, r.predicate.value, r.object, r.evidence, r.confidence,
                             location) for r in relations])
            for deletion in result.deletions:
                applied.deleted += self._delete_alias(db, deletion, now)
        return applied

    def _assign_ids(self, db: sqlite3.Connection, location: str, records: list[Record],
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

    def _old_aliases(self, db: sqlite3.Connection, location: str, stale: list[str]
                     ) -> dict[tuple[str, str], str]:
        """(kind, alias) -> id of the records this location held that it no longer names."""
        old_aliases: dict[tuple[str, str], str] = {}
        for alias, rid, kind in select_in(
                db, "SELECT a.alias, a.record_id, r.kind FROM aliases a JOIN records r "
                "ON r.id = a.record_id WHERE a.location=? AND a.record_id IN ({marks})", stale, [location]):
            old_aliases[(kind, alias)] = rid
        return old_aliases

    def _aliases_elsewhere(self, db: sqlite3.Connection, location: str, ids: list[str]
                           ) -> dict[str, list[str]]:
        """id -> the aliases other locations gave it."""
        theirs: dict[str, list[str]] = {}
        for rid, alias in select_in(
                db, "SELECT record_id, alias FROM aliases WHERE location != ? AND record_id IN ({marks})",
                ids, [location]):
            theirs.setdefault(rid, []).append(alias)
        return theirs

    def _write_aliases(self, db: sqlite3.Connection, location: str, records: list[Record]) -> None:
        db.executemany("DELETE FROM aliases WHERE record_id=? AND location=?",
                       [(r.id, location) for r in records])
        rows = []
        for record in records:
            for alias in record.aliases():
                rows.append((alias, alias.split(":", 1)[1], record.id, location))
        db.executemany("INSERT OR IGNORE INTO aliases VALUES (?,?,?,?)", rows)

    def _merge(self, db: sqlite3.Connection, ids: list[str], now: str, location: str,
               applied: Applied) -> None:
        """Recompute the merged record of each id from all its sources (or delete it if none)."""
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            sources: dict[str, list[str]] = {}
            for rid, data in db.execute(
                    f"SELECT record_id, data FROM record_sources WHERE record_id IN ({marks}) "
                    f"ORDER BY record_id, fetched_at, location", chunk):
                sources.setdefault(rid, []).append(_unpack(data))
            existing = dict(db.execute(
                f"SELECT id, data_hash FROM records WHERE id IN ({marks})", chunk))
            plan = merge_plan(chunk, sources, existing, now, location, applied)
            db.executemany(
                "INSERT INTO records VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "kind=excluded.kind, title=excluded.title, parent=excluded.parent, "
                "data=excluded.data, data_hash=excluded.data_hash, updated_at=excluded.updated_at",
                plan.upserts)
            db.executemany("INSERT INTO history (record_id, at, action, data_hash, location) "
                           "VALUES (?,?,?,?,?)", plan.history)
            for rid in plan.gone:
                applied.deleted += self._delete_record(db, rid, now, location)

    def _delete_alias(self, db: sqlite3.Connection, deletion: Deletion, now: str) -> int:
        ids = [rid for (rid,) in db.execute(
            "SELECT DISTINCT record_id FROM aliases WHERE alias=?", (deletion.alias,))]
        return sum(self._delete_record(db, rid, now, deletion.location, cascade=True) for rid in ids)

    def _delete_record(self, db: sqlite3.Connection, rid: str, now: str, location: str,
                       cascade: bool = False) -> int:
        """Remove a record with its aliases and outgoing relations; with cascade, its children."""
        count = 0
        if cascade:
            children = [c for (c,) in db.execute("SELECT id FROM records WHERE parent=?", (rid,))]
            count += sum(self._delete_record(db, child, now, location) for child in children)
        for table, column in (("records", "id"), ("record_sources", "record_id"),
                              ("aliases", "record_id"), ("relations", "subject"),
                              ("clusters", "record_id")):
            db.execute(f"DELETE FROM {table} WHERE {column}=?", (rid,))
        db.execute("INSERT INTO history (record_id, at, action, data_hash, location) "
                   "VALUES (?,?,?,?,?)", (rid, now, "deleted", None, location))
        return count + 1

    def quarantine(self, location: str, reason: str, *, record: str | None = None,
                   hint: str | None = None, raw: bytes | str | None = None) -> str:
        """Keep a failure with its bytes and return its digest. The same failure again (same
        location, record and bytes) updates its row's time and reason instead of adding a row.
        Texts that are not Unicode (a lone surrogate) are kept with it escaped."""
        location, reason = storable_text(location), storable_text(reason)
        record = storable_text(record) if record is not None else None
        hint = storable_text(hint) if hint is not None else None
        if isinstance(raw, str):
            raw = storable_text(raw).encode("utf-8")
        digest = quarantine_digest(location, record, reason, raw)
        self.db.execute(
            "INSERT INTO quarantine (at, location, record, reason, hint, raw, digest) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(digest) DO UPDATE SET "
            "at=excluded.at, reason=excluded.reason, hint=excluded.hint",
            (utcnow().isoformat(), location, record, reason, hint,
             zlib.compress(raw, 3) if raw is not None else None, digest))
        return digest

    def clear_quarantine(self, location: str, keep: Iterable[str] = ()) -> None:
        """What a location's latest ingest did not report again (a document that now parses, a
        record now read) is no longer quarantined; `keep` holds the digests it did report."""
        kept = set(keep)
        stale = [(digest,) for (digest,) in self.db.execute(
            "SELECT digest FROM quarantine WHERE location=?", (storable_text(location),))
                 if digest not in kept]
        self.db.executemany("DELETE FROM quarantine WHERE digest=?", stale)

    def mark_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None,
                     started_at: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO harvests VALUES (?,?,?,?)",
                        (endpoint, metadata_prefix, set_spec or "", started_at))

    def last_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None) -> str | None:
        row = self.db.execute(
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
        with self.transaction() as db:
            db.execute("DELETE FROM relations WHERE substr(location, 1, ?) = ?",
                       (len(LINKING), LINKING))
            db.execute("DELETE FROM clusters")
            db.executemany("INSERT OR REPLACE INTO relations VALUES (?,?,?,?,?,?)", rows)
            db.executemany("INSERT OR REPLACE INTO clusters VALUES (?,?,?,?)", members)

    # ---- reading -------------------------------------------------------------------------

    def resolve(self, key: str) -> str:
        """The id of the record a user means: an id, a DOI, a study number, a grant reference."""
        key = key.strip()
        if self.db.execute("SELECT 1 FROM records WHERE id=?", (key,)).fetchone():
            return key
        candidates = [key.lower()]
        if "10." in key:
            candidates.append(Identifier(scheme="doi", value=key).alias())
        for candidate in candidates:
            row = self.db.execute(
                "SELECT a.record_id FROM aliases a JOIN records r ON r.id = a.record_id "
                "WHERE a.alias=? OR a.value=? ORDER BY r.kind IN ('variable','question'), "
                "EXISTS (SELECT 1 FROM clusters c WHERE c.record_id = r.id AND c.cluster_id != r.id), "
                "r.id "
                "LIMIT 1", (candidate, normalise_doi(candidate) if "10." in candidate else candidate)
            ).fetchone()
            if row:
                return row[0]
        raise NotFoundError(f"no record with id or alias {key!r}", record=key,
                            hint="try `discovery list` to see ids, or a DOI / study number")

    def get(self, key: str) -> Record:
        rid = self.resolve(key)
        return _stored_row(self.db.execute(f"{_ROWS} WHERE r.id=?", (rid,)).fetchone()).record()

    def sources(self, rid: str) -> list[SourceRow]:
        return [SourceRow(location, source, key, cat, fetched, digest, json.loads(_unpack(data)))
                for location, source, key, cat, fetched, digest, data in self.db.execute(
                    "SELECT location, source, record_key, catalogue, fetched_at, document_hash, data "
                    "FROM record_sources WHERE record_id=? ORDER BY fetched_at, location", (rid,))]

    def raw_document(self, digest: str) -> bytes | None:
        row = self.db.execute("SELECT raw FROM documents WHERE hash=?", (digest,)).fetchone()
        return zlib.decompress(row[0]) if row else None

    def relations(self, rid: str | None = None, predicates: Iterable[Predicate] = ()) -> list[Relation]:
        """Edges out of and into `rid` (every edge when None), only of these `predicates` when
        given; each once, with its highest confidence."""
        where, args = [], []
        if rid is not None:
            where.append("(subject=? OR object=?)")
            args += [rid, rid]
        values = [p.value for p in predicates]
        if values:
            where.append(f"predicate IN ({','.join('?' * len(values))})")
            args += values
        return _relations(self.db.execute(
            "SELECT subject, predicate, object, evidence, MAX(confidence) FROM relations "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            "GROUP BY subject, predicate, object ORDER BY predicate, subject, object", args))

    def titles(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Kind and title of each id that exists, for showing neighbours."""
        found: dict[str, tuple[str, str]] = {}
        query = "SELECT id, kind, title FROM records WHERE id IN ({marks})"
        for rid, kind, title in select_in(self.db, query, list(dict.fromkeys(ids))):
            found[rid] = (kind, title)
        return found

    def aliases_of(self, rid: str) -> list[str]:
        return [a for (a,) in self.db.execute(
            "SELECT DISTINCT alias FROM aliases WHERE record_id=? ORDER BY alias", (rid,))]

    def cluster(self, rid: str) -> list[tuple[str, float, str | None]]:
        """The records linking found to be the same as `rid` (itself included, canonical first),
        each with the confidence and evidence of its membership; [] when it is in no cluster."""
        row = self.db.execute("SELECT cluster_id FROM clusters WHERE record_id=?", (rid,)).fetchone()
        if row is None:
            return []
        return [(member, confidence, evidence) for member, confidence, evidence in self.db.execute(
            "SELECT c.record_id, c.confidence, c.evidence FROM clusters c JOIN records r "
            "ON r.id = c.record_id WHERE c.cluster_id=? ORDER BY c.record_id != c.cluster_id, "
            "c.record_id", (row[0],))]

    def canonical(self, rid: str) -> str:
        """The id that stands for the cluster `rid` is in (itself when in none)."""
        row = self.db.execute("SELECT cluster_id FROM clusters WHERE record_id=?", (rid,)).fetchone()
        return row[0] if row else rid

    def records_of_kinds(self, kinds: Iterable[str]) -> Iterator[Record]:
        """Every merged record of these kinds, as `get` reads one: what linking compares, read in
        one pass rather than one `get` per record."""
        kinds = list(kinds)
        rows = self.db.execute(f"{_ROWS} WHERE r.kind IN ({','.join('?' * len(kinds))}) ORDER BY r.id",
                               kinds)
        for row in rows:
            yield _stored_row(row).record()

    def dangling_relations(self, prefix: str) -> list[Relation]:
        """Edges, stated by sources, with an end id starting with `prefix` that names no record:
        references across documents (a GtR outcome naming its project by GUID) that linking
        can resolve through aliases."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self.db.execute(
            "SELECT subject, predicate, object, evidence, confidence FROM relations "
            "WHERE substr(location, 1, ?) != ? AND ("
            "(subject >= ? AND subject < ? AND NOT EXISTS (SELECT 1 FROM records WHERE id = subject)) OR "
            "(object >= ? AND object < ? AND NOT EXISTS (SELECT 1 FROM records WHERE id = object)))",
            (len(LINKING), LINKING, prefix, upper, prefix, upper))
        return _relations(rows)

    def record_stats(self, ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """When each record was created and how many sources describe it: what decides which
        member of a cluster stands for it."""
        found: dict[str, tuple[str, int]] = {}
        for rid, created, count in select_in(
                self.db, "SELECT r.id, r.created_at, COUNT(s.location) FROM records r JOIN record_sources s "
                "ON s.record_id = r.id WHERE r.id IN ({marks}) GROUP BY r.id", list(dict.fromkeys(ids))):
                found[rid] = (created, count)
        return found

    def history(self, rid: str) -> list[tuple[str, str, str | None]]:
        return list(self.db.execute(
            "SELECT at, action, location FROM history WHERE record_id=? ORDER BY seq", (rid,)))

    def list_records(self, kind: str | None = None, source_prefix: str | None = None,
                     limit: int | None = None) -> Iterator[tuple[str, str, str, str]]:
        """(id, kind, title, location of its first source) for every matching record."""
        query = ("SELECT r.id, r.kind, r.title, MIN(s.location) FROM records r "
                 "JOIN record_sources s ON s.record_id = r.id")
        where: list[str] = []
        args: list[str | int] = []
        if kind:
            where.append("r.kind=?")
            args.append(kind)
        if source_prefix:
            where.append("substr(s.location, 1, ?) = ?")
            args += [len(source_prefix), source_prefix]
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " GROUP BY r.id ORDER BY r.kind, r.id"
        if limit:
            query += f" LIMIT {int(limit)}"
        yield from self.db.execute(query, args)

    def stored_rows(self, kinds: Sequence[str] = (), catalogues: Sequence[str] = (),
                    since: str | None = None) -> Iterator[StoredRow]:
        """Every record of these kinds (all when empty), published by one of these catalogues (any
        when empty), changed at or after `since` (ISO date or time), in id order, with its first
        source as provenance, STREAM_BATCH rows at a time through one cursor: a dump reads one
        consistent snapshot of the catalogue and holds one batch at a time."""
        where: list[str] = []
        args: list[str] = []
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
            self.db.execute(pragma)
        cursor = self.db.execute(sql, args)
        while rows := cursor.fetchmany(STREAM_BATCH):
            for row in rows:
                yield _stored_row(row)

    def variables_of(self, study_id: str) -> list[Variable]:
        """A study's variables in the order they were stored (the source document's order), read
        in one query."""
        rows = self.db.execute(f"{_ROWS} WHERE r.parent = ? AND r.kind = 'variable' ORDER BY r.rowid",
                               (study_id,))
        return [v for v in (_stored_row(row).record() for row in rows) if isinstance(v, Variable)]

    def counts_by_kind(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind ORDER BY kind"))

    def counts_by_source(self) -> list[tuple[str, str, int]]:
        """(parser format, kind, records) across all sources."""
        return list(self.db.execute(
            "SELECT s.source, r.kind, COUNT(DISTINCT r.id) FROM record_sources s "
            "JOIN records r ON r.id = s.record_id GROUP BY s.source, r.kind ORDER BY s.source, r.kind"))

    def counts_by_catalogue(self) -> list[tuple[str, int]]:
        return list(self.db.execute(
            "SELECT COALESCE(catalogue, '(not stated)'), COUNT(DISTINCT record_id) "
            "FROM record_sources GROUP BY 1 ORDER BY 2 DESC"))

    def quarantined(self) -> list[tuple[int, str, str, str | None, str, str | None]]:
        """(number, at, location, record, reason, hint) of everything that failed."""
        return list(self.db.execute(
            "SELECT seq, at, location, record, reason, hint FROM quarantine ORDER BY seq"))

    def quarantined_raw(self, number: int) -> bytes | None:
        """The bytes that failed, as they arrived, for inspection."""
        row = self.db.execute("SELECT raw FROM quarantine WHERE seq=?", (number,)).fetchone()
        if row is None:
            raise NotFoundError(f"no quarantine entry {number}",
                                hint="`discovery quarantine` lists the numbers")
        return zlib.decompress(row[0]) if row[0] is not None else None

    def totals(self) -> dict[str, int]:
        one = lambda sql: self.db.execute(sql).fetchone()[0]  # noqa: E731
        return {"records": one("SELECT COUNT(*) FROM records"),
                "relations": one("SELECT COUNT(*) FROM (SELECT DISTINCT subject, predicate, object "
                                 "FROM relations)"),
                "documents": one("SELECT COUNT(*) FROM documents"),
                "aliases": one("SELECT COUNT(DISTINCT alias) FROM aliases"),
                "quarantined": one("SELECT COUNT(*) FROM quarantine")}

    # ---- the change feed: what the search index and the OAI-PMH ledger read -----------------

    def last_seq(self) -> int:
        """The newest history number: the index records how far it has read."""
        return int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM history").fetchone()[0])

    def changes_since(self, seq: int) -> Changes:
        """Ids created, updated or deleted after `seq` (`rules.folded_history`)."""
        upserted, deleted, newest = folded_history(self.db.execute(
            "SELECT seq, record_id, action FROM history WHERE seq > ? ORDER BY seq", (seq,)), seq)
        # a record deleted and created again ends as an upsert; one that no longer exists is a delete
        gone = upserted - set(self.existing_ids(sorted(upserted)))
        return Changes(upserted=upserted - gone, deleted=deleted | gone, seq=newest)

    def history_after(self, seq: int, limit: int) -> list[tuple[int, str, str]]:
        """(history number, id, time) of the next `limit` changes after `seq`, in order."""
        return self.db.execute("SELECT seq, record_id, at FROM history WHERE seq > ? ORDER BY seq LIMIT ?",
                               (seq, limit)).fetchall()

    def existing_ids(self, ids: list[str]) -> Iterator[str]:
        for (rid,) in select_in(self.db, "SELECT id FROM records WHERE id IN ({marks})", ids):
            yield rid

    def kinds(self, ids: list[str]) -> dict[str, str]:
        """The kind of each id that exists."""
        return dict(select_in(self.db, "SELECT id, kind FROM records WHERE id IN ({marks})", ids))

    def publishing_catalogues(self, ids: list[str]) -> dict[str, list[str]]:
        """The catalogues that sources say published each id, where they say one."""
        found: dict[str, list[str]] = {}
        for rid, name in select_in(self.db, "SELECT DISTINCT record_id, catalogue FROM record_sources "
                                   "WHERE catalogue IS NOT NULL AND record_id IN ({marks})", ids):
            found.setdefault(rid, []).append(name)
        return found

    def all_ids(self) -> list[str]:
        return [rid for (rid,) in self.db.execute("SELECT id FROM records ORDER BY id")]

    def child_titles(self, parents: list[str]) -> dict[str, list[str]]:
        """The titles (variable labels, question texts) of each parent's children, in stored order."""
        found: dict[str, list[str]] = {}
        for parent, title in select_in(
                self.db, "SELECT parent, title FROM records WHERE parent IN ({marks}) ORDER BY rowid",
                parents):
            found.setdefault(parent, []).append(title)
        return found

    def read_records(self, ids: list[str]) -> Iterator[StoredRecord]:
        """The stored records of `ids` in the order given, skipping ids that no longer exist."""
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            marks = ",".join("?" * len(chunk))
            sources: dict[str, tuple[list[str], list[str], list[str]]] = {}
            for rid, source, cat, location in self.db.execute(
                    f"SELECT record_id, source, catalogue, location FROM record_sources "
                    f"WHERE record_id IN ({marks}) ORDER BY record_id, fetched_at, location", chunk):
                formats, catalogues, locations = sources.setdefault(rid, ([], [], []))
                if source not in formats:
                    formats.append(source)
                if cat and cat not in catalogues:
                    catalogues.append(cat)
                locations.append(location)
            rows = {rid: (kind, parent, data) for rid, kind, parent, data in self.db.execute(
                f"SELECT id, kind, parent, data FROM records WHERE id IN ({marks})", chunk)}
            for rid in chunk:
                if rid in rows:
                    kind, parent, data = rows[rid]
                    formats, catalogues, locations = sources.get(rid, ([], [], []))
                    yield StoredRecord(rid, kind, parent, json.loads(data), formats, catalogues, locations)


def _pack(data: str) -> bytes:
    return zlib.compress(data.encode("utf-8"), 1)


def _unpack(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def _stored_row(row: Sequence[Any]) -> StoredRow:
    rid, kind, parent, title, data, source, location, fetched_at, digest, key, catalogue = row
    return StoredRow(rid, kind, parent, title, data, {
        "source": source, "location": location, "fetched_at": fetched_at, "content_hash": digest,
        "record_key": key, "catalogue": catalogue})


def _relations(rows: Iterable[tuple[str, str, str, str | None, float]]) -> list[Relation]:
    return [Relation(subject=s, predicate=Predicate(p), object=o, evidence=e, confidence=c)
            for s, p, o, e, c in rows]
