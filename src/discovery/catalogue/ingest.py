"""Documents in, catalogue updated: parse, check, store; quarantine whatever fails, go on.

A failure is reported in one line (file, record, reason, hint) and kept with its raw bytes; it
never stops the batch and never leaves a half-written document behind, because each document is
stored in its own transaction. A record that cannot be stored (a lone surrogate from a JSON
`"\\ud800"` is not Unicode, so it cannot be written) is quarantined on its own and the rest of
its document is stored. What a document's ingest quarantines replaces what its earlier ingests
did, so re-running a batch never grows the quarantine.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from discovery.catalogue.protocol import Applied, CatalogueStore
from discovery.catalogue.rules import storable_text
from discovery.errors import DiscoveryError
from discovery.model import ParseResult, Problem, Record, Text
from discovery.sources.base import MAX_FIELD_CHARS, Document
from discovery.sources.registry import parse_document

Failure = tuple[DiscoveryError, bytes | str | None]  # what failed, and the bytes to keep


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


def ingest(catalogue: CatalogueStore, documents: Iterable[Document | DiscoveryError],
           on_document: Callable[[str], None] | None = None) -> IngestReport:
    """Ingest every document; a harvest error in the stream is quarantined like a parse error."""
    report = IngestReport()
    for item in documents:
        report.documents += 1
        if isinstance(item, Document):
            ingest_one(catalogue, item, report)
        elif item.file:
            _quarantine(catalogue, report, item.file, [(item, None)])
        else:
            _fail(catalogue, report, "-", item, raw=None)
        if on_document:
            on_document(item.location if isinstance(item, Document) else (item.file or "-"))
    return report


def ingest_one(catalogue: CatalogueStore, doc: Document, report: IngestReport) -> None:
    failures: list[Failure] = []
    try:
        result = parse_document(doc)
    except DiscoveryError as error:
        failures.append((error, doc.content))
    else:
        _check_sizes(result)
        try:
            applied = _store(catalogue, doc, result)
        except Exception as error:  # rolled back: nothing of the document was written
            failures.append((doc.fail(f"could not store: {_one_line(error)}",
                                      hint="the catalogue is unchanged; retry"), doc.content))
        else:
            report.stored += 1
            report.created += applied.created
            report.updated += applied.updated
            report.unchanged += applied.unchanged
            report.deleted += applied.deleted
            report.kinds.update(record.kind.value for record in result.records)
        failures += [(DiscoveryError(problem.reason, file=doc.location, record=problem.record),
                      problem.raw) for problem in result.problems]
    _quarantine(catalogue, report, doc.location, failures)


def _store(catalogue: CatalogueStore, doc: Document, result: ParseResult) -> Applied:
    """Store the document; if that fails, set aside what cannot be stored and store the rest.
    A failure that no record or relation explains fails the document."""
    try:
        return catalogue.apply(doc.location, doc.content, doc.fetched_at.isoformat(), result)
    except Exception:
        if not _set_aside_unstorable(result):
            raise
    return catalogue.apply(doc.location, doc.content, doc.fetched_at.isoformat(), result)


def _set_aside_unstorable(result: ParseResult) -> bool:
    """Move each record, relation and deletion that cannot be serialised to the problems; True
    if any was found."""
    before = len(result.problems)
    result.records = [record for record in result.records if _storable(result, record, record.id)]
    result.relations = [relation for relation in result.relations
                        if _storable(result, relation, relation.subject)]
    result.deletions = [deletion for deletion in result.deletions
                        if _storable(result, deletion, "deletion")]
    return len(result.problems) > before


def _storable(result: ParseResult, item: BaseModel, name: str) -> bool:
    try:
        item.model_dump_json()
    except Exception as error:  # e.g. text with a lone surrogate, which UTF-8 cannot encode
        result.problems.append(Problem(record=name, reason=f"cannot be stored: {_one_line(error)}",
                                       raw=_excerpt(item)))
        return False
    return True


def _quarantine(catalogue: CatalogueStore, report: IngestReport, location: str,
                failures: list[Failure]) -> None:
    """Quarantine a location's failures in place of those its earlier ingests left."""
    kept = [_fail(catalogue, report, location, error, raw) for error, raw in failures]
    catalogue.clear_quarantine(location, keep=kept)


def _fail(catalogue: CatalogueStore, report: IngestReport, location: str, error: DiscoveryError,
          raw: bytes | str | None) -> str:
    if error.file is None:
        error.file = location
    report.failures.append(storable_text(error.one_line()))
    return catalogue.quarantine(location, error.reason, record=error.record, hint=error.hint,
                                raw=raw)


def _one_line(error: Exception) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _excerpt(item: BaseModel) -> str:
    """The item as JSON for the quarantine, whatever text it holds (escaped as JSON does)."""
    return json.dumps(item.model_dump(mode="json"), default=str)[:MAX_FIELD_CHARS]


def _check_sizes(result: ParseResult) -> None:
    """A record with an enormous field is not metadata: move it to the problems, keep the rest."""
    kept = []
    for record in result.records:
        reason = _oversized(record)
        if reason:
            result.problems.append(Problem(record=record.id, reason=reason, raw=_excerpt(record)))
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
