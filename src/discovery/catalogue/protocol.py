"""What every catalogue backend offers the rest of Discovery, and the plain records it answers
with: `CatalogueStore`, read from what the ingest, linking, index, OAI-PMH, export, API and CLI
code call. The SQLite store (`store.py`) is one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
