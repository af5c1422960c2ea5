"""OAI-PMH 2.0 responses: the envelope around the metadata repositories serve.

A ListRecords or GetRecord page wraps one metadata record per `record` element (DDI-Codebook,
DDI-Lifecycle or oai_dc), or only a header when the record was deleted. This module unwraps the
envelope, hands each record to the parser of its format, and ties what comes back to the OAI
identifier so that a later deletion of that identifier finds it. It also reads the parts of the
envelope the harvester steers by (errors, resumption token, Identify), so all OAI-PMH XML
knowledge lives here and the harvester only does HTTP and paging.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone

from lxml import etree

from discovery.errors import DiscoveryError
from discovery.model import Deletion, Identifier, Kind, ParseResult, Problem
from discovery.sources import ddi, dublin_core
from discovery.sources.base import Document, clean, parse_xml, root_name

FORMAT = "oai-pmh"
NS = "http://www.openarchives.org/OAI/2.0/"
NO_RECORDS_MATCH = "noRecordsMatch"
DAY_GRANULARITY = "YYYY-MM-DD"
SECONDS_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

_ROOT = f"{{{NS}}}OAI-PMH"
_RECORD_PATHS = (f"{{{NS}}}ListRecords/{{{NS}}}record", f"{{{NS}}}GetRecord/{{{NS}}}record")
_HEADER = f"{{{NS}}}header"
_METADATA = f"{{{NS}}}metadata"
_IDENTIFIER = f"{{{NS}}}identifier"
_DATESTAMP = f"{{{NS}}}datestamp"
_SET_SPEC = f"{{{NS}}}setSpec"
_ERROR = f"{{{NS}}}error"
_RESPONSE_DATE = f"{{{NS}}}responseDate"
_TOKEN = f"*/{{{NS}}}resumptionToken"  # inside whichever verb element the response carries
_IDENTIFY = f"{{{NS}}}Identify"

MetadataParser = Callable[..., ParseResult]
# the local name of the element inside <metadata> says which parser reads it
METADATA_PARSERS: dict[str, MetadataParser] = {
    **dict.fromkeys(ddi.CODEBOOK_ROOTS, ddi.parse_codebook_element),
    **dict.fromkeys(ddi.LIFECYCLE_ROOTS, ddi.parse_lifecycle_element),
    "dc": dublin_core.parse_dc_element,
}
_STUDY_KINDS = {Kind.STUDY, Kind.DATASET}


def sniff(doc: Document, head: str) -> bool:
    """The root element is `OAI-PMH` and the OAI namespace is declared."""
    return root_name(head) == "OAI-PMH" and NS in head


def parse(doc: Document) -> ParseResult:
    """Every record of a ListRecords or GetRecord response; `noRecordsMatch` is an empty result."""
    root = oai_root(doc)
    errors = fatal_errors(root)
    if errors:
        raise doc.fail(describe_errors(errors), hint=ERROR_HINTS.get(errors[0][0]))
    result = ParseResult()
    for path in _RECORD_PATHS:
        for record in root.iterfind(path):
            result.extend(parse_record(record, doc))
    return result


def oai_root(doc: Document) -> etree._Element:
    """The parsed response, or a ParseError when it is not OAI-PMH at all."""
    root = parse_xml(doc)
    if root.tag != _ROOT:
        raise doc.fail(f"not an OAI-PMH response: root element is {etree.QName(root).localname}",
                       hint="check the repository's base URL")
    return root


@dataclass(frozen=True)
class RecordHeader:
    identifier: str
    datestamp: str | None
    sets: list[str]
    deleted: bool


def read_header(record: etree._Element) -> RecordHeader | None:
    """None when the header lacks an identifier (nothing can refer to such a record)."""
    header = record.find(_HEADER)
    if header is None:
        return None
    identifier = clean(header.findtext(_IDENTIFIER))
    if identifier is None:
        return None
    return RecordHeader(
        identifier=identifier,
        datestamp=clean(header.findtext(_DATESTAMP)),
        sets=[spec for spec in (clean(s.text) for s in header.iterfind(_SET_SPEC)) if spec],
        deleted=header.get("status") == "deleted",
    )


def parse_record(record: etree._Element, doc: Document) -> ParseResult:
    """One `record`: a deletion, or the records its metadata holds; a failure becomes a Problem."""
    header = read_header(record)
    if header is None:
        return _problem(None, "record has no header identifier", record)
    if header.deleted:
        alias = Identifier(scheme="oai", value=header.identifier).alias()
        return ParseResult(deletions=[Deletion(alias=alias, location=doc.location)])
    metadata = record.find(_METADATA)
    payload = [] if metadata is None else [child for child in metadata if isinstance(child.tag, str)]
    if len(payload) != 1:
        return _problem(header.identifier, f"expected one metadata element, found {len(payload)}",
                        record)
    element = payload[0]
    name = etree.QName(element)
    parser = METADATA_PARSERS.get(name.localname)
    if parser is None:
        return _problem(header.identifier, f"unsupported metadata format {name.text}", record)
    try:
        result = parser(element, doc, record_key=header.identifier)
    except DiscoveryError as error:
        return _problem(header.identifier, error.reason, record)
    except Exception as error:  # one record's bad metadata must not sink the rest of the page
        return _problem(header.identifier, f"{type(error).__name__}: {error}", record)
    _tie_to_header(result, header)
    return result


def _tie_to_header(result: ParseResult, header: RecordHeader) -> None:
    """Give the study-level records the OAI identifier as alias and record key, so a later
    deletion header for that identifier resolves to them."""
    oai_id = Identifier(scheme="oai", value=header.identifier)
    for record in result.records:
        if record.kind not in _STUDY_KINDS:
            continue
        if oai_id not in record.identifiers:
            record.identifiers.append(oai_id)
        # provenance may be shared with the study's variables; copy rather than mutate
        record.provenance = record.provenance.model_copy(update={"record_key": header.identifier})
        if header.datestamp:
            record.extra["oai_datestamp"] = header.datestamp
        if header.sets:
            record.extra["oai_sets"] = header.sets


def _problem(key: str | None, reason: str, record: etree._Element) -> ParseResult:
    raw = etree.tostring(record, encoding="unicode")
    return ParseResult(problems=[Problem(record=key, reason=reason, raw=raw)])


# --- the envelope, as the harvester reads it ---------------------------------------------

ERROR_HINTS = {
    "badArgument": "the request's arguments are wrong; check --from/--until and --set",
    "badResumptionToken": "the token expired or the repository restarted; harvest again",
    "badVerb": "is this URL an OAI-PMH base URL?",
    "cannotDisseminateFormat": "the repository does not offer this metadataPrefix; "
                               "ask it with verb=ListMetadataFormats",
    "idDoesNotExist": "the identifier is unknown to this repository",
    "noSetHierarchy": "the repository has no sets; harvest without --set",
}


def fatal_errors(root: etree._Element) -> list[tuple[str, str]]:
    """(code, message) of each `error` that means the request failed. `noRecordsMatch` is left
    out: it is an empty answer (nothing changed since `from`), not a failure."""
    errors = ((error.get("code") or "unknown", clean(error.text) or "")
              for error in root.iterfind(_ERROR))
    return [(code, message) for code, message in errors if code != NO_RECORDS_MATCH]


def describe_errors(errors: list[tuple[str, str]]) -> str:
    return "; ".join(f"OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}"
                     for code, message in errors)


def resumption_token(root: etree._Element) -> str | None:
    """The token for the next page; None when the list is complete (token empty or missing)."""
    token = root.find(_TOKEN)
    return None if token is None else (token.text or "").strip() or None


def response_date(root: etree._Element) -> str | None:
    """When the repository answered, by its own clock: the safe `from` for the next harvest."""
    return clean(root.findtext(_RESPONSE_DATE))


@dataclass(frozen=True)
class Repository:
    """What Identify says about a repository that a harvester needs."""

    name: str | None
    base_url: str | None
    granularity: str
    earliest_datestamp: str | None
    deleted_record: str | None  # no, transient or persistent


def read_identify(root: etree._Element) -> Repository | None:
    """None when the response carries no Identify element."""
    identify = root.find(_IDENTIFY)
    if identify is None:
        return None

    def field(name: str) -> str | None:
        return clean(identify.findtext(f"{{{NS}}}{name}"))

    return Repository(
        name=field("repositoryName"),
        base_url=field("baseURL"),
        granularity=field("granularity") or DAY_GRANULARITY,
        earliest_datestamp=field("earliestDatestamp"),
        deleted_record=field("deletedRecord"),
    )


def parse_datestamp(text: str) -> datetime:
    """A UTC datetime from an OAI datestamp at either granularity (a day means its midnight)."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_datestamp(value: str | date | datetime, granularity: str = SECONDS_GRANULARITY) -> str:
    """A `from`/`until` argument at the repository's granularity.

    Cutting a time to its day widens a `from` to the day's start, which harvests a few records
    again rather than missing any. Naive datetimes are taken as UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        value = date.fromisoformat(text) if len(text) == 10 else parse_datestamp(text)
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    if granularity == DAY_GRANULARITY:
        return value.date().isoformat()
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
