"""Documents in, catalogue updated: parse, check, store; quarantine whatever fails, go on.

A failure is reported in one line (file, record, reason, hint) and kept with its raw bytes; it
never stops the batch and never leaves a half-written document behind, because each document is
stored in its own transaction.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from discovery.catalogue.store import Catalogue
from discovery.errors import DiscoveryError
from discovery.model import ParseResult, Problem, Record, Text
from discovery.sources.base import MAX_FIELD_CHARS, Document
from discovery.sources.registry import parse_document


@dataclass
class IngestReport:
    documents: int = 0
    stored: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # one line each: file, record, reason

    @property
    def ok(self) -> bool:
        return not self.failures


def ingest(catalogue: Catalogue, documents: Iterable[Document | DiscoveryError],
           on_document: Callable[[str], None] | None = None) -> IngestReport:
    """Ingest every document; a harvest error in the stream is quarantined like a parse error."""
    report = IngestReport()
    for item in documents:
        report.documents += 1
        if isinstance(item, DiscoveryError):
            _fail(catalogue, report, item, raw=None)
        else:
            ingest_one(catalogue, item, report)
        if on_document:
            on_document(item.location if isinstance(item, Document) else (item.file or "-"))
    return report


def ingest_one(catalogue: Catalogue, doc: Document, report: IngestReport) -> None:
    try:
        result = parse_document(doc)
    except DiscoveryError as error:
        _fail(catalogue, report, error, raw=doc.content)
        return
    _check_sizes(result)
    try:
        applied = catalogue.apply(doc.location, doc.content, doc.fetched_at.isoformat(), result)
    except sqlite3.Error as error:
        _fail(catalogue, report, doc.fail(f"could not store: {error}",
                                          hint="the catalogue is unchanged; retry"), raw=doc.content)
        return
    catalogue.clear_quarantine(doc.location)
    for problem in result.problems:
        error = DiscoveryError(problem.reason, file=doc.location, record=problem.record)
        _fail(catalogue, report, error, raw=problem.raw)
    report.stored += 1
    report.created += applied.created
    report.updated += applied.updated
    report.unchanged += applied.unchanged
    report.deleted += applied.deleted
    report.kinds.update(record.kind.value for record in result.records)


def _fail(catalogue: Catalogue, report: IngestReport, error: DiscoveryError,
          raw: bytes | str | None) -> None:
    report.failures.append(error.one_line())
    catalogue.quarantine(error.file or "-", error.reason, record=error.record, hint=error.hint,
                         raw=raw)


def _check_sizes(result: ParseResult) -> None:
    """A record with an enormous field is not metadata: move it to the problems, keep the rest."""
    kept = []
    for record in result.records:
        reason = _oversized(record)
        if reason:
            result.problems.append(Problem(record=record.id, reason=reason,
                                           raw=record.model_dump_json()[:MAX_FIELD_CHARS]))
        else:
            kept.append(record)
    result.records = kept


def _oversized(record: Record) -> str | None:
    for name, value in record.__dict__.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            return f"field {name} has {len(value)} characters, over the {MAX_FIELD_CHARS} limit"
        if isinstance(value, list):
            for item in value:
                text = item.value if isinstance(item, Text) else item
                if isinstance(text, str) and len(text) > MAX_FIELD_CHARS:
                    return (f"field {name} has an entry of {len(text)} characters, over the "
                            f"{MAX_FIELD_CHARS} limit")
    return None
