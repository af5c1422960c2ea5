"""What every catalogue backend offers the rest of Discovery, and the plain records it answers
with: `CatalogueStore`, read from what the ingest, linking, index, OAI-PMH, export, API and CLI
code call. The SQLite store (`store.py`) and the PostgreSQL store (`postgres.py`) implement it,
both through the queries of `sql.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from discovery.model import ParseResult, Predicate, Record, Relation, Variable, record_from_json


@dataclass
class Applied:
    """What one document changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    ids: list[str] = field(default_factory=list)


@dataclass
class SourceRow:
    """One source's view of a record, with where it came from."""

    location: str
    source: str
    record_key: str | None
    catalogue: str | None
    fetched_at: str
    document_hash: str
    data: dict[str, Any]


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


class CatalogueStore(Protocol):
    """A catalogue: written a document at a time (each document one transaction), read by id,
    alias, kind and relation, and followed through its change feed (history numbers)."""

    def close(self) -> None: ...

    @property
    def connected(self) -> bool:
        """False once the connection is lost for good (a database server restarted): a
        long-lived holder, such as a server thread, opens the catalogue again."""
        ...

    def __enter__(self) -> CatalogueStore: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None: ...

    # writing
    def apply(self, location: str, raw: bytes, fetched_at: str, result: ParseResult) -> Applied: ...

    def quarantine(self, location: str, reason: str, *, record: str | None = None,
                   hint: str | None = None, raw: bytes | str | None = None) -> str: ...

    def clear_quarantine(self, location: str, keep: Iterable[str] = ()) -> None: ...

    def mark_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None,
                     started_at: str) -> None: ...

    def last_harvest(self, endpoint: str, metadata_prefix: str, set_spec: str | None) -> str | None: ...

    def replace_links(self, relations: Iterable[tuple[Relation, str]],
                      members: Iterable[tuple[str, str, float, str | None]]) -> None: ...

    # reading records
    def resolve(self, key: str) -> str: ...

    def get(self, key: str) -> Record: ...

    def get_many(self, ids: Iterable[str]) -> dict[str, Record]: ...

    def sources(self, rid: str) -> list[SourceRow]: ...

    def raw_document(self, digest: str) -> bytes | None: ...

    def relations(self, rid: str | None = None, predicates: Iterable[Predicate] = ()) -> list[Relation]: ...

    def titles(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]: ...

    def aliases_of(self, rid: str) -> list[str]: ...

    def cluster(self, rid: str) -> list[tuple[str, float, str | None]]: ...

    def canonical(self, rid: str) -> str: ...

    def records_of_kinds(self, kinds: Iterable[str]) -> Iterator[Record]: ...

    def dangling_relations(self, prefix: str) -> list[Relation]: ...

    def record_stats(self, ids: Iterable[str]) -> dict[str, tuple[str, int]]: ...

    def history(self, rid: str) -> list[tuple[str, str, str | None]]: ...

    def list_records(self, kind: str | None = None, source_prefix: str | None = None,
                     limit: int | None = None) -> Iterator[tuple[str, str, str, str]]: ...

    def stored_rows(self, kinds: Sequence[str] = (), catalogues: Sequence[str] = (),
                    since: str | None = None) -> Iterator[StoredRow]: ...

    def variables_of(self, study_id: str) -> list[Variable]: ...

    # counting
    def counts_by_kind(self) -> dict[str, int]: ...

    def counts_by_source(self) -> list[tuple[str, str, int]]: ...

    def counts_by_catalogue(self) -> list[tuple[str, int]]: ...

    def quarantined(self) -> list[tuple[int, str, str, str | None, str, str | None]]: ...

    def quarantined_raw(self, number: int) -> bytes | None: ...

    def totals(self) -> dict[str, int]: ...

    # the change feed
    def last_seq(self) -> int: ...

    def changes_since(self, seq: int) -> Changes: ...

    def history_after(self, seq: int, limit: int) -> list[tuple[int, str, str]]: ...

    def existing_ids(self, ids: list[str]) -> Iterator[str]: ...

    def kinds(self, ids: list[str]) -> dict[str, str]: ...

    def publishing_catalogues(self, ids: list[str]) -> dict[str, list[str]]: ...

    def all_ids(self) -> list[str]: ...

    def children(self, parents: list[str]) -> dict[str, list[tuple[str, str]]]: ...

    def read_records(self, ids: list[str]) -> Iterator[StoredRecord]: ...
