"""UKRI Gateway to Research (GtR): project pages saved as text, and the GtR-2 API (JSON and XML).

GtR holds grants and what they produced, not data, but a dataset's grant reference leads here:
to the project, the organisation that led it, the people on it and its self-reported outcomes.

Two shapes reach us. The public project page as text: the title, "Lead Research Organisation",
"Department Name", "Abstract", "Planned Impact", then outcome blocks of labelled lines
("Description ...", "Form Of Engagement Activity ..."). And the API (`gtr.ukri.org/gtr/api/`):
single resources and pages of them, whose `links.link[{href, rel, start, end}]` name related
resources by the GUID that ends each href.

Ids: a project is `slug(title)` (a page shows nothing better) and an organisation `slug(name)`,
so that a page and the API agree; persons and outcomes are `gtr-<guid>`, as the GUID is all that
tells them apart. Every API record also carries the identifier ("gtr", guid), and a relation to a
record the document does not hold points at `gtr-<guid>`, which the catalogue resolves through
that alias.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from discovery.model import (
    DOI_RE, Identifier, Organisation, Output, ParseResult, Person, Predicate, Problem, Project,
    Provenance, Record, Relation, Text, child_id, normalise_doi, slug,
)
from discovery.sources.base import (
    Document, clean, clean_block, decode_text, parse_json, parse_xml, strip_markup,
)
from discovery.sources.registry import head_text

FORMAT = "gtr"
CATALOGUE = "UKRI Gateway to Research"
API_NAMESPACE = "http://gtr.rcuk.ac.uk/gtr/api"
JSON_MEDIA_TYPE = "application/vnd.rcuk.gtr.json-v7"
PROJECT_PAGE = "https://gtr.ukri.org/project/{guid}"

GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
YEAR_RE = re.compile(r"\b(?:19|20)\d{2}\b")
ORCID_RE = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", re.I)
TITLE_CHARS = 120
RAW_CHARS = 10_000


# --- sniffing and dispatch ------------------------------------------------------------------

_PAGE_LABEL = re.compile(r"^(?:Lead Research Organisation|Department Name):", re.M)


def sniff(doc: Document, head: str) -> bool:
    """API XML by its namespace, API JSON by its media type or `/gtr/api/` hrefs, a project
    page by the labels under its title (or, without them, its Abstract and Planned Impact)."""
    if head.startswith("<"):
        return API_NAMESPACE in head
    if head.startswith(("{", "[")):
        if (doc.media_type or "").startswith(JSON_MEDIA_TYPE):
            return True
        return "/gtr/api/" in head and '"@context"' not in head
    if _PAGE_LABEL.search(head[:4000]):
        return True
    lines = {line.strip() for line in head.splitlines()}
    return "Abstract" in lines and "Planned Impact" in lines


def parse(doc: Document) -> ParseResult:
    head = head_text(doc)
    if head.startswith("<"):
        return _ApiReader(doc, "gtr-api-xml", _xml_resources(doc)).read()
    if head.startswith(("{", "[")):
        return _ApiReader(doc, "gtr-api-json", _json_resources(doc)).read()
    return _parse_page(doc)


# --- project pages ----------------------------------------------------------------------------

TEXT_SECTIONS = {
    "abstract": "abstract", "technical summary": "technical_abstract",
    "technical abstract": "technical_abstract", "planned impact": "planned_impact",
    "potential impact": "planned_impact",
}


@dataclass(frozen=True)
class OutcomeKind:
    """One outcome tab of a project page: its heading, the labels of its blocks, and the label
    that only its blocks carry (tab headings do not survive as text reliably: the seed page's
    engagement activities sit under "Publications")."""

    output_type: str
    heading: str
    signature: str
    id_prefix: str
    labels: tuple[str, ...]


_MATERIAL_LABELS = ("Title", "Description", "Type Of Material", "Year Produced",
                    "Provided To Others?", "Impact", "URL")
# Engagement labels are as the seed page shows them; the others as GtR's outcome tabs name them.
OUTCOME_KINDS = (
    OutcomeKind("engagement activity", "engagement activities", "Form Of Engagement Activity",
                "engagement", ("Description", "Form Of Engagement Activity",
                               "Part Of Official Scheme?", "Geographic Reach", "Primary Audience",
                               "Results and Impact", "Year(s) Of Engagement Activity", "URL")),
    OutcomeKind("collaboration", "collaborations", "Partner Contribution", "collaboration",
                ("Description", "Organisation", "Department", "Country", "Sector",
                 "PI Contribution", "Partner Contribution", "Impact", "Start Year", "End Year")),
    OutcomeKind("further funding", "further funding", "Funding ID", "further-funding",
                ("Description", "Amount", "Organisation", "Funding ID", "Sector", "Country",
                 "Start", "End")),
    OutcomeKind("key finding", "key findings", "Exploitation Route", "key-finding",
                ("Description", "Exploitation Route", "Sectors", "URL")),
    OutcomeKind("policy influence", "policy influence", "Policy Influence Type",
                "policy-influence", ("Description", "Geographic Reach", "Policy Influence Type",
                                     "Impact", "URL")),
    OutcomeKind("research database and model", "research databases and models",
                "Type Of Material", "research-database", _MATERIAL_LABELS),
    OutcomeKind("research material", "research tools and methods", "Type Of Material",
                "research-material", _MATERIAL_LABELS),
    OutcomeKind("software and technical product", "software and technical products",
                "Type Of Technology", "software", ("Title", "Description", "Type Of Technology",
                                                   "Year Produced", "Open Source License?",
                                                   "Impact", "URL")),
    OutcomeKind("artistic and creative product", "artistic and creative products", "Type Of Art",
                "artistic-product", ("Title", "Description", "Type Of Art", "Year Produced",
                                     "Impact", "URL")),
    OutcomeKind("intellectual property", "intellectual property", "IP Reference", "ip",
                ("Title", "Description", "IP Reference", "Protection", "Year Protection Granted",
                 "Licensed", "Impact")),
    OutcomeKind("spin out", "spin outs", "Year Established", "spin-out",
                ("Company Name", "Description", "Year Established", "Impact", "Website")),
)
OUTCOME_HEADINGS = {kind.heading for kind in OUTCOME_KINDS} | {"publications", "outcomes"}
FIELD_KEYS = {"Form Of Engagement Activity": "form", "Year(s) Of Engagement Activity": "years"}
_ALL_LABELS = sorted({label for kind in OUTCOME_KINDS for label in kind.labels}, key=len,
                     reverse=True)
_LABEL_LINE = re.compile(rf"({'|'.join(map(re.escape, _ALL_LABELS))})(?:[ \t\u00a0]+(.*))?$")
_HEADING_COUNT = re.compile(r"\s*\(\d+\)$")
_PAGE_SIZES = re.compile(r"\d+(?:\s+\d+)+")  # a table's page-size picker, "10 25 50"
_OUTCOMES = "outcomes"


@dataclass
class _Block:
    """One outcome on a page: labelled fields, each with the lines of its value."""

    heading: str
    kind: OutcomeKind | None = None
    fields: list[tuple[str, list[str]]] = field(default_factory=list)

    def has(self, label: str) -> bool:
        return any(seen == label for seen, _ in self.fields)

    def accepts(self, label: str) -> bool:
        return self.kind is None or label in self.kind.labels


@dataclass
class _Page:
    title: str | None = None
    header: dict[str, str] = field(default_factory=dict)
    sections: dict[str, list[str]] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)


def _parse_page(doc: Document) -> ParseResult:
    page = _read_page(decode_text(doc))
    if not page.title or _PAGE_LABEL.match(page.title):
        raise doc.fail("no project title", hint="the first line of a GtR project page is its title")
    project = _page_project(doc, page, page.title)
    result = ParseResult(records=[project])
    if project.lead_organisation:
        organisation = Organisation(
            id=slug(project.lead_organisation), title=project.lead_organisation,
            titles=[Text(value=project.lead_organisation)],
            provenance=doc.provenance("gtr-page", record_key=project.lead_organisation,
                                      catalogue=CATALOGUE))
        result.records.append(organisation)
        result.relations.append(Relation(subject=project.id, predicate=Predicate.LED_BY,
                                         object=organisation.id,
                                         evidence="Lead Research Organisation"))
    numbers: Counter[str] = Counter()
    for block in page.blocks:
        prefix = block.kind.id_prefix if block.kind else "outcome"
        numbers[prefix] += 1
        output = _page_output(doc, project.id, block, f"{prefix}-{numbers[prefix]}")
        result.records.append(output)
        result.relations.append(Relation(subject=project.id, predicate=Predicate.HAS_OUTPUT,
                                         object=output.id))
    return result


def _read_page(text: str) -> _Page:
    """Title, then `Label: value` header lines, then text sections and outcome tabs by heading."""
    page = _Page()
    section: str | None = None
    heading = ""
    block: _Block | None = None
    for line in text.splitlines():
        stripped = clean(line)
        if page.title is None:
            page.title = stripped
            continue
        name = _heading(stripped)
        if name in TEXT_SECTIONS:
            section, block = TEXT_SECTIONS[name], None
            page.sections.setdefault(section, [])
        elif name in OUTCOME_HEADINGS:
            section, heading, block = _OUTCOMES, name, None
        elif section == _OUTCOMES:
            block = _read_outcome_line(page.blocks, block, heading, line)
        elif section is not None:
            page.sections[section].append(line)
        elif stripped and ":" in stripped:
            key, _, value = stripped.partition(":")
            page.header[key.strip()] = value.strip()
    for block in page.blocks:
        block.kind = block.kind or next((k for k in OUTCOME_KINDS if k.heading == block.heading),
                                        None)
    return page


def _heading(line: str | None) -> str | None:
    if not line:
        return None
    return _HEADING_COUNT.sub("", line.lower().replace("&", "and"))


def _read_outcome_line(blocks: list[_Block], block: _Block | None, heading: str,
                       line: str) -> _Block | None:
    """A label seen again starts the next block; unlabelled lines continue the last field.
    Once a block's kind is known only its labels count, so free text that happens to start
    with another kind's label ("Impact ...") stays text. Page-size pickers and lines before
    the first block are dropped."""
    text = line.strip()
    if _PAGE_SIZES.fullmatch(text):
        return block
    match = _LABEL_LINE.match(text)
    label = match.group(1) if match else None
    if label and block is not None and not block.accepts(label):
        label = None
    if label and (block is None or block.has(label)):
        block = _Block(heading)
        blocks.append(block)
    if block is None:
        return None
    if label and match:
        block.fields.append((label, [match.group(2) or ""]))
        block.kind = block.kind or _kind_by_signature(label, heading)
    else:
        block.fields[-1][1].append(text)
    return block


def _kind_by_signature(label: str, heading: str) -> OutcomeKind | None:
    """The kind whose signature this label is; where two share it, the one the heading names."""
    kinds = [kind for kind in OUTCOME_KINDS if kind.signature == label]
    return next((kind for kind in kinds if kind.heading == heading), kinds[0] if kinds else None)


def _page_project(doc: Document, page: _Page, title: str) -> Project:
    header = dict(page.header)
    lead = header.pop("Lead Research Organisation", None) or None
    department = header.pop("Department Name", None) or None
    reference_key = next((key for key in header if "reference" in key.lower()), None)
    url, guid, location_grant = _page_location(doc.location)
    grant = (header.pop(reference_key) if reference_key else None) or location_grant
    identifiers = [Identifier(scheme="grant", value=grant)] if grant else []
    if guid:
        identifiers.append(Identifier(scheme="gtr", value=guid))
    if url:
        identifiers.append(Identifier(scheme="url", value=url))
    texts = {name: clean_block("\n".join(lines)) for name, lines in page.sections.items()}
    abstract = texts.get("abstract")
    project_id = slug(title)
    return Project(
        id=project_id, title=title, titles=[Text(value=title)], description=abstract,
        descriptions=[Text(value=abstract)] if abstract else [], abstract=abstract,
        technical_abstract=texts.get("technical_abstract"),
        planned_impact=texts.get("planned_impact"), grant_reference=grant,
        lead_organisation=lead, department=department, url=url, identifiers=identifiers,
        provenance=doc.provenance("gtr-page", record_key=project_id, catalogue=CATALOGUE),
        extra={"page_fields": header} if header else {})


def _page_location(location: str) -> tuple[str | None, str | None, str | None]:
    """URL, GUID and grant reference of a page fetched from `gtr.ukri.org/project/<GUID>` or
    `gtr.ukri.org/projects?ref=<grant reference>`; nothing for a file."""
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https"):
        return None, None, None
    guid = GUID_RE.search(parts.path)
    refs = parse_qs(parts.query).get("ref")
    return location, guid.group(0) if guid else None, refs[0] if refs else None


def _page_output(doc: Document, project_id: str, block: _Block, key: str) -> Output:
    fields = {}
    for label, lines in block.fields:
        value = "\n".join(text for text in map(clean, lines) if text)
        if value:
            fields[FIELD_KEYS.get(label) or _field_key(label)] = value
    output_type = block.kind.output_type if block.kind else "outcome"
    description = fields.get("description")
    title = fields.get("title") or fields.get("company_name") or \
        (_short_title(description) if description else None) or f"{output_type} {key}"
    url = fields.get("url") or fields.get("website")
    years = [year for name, value in fields.items() if "year" in name for year in _years(value)]
    return Output(
        id=child_id(project_id, key), title=title, titles=[Text(value=title)],
        description=description, descriptions=[Text(value=description)] if description else [],
        output_type=output_type, project_id=project_id, fields=fields,
        years=list(dict.fromkeys(years)), url=url,
        provenance=doc.provenance("gtr-page", record_key=key, catalogue=CATALOGUE),
        extra={"url_truncated": True} if url and url.endswith("...") else {})


def _field_key(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


_SENTENCE_END = re.compile(r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\b(?:Dr|Mr|Ms|St)\.)(?<=[.!?])\s+"
                           r"(?=[A-Z0-9\"'(])")


def _short_title(text: str) -> str:
    """A readable title from a description: its first sentence, cut at a word near 120 chars."""
    first = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    first = first[:-1] if first.endswith(".") else first
    if len(first) <= TITLE_CHARS:
        return first
    return first[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:- ") + "…"


def _years(text: str | None) -> list[str]:
    return YEAR_RE.findall(text or "")


# --- the GtR-2 API ----------------------------------------------------------------------------

OUTCOME_TYPES = {
    "publication": "publication", "keyfinding": "key finding",
    "impactsummary": "impact summary", "collaboration": "collaboration",
    "dissemination": "engagement activity", "furtherfunding": "further funding",
    "intellectualproperty": "intellectual property", "policyinfluence": "policy influence",
    "product": "product", "researchmaterial": "research material",
    "artisticandcreativeproduct": "artistic and creative product",
    "researchdatabaseandmodel": "research database and model",
    "softwareandtechnicalproduct": "software and technical product", "spinout": "spin out",
}
RESOURCE_KINDS = {"project", "person", "organisation", "fund", *OUTCOME_TYPES}
DISSEMINATION_FIELDS = {
    "description": "description", "form": "form",
    "partOfOfficialScheme": "part_of_official_scheme", "geographicReach": "geographic_reach",
    "primaryAudience": "primary_audience", "impact": "results_and_impact",
    "yearsOfDissemination": "years", "supportingUrl": "url",
}
META_KEYS = {"id", "href", "links", "created", "updated", "ext", "outcomeid"}
DATE_KEYS = {"datePublished", "start", "end", "created", "updated"}
ADDRESS_PARTS = ("line1", "line2", "line3", "line4", "line5", "city", "county", "postCode")
PROJECT_CATEGORIES = (("healthCategories", "healthCategory", "health_categories"),
                      ("researchActivities", "researchActivity", "research_activities"),
                      ("rcukProgrammes", "rcukProgramme", "programmes"))
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass
class _Resource:
    """One API resource: its kind (`project`, `person`, `publication`...), its fields as JSON
    gives them (XML is converted to the same shape), and the resource it was embedded in."""

    kind: str
    data: dict[str, Any]
    parent: _Resource | None = None

    @property
    def guid(self) -> str | None:
        value = self.data.get("id")
        if isinstance(value, str) and GUID_RE.fullmatch(value.strip()):
            return value.strip()
        return _href_guid(self.data.get("href"))


class _Link(NamedTuple):
    rel: str
    guid: str
    kind: str | None
    start: Any
    end: Any


def _json_resources(doc: Document) -> list[_Resource]:
    return list(_walk(parse_json(doc), None, None))


def _xml_resources(doc: Document) -> list[_Resource]:
    root = parse_xml(doc)
    name = etree.QName(root)
    if not (name.namespace or "").startswith(API_NAMESPACE):
        raise doc.fail(f"not a GtR API document: the root element is {name.text}",
                       hint=f"GtR API XML is in the namespace {API_NAMESPACE}")
    kind = name.localname.lower()
    return list(_walk(_element_data(root), kind if kind in RESOURCE_KINDS else None, None))


def _walk(data: Any, kind: str | None, parent: _Resource | None) -> Iterator[_Resource]:
    """Resources in a single resource, a page (`{"page": 1, ..., "project": [...]}`), a bundle of
    outcome lists, or embedded in another resource under their kind's name (`"fund": {...}`)."""
    for item in _as_list(data):
        if not isinstance(item, dict):
            continue
        item_kind = kind or _href_kind(item.get("href"))
        resource = _Resource(item_kind, item, parent) if item_kind else None
        if resource:
            yield resource
        for key, value in item.items():
            nested = key.lower()
            if nested in RESOURCE_KINDS and isinstance(value, (dict, list)):
                yield from _walk(value, nested, resource or parent)


def _element_data(element: etree._Element) -> Any:
    """An XML element as the JSON API gives it: attributes and children by local name, repeated
    children as lists, the text of an element with attributes under `value`."""
    children = [child for child in element if isinstance(child.tag, str)]
    attributes = {_local(name): value for name, value in element.attrib.items()
                  if not name.startswith("{" + _XSI)}
    text = element.text or ""
    if not children and not attributes:
        return text if text.strip() else None
    data: dict[str, Any] = dict(attributes)
    if not children and text.strip():
        data["value"] = text
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(etree.QName(child).localname, []).append(_element_data(child))
    for name, values in grouped.items():
        data[name] = values[0] if len(values) == 1 else values
    return data


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


class _ApiReader:
    """Records and relations from the resources of one API document. Links to resources the
    document also holds point at their real ids; funds land on the project they pay for."""

    def __init__(self, doc: Document, source: str, resources: list[_Resource]) -> None:
        self.doc = doc
        self.source = source
        self.resources = resources
        self.result = ParseResult()
        self.ids = {guid: record_id for resource in resources
                    if (guid := resource.guid) and (record_id := _api_id(resource))}
        self.projects: dict[str, Project] = {}  # by GUID
        self.organisations: dict[str, Organisation] = {}  # by id
        self.leads: list[tuple[Project, str]] = []  # with the id of the lead organisation
        self.fund_projects: dict[str, str] = {}  # fund GUID -> project GUID, from FUND links
        self.relations: set[tuple[str, Predicate, str]] = set()

    def read(self) -> ParseResult:
        if not self.resources:
            raise self.doc.fail("no GtR resources found", hint="expected a GtR-2 API project, "
                                "person, organisation, fund or outcome, or a page of them")
        numbered = list(enumerate(self.resources, start=1))
        for position, resource in numbered:
            if resource.kind != "fund":
                self._guarded(self._read, resource, position)
        for position, resource in numbered:  # after the projects they may land on
            if resource.kind == "fund":
                self._guarded(self._fund, resource, position)
        for project, organisation_id in self.leads:
            if organisation_id in self.organisations:
                project.lead_organisation = self.organisations[organisation_id].title
        return self.result

    def _guarded(self, read: Callable[[_Resource], None], resource: _Resource,
                 position: int) -> None:
        """One bad resource becomes a Problem; the rest of the document still counts."""
        try:
            read(resource)
        except (ValueError, TypeError) as error:
            raw = json.dumps(resource.data, ensure_ascii=False, default=str)[:RAW_CHARS]
            self.result.problems.append(Problem(
                record=resource.guid or f"{resource.kind} {position}", reason=str(error),
                raw=raw))

    def _ref(self, guid: str) -> str:
        return self.ids.get(guid) or f"gtr-{guid.lower()}"

    def _relate(self, subject: str, predicate: Predicate, target: str, evidence: str) -> None:
        if (subject, predicate, target) not in self.relations:
            self.relations.add((subject, predicate, target))
            self.result.relations.append(Relation(subject=subject, predicate=predicate,
                                                  object=target, evidence=evidence))

    def _provenance(self, resource: _Resource) -> Provenance:
        return self.doc.provenance(self.source, record_key=resource.guid, catalogue=CATALOGUE)

    def _read(self, resource: _Resource) -> None:
        record_id = _api_id(resource)
        if not record_id:
            raise ValueError(f"GtR {resource.kind} has no id and no title")
        record: Project | Person | Organisation | Output
        if resource.kind == "project":
            record = self._project(resource, record_id)
        elif resource.kind == "person":
            record = self._person(resource, record_id)
        elif resource.kind == "organisation":
            record = self._organisation(resource, record_id)
        else:
            record = self._output(resource, record_id)
        self.result.records.append(record)
        unlinked = [f"{link.rel} {link.guid}" for link in _links(resource.data)
                    if not self._follow(resource, record, link)]
        if unlinked:
            record.extra["gtr_links"] = unlinked
        parent = resource.parent
        if isinstance(record, Output) and parent and parent.kind == "project" and parent.guid:
            record.project_id = record.project_id or self._ref(parent.guid)
            self._relate(self._ref(parent.guid), Predicate.HAS_OUTPUT, record.id, "embedded")

    def _follow(self, resource: _Resource, record: Record, link: _Link) -> bool:
        """Turn one link into a relation (or project dates); False if it says nothing we model."""
        target = self._ref(link.guid)
        evidence = f"GtR link {link.rel}"
        if isinstance(record, Project):
            if link.kind == "fund":
                if resource.guid:
                    self.fund_projects[link.guid] = resource.guid
                _widen_dates(record, _iso_date(link.start), _iso_date(link.end))
                return False
            predicate = _project_predicate(link.rel, link.kind)
            if predicate is Predicate.LED_BY:
                self.leads.append((record, target))
            if predicate:
                self._relate(record.id, predicate, target, evidence)
            return predicate is not None
        if link.kind == "project":
            predicate = _towards_project(resource.kind, link.rel)
            if isinstance(record, Output):
                record.project_id = record.project_id or target
            if predicate:
                self._relate(target, predicate, record.id, evidence)
            return predicate is not None
        if isinstance(record, Person) and link.kind == "organisation":
            self._relate(record.id, Predicate.AFFILIATED_WITH, target, evidence)
            return True
        return False

    def _project(self, resource: _Resource, record_id: str) -> Project:
        data = resource.data
        title = _clean_text(data.get("title"))
        if not title:
            raise ValueError("GtR project has no title")
        identifiers, grant = _project_identifiers(data)
        url = PROJECT_PAGE.format(guid=resource.guid) if resource.guid else None
        if resource.guid:
            identifiers.append(Identifier(scheme="gtr", value=resource.guid))
        if url:
            identifiers.append(Identifier(scheme="url", value=url))
        abstract = strip_markup(_text(data.get("abstractText")))
        subjects = _categories(data.get("researchSubjects"), "researchSubject")
        topics = _categories(data.get("researchTopics"), "researchTopic")
        project = Project(
            id=record_id, title=title, titles=[Text(value=title)], description=abstract,
            descriptions=[Text(value=abstract)] if abstract else [], abstract=abstract,
            technical_abstract=strip_markup(_text(data.get("techAbstractText"))),
            planned_impact=strip_markup(_text(data.get("potentialImpact"))),
            grant_reference=grant, funder=_clean_text(data.get("leadFunder")),
            status=_clean_text(data.get("status")),
            category=_clean_text(data.get("grantCategory")),
            department=_clean_text(data.get("leadOrganisationDepartment")),
            subjects=[name for name, _ in subjects], keywords=[name for name, _ in topics],
            url=url, identifiers=identifiers, provenance=self._provenance(resource),
            extra=_project_extra(data, subjects, topics))
        if resource.guid:
            self.projects[resource.guid] = project
        return project

    def _person(self, resource: _Resource, record_id: str) -> Person:
        data = resource.data
        given, others, family = (_clean_text(data.get(key))
                                 for key in ("firstName", "otherNames", "surname"))
        name = " ".join(part for part in (given, others, family) if part)
        if not name:
            raise ValueError("GtR person has no name")
        orcid_match = ORCID_RE.search(_text(data.get("orcidId")) or "")
        orcid = orcid_match.group(0).upper() if orcid_match else None
        identifiers = _gtr_identifier(resource)
        if orcid:
            identifiers.append(Identifier(scheme="orcid", value=orcid))
        return Person(id=record_id, title=name, titles=[Text(value=name)], given_name=given,
                      family_name=family, orcid=orcid, identifiers=identifiers,
                      provenance=self._provenance(resource),
                      extra={"other_names": others} if others else {})

    def _organisation(self, resource: _Resource, record_id: str) -> Organisation:
        data = resource.data
        name = _clean_text(data.get("name"))
        if not name:
            raise ValueError("GtR organisation has no name")
        addresses = [a for a in _as_list(_dict(data.get("addresses")).get("address"))
                     if isinstance(a, dict)]
        main = next((a for a in addresses if _text(a.get("type")) == "MAIN_ADDRESS"),
                    addresses[0] if addresses else {})
        parts = [_clean_text(main.get(key)) for key in ADDRESS_PARTS]
        region = _clean_text(main.get("region"))
        organisation = Organisation(
            id=record_id, title=name, titles=[Text(value=name)],
            address=", ".join(part for part in parts if part) or None,
            country=_clean_text(main.get("country")), identifiers=_gtr_identifier(resource),
            provenance=self._provenance(resource), extra={"region": region} if region else {})
        self.organisations[record_id] = organisation
        return organisation

    def _output(self, resource: _Resource, record_id: str) -> Output:
        data = resource.data
        output_type = OUTCOME_TYPES[resource.kind]
        fields = _scalar_fields(data)
        extra: dict[str, Any] = {}
        if resource.kind == "dissemination":
            mapped = {key: fields.pop(name) for name, key in DISSEMINATION_FIELDS.items()
                      if name in fields}
            fields, extra = mapped, fields
        description = strip_markup(_text(data.get("description")))
        title = _clean_text(data.get("title")) or \
            (_short_title(description) if description else None) or \
            f"{output_type.capitalize()} {resource.guid}"
        identifiers = _gtr_identifier(resource)
        doi_text = _text(data.get("doi"))
        doi = normalise_doi(doi_text) if doi_text and DOI_RE.search(doi_text) else None
        if doi:
            identifiers.append(Identifier(scheme="doi", value=doi))
        for key, scheme in (("pubMedId", "pubmed"), ("isbn", "isbn")):
            if value := _clean_text(data.get(key)):
                identifiers.append(Identifier(scheme=scheme, value=value))
        url = next((value for key in ("supportingUrl", "publicationUrl", "url")
                    if (value := _clean_text(data.get(key)))), None)
        outcome_id = _clean_text(data.get("outcomeid"))
        if outcome_id:
            extra["outcome_id"] = outcome_id
        return Output(
            id=record_id, title=title, titles=[Text(value=title)], description=description,
            descriptions=[Text(value=description)] if description else [],
            output_type=output_type, fields=fields, years=_outcome_years(data),
            url=url or (f"https://doi.org/{doi}" if doi else None), identifiers=identifiers,
            provenance=self._provenance(resource), extra=extra)

    def _fund(self, resource: _Resource) -> None:
        """A fund is no record of its own: its value and dates go on the project when the
        document holds it, and a FUNDED_BY relation to the funder carries them as evidence."""
        data = resource.data
        value = _dict(data.get("valuePounds"))
        amount = _number(value.get("amount"))
        currency = _clean_text(value.get("currencyCode"))
        start, end = _iso_date(data.get("start")), _iso_date(data.get("end"))
        links = _links(data)
        parent = resource.parent
        project_guid = next((link.guid for link in links if link.kind == "project"), None) or \
            (parent.guid if parent and parent.kind == "project" else None) or \
            self.fund_projects.get(resource.guid or "")
        if not project_guid:
            raise ValueError("GtR fund names no project; nothing to attach it to")
        project = self.projects.get(project_guid)
        if project:
            if amount is not None:
                project.amount = (project.amount or 0.0) + amount
                project.currency = project.currency or currency
            _widen_dates(project, start, end)
        money = f"{amount:.2f} {currency or 'GBP'}" if amount is not None else "amount unknown"
        evidence = f"GtR fund {resource.guid}: {money}, {start or '?'} to {end or '?'}"
        for link in links:
            if link.kind == "organisation":
                self._relate(self._ref(project_guid), Predicate.FUNDED_BY, self._ref(link.guid),
                             evidence)


def _api_id(resource: _Resource) -> str | None:
    """slug(title) for a project, slug(name) for an organisation, `gtr-<guid>` otherwise."""
    guid = resource.guid
    if resource.kind == "project" and (title := _clean_text(resource.data.get("title"))):
        return slug(title)
    if resource.kind == "organisation" and (name := _clean_text(resource.data.get("name"))):
        return slug(name)
    return f"gtr-{guid.lower()}" if guid else None


def _project_predicate(rel: str, kind: str | None) -> Predicate | None:
    if kind == "person":
        return Predicate.HAS_INVESTIGATOR
    if kind == "organisation":
        if rel == "LEAD_ORG":
            return Predicate.LED_BY
        return Predicate.FUNDED_BY if rel in ("FUNDER", "COFUND_ORG") else Predicate.HAS_PARTICIPANT
    return Predicate.HAS_OUTPUT if kind in OUTCOME_TYPES else None


def _towards_project(kind: str, rel: str) -> Predicate | None:
    """The relation from a project to a resource that links back to it."""
    if kind in OUTCOME_TYPES:
        return Predicate.HAS_OUTPUT
    if kind == "person":
        return Predicate.HAS_INVESTIGATOR
    if kind == "organisation":
        return Predicate.LED_BY if rel.startswith("LEAD") else Predicate.HAS_PARTICIPANT
    return None


def _links(data: dict[str, Any]) -> list[_Link]:
    links = []
    for link in _as_list(_dict(data.get("links")).get("link")):
        if isinstance(link, dict) and (guid := _href_guid(link.get("href"))):
            links.append(_Link(str(link.get("rel") or ""), guid, _href_kind(link.get("href")),
                               link.get("start"), link.get("end")))
    return links


def _href_guid(href: Any) -> str | None:
    if not isinstance(href, str):
        return None
    last = urlsplit(href.strip()).path.rstrip("/").rsplit("/", 1)[-1]
    return last if GUID_RE.fullmatch(last) else None


def _href_kind(href: Any) -> str | None:
    """`.../gtr/api/projects/<guid>` is a project, `.../outcomes/publications/<guid>` a
    publication."""
    if not _href_guid(href):
        return None
    segments = urlsplit(str(href).strip()).path.rstrip("/").split("/")
    plural = segments[-2].lower() if len(segments) > 1 else ""
    singular = plural[:-3] + "y" if plural.endswith("ies") else plural.removesuffix("s")
    return singular if singular in RESOURCE_KINDS else None


def _project_identifiers(data: dict[str, Any]) -> tuple[list[Identifier], str | None]:
    """Identifiers listed on a project; type RCUK is the grant reference."""
    identifiers, grant = [], None
    for item in _as_list(_dict(data.get("identifiers")).get("identifier")):
        value = _clean_text(item.get("value")) if isinstance(item, dict) else _clean_text(item)
        kind = (_text(item.get("type")) or "").strip().lower() if isinstance(item, dict) else ""
        if not value:
            continue
        if kind in ("rcuk", ""):
            grant = grant or value
            identifiers.append(Identifier(scheme="grant", value=value))
        else:
            identifiers.append(Identifier(scheme=kind, value=value))
    return identifiers, grant


def _project_extra(data: dict[str, Any], subjects: list[tuple[str, float | None]],
                   topics: list[tuple[str, float | None]]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key, item_key, name in PROJECT_CATEGORIES:
        names = [text for text, _ in _categories(data.get(key), item_key)]
        if names:
            extra[name] = names
    for name, categories in (("subject_percentages", subjects), ("topic_percentages", topics)):
        shares = {text: share for text, share in categories if share is not None}
        if shares:
            extra[name] = shares
    if created := _iso_date(data.get("created")):
        extra["created"] = created
    return extra


def _categories(container: Any, item_key: str) -> list[tuple[str, float | None]]:
    """Named categories with their percentage: `{"researchSubject": [{"text", "percentage"}]}`
    in JSON, the element's text (here `value`) in XML."""
    found = []
    for item in _as_list(_dict(container).get(item_key)):
        if isinstance(item, dict):
            name = _clean_text(item.get("text")) or _clean_text(item.get("value"))
            share = _number(item.get("percentage"))
        else:
            name, share = _clean_text(item), None
        if name:
            found.append((name, share))
    return found


def _gtr_identifier(resource: _Resource) -> list[Identifier]:
    return [Identifier(scheme="gtr", value=resource.guid)] if resource.guid else []


def _scalar_fields(data: dict[str, Any]) -> dict[str, str]:
    """An outcome's own fields as text, under the API's names."""
    fields = {}
    for key, value in data.items():
        if key not in META_KEYS and (text := _field_text(key, value)):
            fields[key] = text
    return fields


def _field_text(key: str, value: Any) -> str | None:
    """A field's value as text, as the page would show it: booleans (JSON `false`, XML
    `false`) as Yes/No, dates as YYYY-MM-DD, lists comma-joined, line breaks kept."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key in DATE_KEYS:
        return _iso_date(value)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return ",".join(str(v) for v in value) or None
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        return None
    text = (strip_markup(value) or "") if "<" in value else value
    return "\n".join(line for line in map(clean, text.splitlines()) if line) or None


def _outcome_years(data: dict[str, Any]) -> list[str]:
    years = []
    for key, value in data.items():
        if "year" in key.lower():
            years += _years(_field_text(key, value))
        elif key == "datePublished" and (date := _iso_date(value)):
            years.append(date[:4])
    return list(dict.fromkeys(years))


def _widen_dates(project: Project, start: str | None, end: str | None) -> None:
    """A project runs from its earliest fund start to its latest fund end."""
    if start and (project.start is None or start < project.start):
        project.start = start
    if end and (project.end is None or end > project.end):
        project.end = end


def _iso_date(value: Any) -> str | None:
    """`YYYY-MM-DD` from epoch milliseconds (JSON) or an ISO timestamp (XML).

    GtR stamps dates at midnight UK time, which is 23:00 UTC the day before in summer; rounding
    to the nearest UTC midnight gives back the UK date.
    """
    if value is None or isinstance(value, bool) or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, (int, float)) or text.lstrip("-").isdigit():
        return _nearest_day(int(float(text)) / 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        found = re.match(r"\d{4}-\d{2}-\d{2}", text)
        return found.group(0) if found else None
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return _nearest_day(moment.timestamp())


def _nearest_day(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc) + timedelta(hours=12)
    return moment.date().isoformat()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """A scalar as text; the text of an XML element that had attributes; None otherwise."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _clean_text(value: Any) -> str | None:
    return clean(_text(value))


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
