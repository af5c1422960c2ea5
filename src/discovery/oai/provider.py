"""OAI-PMH 2.0 answers: the six verbs, their arguments and every error the protocol defines.

Items are the catalogue's studies and datasets, identified as `oai:<repository>:<record id>`.
Formats: `oai_dc` and `oai_ddi25` (DDI Codebook 2.5 with the variables). Sets: `kind:study`,
`kind:dataset`, and `catalogue:<name>` for each source catalogue, under the parents `kind` and
`catalogue`; since sets exist, `noSetHierarchy` never applies. Lists page by resumption token
(`tokens.py`) over the ledger's positions; deleted records are kept (`persistent`).

Errors, as the protocol assigns them: badVerb (no, unknown or repeated verb), badArgument
(missing, unknown, repeated or malformed arguments, a token beside other arguments, `from` after
`until` or at another granularity), badResumptionToken, cannotDisseminateFormat (an unknown
metadataPrefix), idDoesNotExist, noRecordsMatch (an empty list). `noMetadataFormats` cannot
happen: every item has both formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from lxml import etree

from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import NotFoundError
from discovery.export import ddi_codebook, oai_dc
from discovery.export.xml_text import add, xml_safe
from discovery.model import Study, Variable
from discovery.oai.ledger import Item, Ledger, Window
from discovery.oai.tokens import BadToken, Place, decode, encode

NS = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
PAGE_SIZES = {"ListIdentifiers": 500, "ListRecords": 50}  # DDI records carry every variable
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True)
class MetadataFormat:
    """A format the provider disseminates: its prefix, schema, namespace and writer."""

    prefix: str
    schema: str
    namespace: str
    write: Callable[[Study, list[Variable]], etree._Element]
    needs_variables: bool


FORMATS = {f.prefix: f for f in (
    MetadataFormat("oai_dc", oai_dc.SCHEMA_URL, oai_dc.OAI_DC,
                   lambda study, _: oai_dc.dublin_core(study), needs_variables=False),
    MetadataFormat("oai_ddi25", ddi_codebook.SCHEMA_URL, ddi_codebook.NS,
                   ddi_codebook.codebook, needs_variables=True),
)}


class OaiError(Exception):
    """An OAI-PMH error condition: answered as `<error code=...>` with HTTP 200."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# verb -> (required, optional, exclusive) arguments
VERBS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                        "resumptionToken"),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                    "resumptionToken"),
}


@dataclass
class Repository:
    """What Identify says: the name, base URL, contact, and the prefix of item identifiers."""

    name: str
    base_url: str
    admin_email: str
    identifier_prefix: str  # `oai:<repository>:`

    @classmethod
    def at(cls, name: str, base_url: str, site_url: str | None = None,
           admin_email: str | None = None) -> "Repository":
        """Identifiers are `oai:<host>:` for the site's configured host name, `oai:discovery:`
        without one: they must not change with the address a harvester happened to use."""
        host = (urlsplit(site_url).hostname or "").lower() if site_url else ""
        named = bool(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}", host))
        return cls(name, base_url, admin_email or f"admin@{host if named else 'localhost.localdomain'}",
                   f"oai:{host if named else 'discovery'}:")


class Provider:
    """Answers one request at a time over one catalogue and its ledger."""

    def __init__(self, catalogue: CatalogueStore, ledger: Ledger, repository: Repository,
                 page_sizes: dict[str, int] | None = None) -> None:
        self.catalogue = catalogue
        self.ledger = ledger
        self.repository = repository
        self.page_sizes = page_sizes or PAGE_SIZES

    def respond(self, arguments: list[tuple[str, str]]) -> bytes:
        """The XML answer to a request's arguments (query string or form, in order)."""
        response_date = self.ledger.refresh()
        root = etree.Element(f"{{{NS}}}OAI-PMH", nsmap={None: NS, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
        add(root, f"{{{NS}}}responseDate", response_date)
        request = add(root, f"{{{NS}}}request", self.repository.base_url)
        try:
            verb, values = _checked(arguments)
            for name, value in values.items():
                request.set(name, xml_safe(value))
            request.set("verb", verb)
            getattr(self, f"_{verb}")(root, values)
        except OaiError as error:
            if error.code in ("badVerb", "badArgument"):  # the request is echoed without arguments
                request.attrib.clear()
            for child in list(root)[2:]:
                root.remove(child)
            add(root, f"{{{NS}}}error", error.message, code=error.code)
        return etree.tostring(root, encoding="UTF-8", xml_declaration=True)

    # ---- verbs ---------------------------------------------------------------------------

    def _Identify(self, root: etree._Element, values: dict[str, str]) -> None:
        identify = add(root, f"{{{NS}}}Identify")
        for name, text in (("repositoryName", self.repository.name),
                           ("baseURL", self.repository.base_url), ("protocolVersion", "2.0"),
                           ("adminEmail", self.repository.admin_email),
                           ("earliestDatestamp", self.ledger.earliest_datestamp()
                            or "1970-01-01T00:00:00Z"),
                           ("deletedRecord", "persistent"), ("granularity", GRANULARITY)):
            add(identify, f"{{{NS}}}{name}", text)

    def _ListMetadataFormats(self, root: etree._Element, values: dict[str, str]) -> None:
        if "identifier" in values:
            self._item(values["identifier"])  # idDoesNotExist for an unknown one
        formats = add(root, f"{{{NS}}}ListMetadataFormats")
        for fmt in FORMATS.values():
            element = add(formats, f"{{{NS}}}metadataFormat")
            add(element, f"{{{NS}}}metadataPrefix", fmt.prefix)
            add(element, f"{{{NS}}}schema", fmt.schema)
            add(element, f"{{{NS}}}metadataNamespace", fmt.namespace)

    def _ListSets(self, root: etree._Element, values: dict[str, str]) -> None:
        if "resumptionToken" in values:
            raise OaiError("badResumptionToken", "the set list is sent whole; it has no tokens")
        sets = add(root, f"{{{NS}}}ListSets")
        for spec, name in self.ledger.sets():
            element = add(sets, f"{{{NS}}}set")
            add(element, f"{{{NS}}}setSpec", spec)
            add(element, f"{{{NS}}}setName", name)

    def _GetRecord(self, root: etree._Element, values: dict[str, str]) -> None:
        fmt = _format(values["metadataPrefix"])
        item = self._item(values["identifier"])
        self._record(add(root, f"{{{NS}}}GetRecord"), item, fmt)

    def _ListIdentifiers(self, root: etree._Element, values: dict[str, str]) -> None:
        self._list(root, values, "ListIdentifiers")

    def _ListRecords(self, root: etree._Element, values: dict[str, str]) -> None:
        self._list(root, values, "ListRecords")

    # ---- lists ---------------------------------------------------------------------------

    def _list(self, root: etree._Element, values: dict[str, str], verb: str) -> None:
        place = self._place(values, verb)
        fmt = _format(place.prefix)
        window = Window(place.set_spec, place.from_, place.until)
        size = self.page_sizes[verb]
        items = self.ledger.page(window, place.after, size + 1)
        if not items:  # a list resumed after its last items left the window ends here too
            raise OaiError("noRecordsMatch", "no record matches these arguments")
        listing = add(root, f"{{{NS}}}{verb}")
        for item in items[:size]:
            if verb == "ListRecords":
                self._record(listing, item, fmt)
            else:
                self._header(listing, item)
        if len(items) > size or place.sent:
            more = len(items) > size
            token = encode(Place(verb, place.prefix, place.set_spec, place.from_, place.until,
                                 items[size - 1].position, place.sent + size)) if more else ""
            add(listing, f"{{{NS}}}resumptionToken", token,
                completeListSize=str(self.ledger.count(window)), cursor=str(place.sent))

    def _place(self, values: dict[str, str], verb: str) -> Place:
        """Where the list starts: the token's place, or the first page of the arguments."""
        if "resumptionToken" in values:
            try:
                place = decode(values["resumptionToken"])
            except BadToken as error:
                raise OaiError("badResumptionToken", str(error)) from None
            if place.verb != verb:
                raise OaiError("badResumptionToken", f"the token continues a {place.verb} list")
            return place
        from_, until = values.get("from"), values.get("until")
        if from_ and until and len(from_) != len(until):
            raise OaiError("badArgument", "from and until must have the same granularity")
        start, end = _datestamp(from_, "from", end=False), _datestamp(until, "until", end=True)
        if start and end and start > end:
            raise OaiError("badArgument", f"from ({from_}) is after until ({until})")
        _format(values["metadataPrefix"])
        return Place(verb, values["metadataPrefix"], values.get("set"), start, end, 0, 0)

    # ---- items ---------------------------------------------------------------------------

    def _item(self, identifier: str) -> Item:
        prefix = self.repository.identifier_prefix
        item = self.ledger.item(identifier[len(prefix):]) if identifier.startswith(prefix) else None
        if item is None:
            raise OaiError("idDoesNotExist", f"{identifier!r} is not an identifier of this "
                                             f"repository (they start {prefix!r})")
        return item

    def _header(self, parent: etree._Element, item: Item, deleted: bool = False) -> None:
        header = add(parent, f"{{{NS}}}header",
                     status="deleted" if item.deleted or deleted else None)
        add(header, f"{{{NS}}}identifier", self.repository.identifier_prefix + item.id)
        add(header, f"{{{NS}}}datestamp", item.datestamp)
        for spec in item.sets:
            add(header, f"{{{NS}}}setSpec", spec)

    def _record(self, parent: etree._Element, item: Item, fmt: MetadataFormat) -> None:
        record = add(parent, f"{{{NS}}}record")
        study = None if item.deleted else self._study(item.id)
        self._header(record, item, deleted=study is None)
        if study is not None:
            variables = self.catalogue.variables_of(study.id) if fmt.needs_variables else []
            add(record, f"{{{NS}}}metadata").append(fmt.write(study, variables))

    def _study(self, rid: str) -> Study | None:
        """The record as it is now; None when it was deleted since the ledger last looked (the
        next catch-up lists its deletion too)."""
        try:
            record = self.catalogue.get(rid)
        except NotFoundError:
            return None
        return record if isinstance(record, Study) and record.id == rid else None


def _checked(arguments: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, once each, as the verb allows them."""
    verbs = [value for name, value in arguments if name == "verb"]
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "verb is missing or repeated" if len(verbs) != 1
                       else f"{verbs[0]!r} is not an OAI-PMH verb")
    verb = verbs[0]
    values: dict[str, str] = {}
    for name, value in arguments:
        if name == "verb":
            continue
        if name in values:
            raise OaiError("badArgument", f"argument {name!r} is repeated")
        values[name] = value
    required, optional, exclusive = VERBS[verb]
    if exclusive and exclusive in values:
        if len(values) > 1:
            raise OaiError("badArgument", f"{exclusive} must be the only argument besides the verb")
        return verb, values
    unknown = sorted(set(values) - required - optional)
    if unknown:
        raise OaiError("badArgument", f"{verb} does not take {', '.join(unknown)}")
    missing = sorted(required - set(values))
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(missing)}")
    return verb, values


def _format(prefix: str) -> MetadataFormat:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat",
                       f"{prefix!r} is not offered here; formats: {', '.join(FORMATS)}")
    return FORMATS[prefix]


def _datestamp(value: str | None, name: str, end: bool) -> str | None:
    """A from/until argument as a seconds datestamp: a day means its first (from) or last
    (until) second."""
    if value is None:
        return None
    if _DAY.match(value):
        stamp = value + ("T23:59:59Z" if end else "T00:00:00Z")
    elif _SECOND.match(value):
        stamp = value
    else:
        raise OaiError("badArgument", f"{name}={value!r} is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
    try:
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise OaiError("badArgument", f"{name}={value!r} is not a real date") from None
    return stamp
