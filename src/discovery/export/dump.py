"""The whole catalogue, or a filtered part, as one stream of bytes: JSON lines, Parquet, or a ZIP
of DDI Codebook 2.5 files (one per study or dataset, with its variables).

Records come through one cursor a batch at a time (`stored_rows` of the catalogue) and leave as bytes as
soon as they are encoded, so memory stays bounded by a batch (a Parquet row group, one DDI file)
whatever the catalogue's size; `discovery export` writes the stream to a file and `/api/dump`
sends it as a download. Each format is a small class with the same `chunks` method.
"""

from __future__ import annotations

import zipfile
from datetime import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from discovery.catalogue.protocol import CatalogueStore, StoredRow
from discovery.errors import DiscoveryError
from discovery.export import ddi_codebook
from discovery.model import Kind, Study

CHUNK_BYTES = 1 << 20  # JSON lines are sent a megabyte at a time
ROW_GROUP = 10_000  # Parquet rows per row group: about 10 MB of records in memory
STUDY_KINDS = (Kind.STUDY.value, Kind.DATASET.value)


@dataclass(frozen=True)
class Selection:
    """Which records: kinds, publishing catalogues (names as stored), changed since (ISO)."""

    kinds: tuple[str, ...] = ()
    catalogues: tuple[str, ...] = ()
    since: str | None = None


class DumpFormat(Protocol):
    name: str
    media_type: str
    extension: str
    holds: tuple[str, ...] | None  # the kinds of record it can carry; None: every kind

    def chunks(self, catalogue: CatalogueStore, selection: Selection) -> Iterator[bytes]: ...


class _Buffer:
    """A write-only file that a writer (pyarrow, zipfile) fills and the stream empties."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


class JsonLines:
    """One record per line, as `record_from_json` reads it, its first source as provenance."""

    name, media_type, extension = "jsonl", "application/x-ndjson", "jsonl"
    holds: tuple[str, ...] | None = None

    def chunks(self, catalogue: CatalogueStore, selection: Selection) -> Iterator[bytes]:
        lines: list[bytes] = []
        size = 0
        for row in _rows(catalogue, selection):
            line = (row.json_line() + "\n").encode("utf-8")
            lines.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                yield b"".join(lines)
                lines, size = [], 0
        if lines:
            yield b"".join(lines)


class Parquet:
    """A table: id, kind, parent, title, the first source's format, location, catalogue and
    time, and the whole record as JSON."""

    name, media_type, extension = "parquet", "application/vnd.apache.parquet", "parquet"
    holds: tuple[str, ...] | None = None
    COLUMNS = ("id", "kind", "parent", "title", "source", "location", "catalogue", "fetched_at",
               "record")

    def chunks(self, catalogue: CatalogueStore, selection: Selection) -> Iterator[bytes]:
        import pyarrow as pa  # a large import, only for this format
        import pyarrow.parquet as pq

        schema = pa.schema([(column, pa.string()) for column in self.COLUMNS])
        buffer = _Buffer()
        # pyarrow writes to any object with write(); its stubs ask for an IO or a NativeFile
        with pq.ParquetWriter(buffer, schema, compression="zstd") as writer:  # type: ignore[arg-type]
            batch: list[StoredRow] = []
            for row in _rows(catalogue, selection):
                batch.append(row)
                if len(batch) == ROW_GROUP:
                    writer.write_table(self._table(pa, schema, batch))
                    batch = []
                    yield buffer.take()
            if batch:
                writer.write_table(self._table(pa, schema, batch))
        yield buffer.take()

    @staticmethod
    def _table(pa: Any, schema: Any, rows: list[StoredRow]) -> Any:
        columns = {"id": [r.id for r in rows], "kind": [r.kind for r in rows],
                   "parent": [r.parent for r in rows], "title": [r.title for r in rows],
                   "source": [r.provenance["source"] for r in rows],
                   "location": [r.provenance["location"] for r in rows],
                   "catalogue": [r.provenance["catalogue"] for r in rows],
                   "fetched_at": [r.provenance["fetched_at"] for r in rows],
                   "record": [r.data for r in rows]}
        return pa.Table.from_pydict(columns, schema=schema)


class DdiZip:
    """A ZIP of `<id>.xml` DDI Codebook 2.5 files: studies and datasets with their variables."""

    name, media_type, extension = "ddi", "application/zip", "zip"
    holds: tuple[str, ...] | None = STUDY_KINDS

    def chunks(self, catalogue: CatalogueStore, selection: Selection) -> Iterator[bytes]:
        kinds = selection.kinds or STUDY_KINDS
        buffer = _Buffer()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for row in catalogue.stored_rows(kinds, selection.catalogues, selection.since):
                study = row.record()
                if isinstance(study, Study):
                    archive.writestr(f"{row.id}.xml",
                                     ddi_codebook.to_bytes(study, catalogue.variables_of(row.id)))
                    yield buffer.take()
        yield buffer.take()


FORMATS: dict[str, DumpFormat] = {f.name: f for f in (JsonLines(), Parquet(), DdiZip())}


def _rows(catalogue: CatalogueStore, selection: Selection) -> Iterator[StoredRow]:
    return catalogue.stored_rows(selection.kinds, selection.catalogues, selection.since)


def dump_format(name: str) -> DumpFormat:
    if name not in FORMATS:
        raise DiscoveryError(f"no dump format {name!r}", hint=f"one of {', '.join(FORMATS)}")
    return FORMATS[name]


def selection(fmt: DumpFormat, kinds: Sequence[str] = (), catalogues: Sequence[str] = (),
              since: str | None = None) -> Selection:
    """A selection checked before anything is written (so a refused export leaves no empty
    file behind): kinds of record the format can carry, and a date."""
    known = {kind.value for kind in Kind}
    unknown = [kind for kind in kinds if kind not in known]
    if unknown:
        raise DiscoveryError(f"no kind of record {', '.join(map(repr, unknown))}",
                             hint=f"kinds: {', '.join(sorted(known))}")
    refused = [kind for kind in kinds if fmt.holds is not None and kind not in fmt.holds]
    if refused:
        raise DiscoveryError(f"{fmt.name} holds {' and '.join(fmt.holds or ())}, not "
                             f"{', '.join(refused)}",
                             hint="the jsonl and parquet formats carry every kind")
    if since is not None:
        try:
            datetime.fromisoformat(since)
        except ValueError:
            raise DiscoveryError(f"since {since!r} is not a date",
                                 hint="give it as YYYY-MM-DD") from None
    return Selection(tuple(kinds), tuple(catalogues), since)
