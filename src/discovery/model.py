"""The records of the catalogue and the typed relations between them.

Every record keeps the language its texts came in, its identifiers (which become aliases in the
catalogue), and where it came from (provenance). Each kind maps to and from schema.org so that
pages can emit JSON-LD and JSON-LD sources can be read back without a second model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from slugify import slugify

MAX_SLUG = 80


class Kind(StrEnum):
    STUDY = "study"
    DATASET = "dataset"
    VARIABLE = "variable"
    INSTRUMENT = "instrument"
    QUESTION = "question"
    PROJECT = "project"
    OUTPUT = "output"
    ORGANISATION = "organisation"
    PERSON = "person"


# Records that are items of a study or an instrument: listed under their parent, matched one by one.
ITEM_KINDS = (Kind.VARIABLE.value, Kind.QUESTION.value)


class Predicate(StrEnum):
    """Typed edges of the graph, named from the subject's side."""

    HAS_PART = "hasPart"  # study/dataset -> child dataset
    HAS_VARIABLE = "hasVariable"  # study/dataset -> variable
    HAS_QUESTION = "hasQuestion"  # instrument -> question
    USES_INSTRUMENT = "usesInstrument"  # study/dataset -> instrument
    MEASURED_BY = "measuredBy"  # variable -> question
    FUNDED_BY = "fundedBy"  # study/dataset -> project, project -> funder organisation
    HAS_OUTPUT = "hasOutput"  # project -> output
    LED_BY = "ledBy"  # project -> organisation
    HAS_PARTICIPANT = "hasParticipant"  # project -> organisation (collaborator, partner)
    HAS_INVESTIGATOR = "hasInvestigator"  # project -> person
    CREATED_BY = "createdBy"  # any -> person/organisation
    PUBLISHED_BY = "publishedBy"  # any -> organisation
    AFFILIATED_WITH = "affiliatedWith"  # person -> organisation
    SAME_AS = "sameAs"  # any -> any, same real-world thing


def slug(text: str, max_length: int = MAX_SLUG) -> str:
    """A readable, URL-safe id fragment: lower case, ASCII, hyphens, cut at a word boundary."""
    return slugify(text, max_length=max_length, word_boundary=True, save_order=True) or "untitled"


def child_id(parent_id: str, name: str) -> str:
    """Id of a record that lives inside another (a variable in a study, a question in an
    instrument, an outcome of a grant): `parent.child`, readable and stable across re-ingests."""
    return f"{parent_id}.{slug(name, max_length=60)}"


def content_hash(data: bytes | str) -> str:
    """SHA-256 of the bytes, the key under which a raw source document is kept."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# Catalogue study numbers, with the prefix each scheme writes them with (GESIS ZA2800, FSD3271).
STUDY_NUMBER_PREFIXES = {"ukds": "", "gesis": "za", "fsd": "fsd", "icpsr": ""}
# Identifiers that name exactly one study or grant: two records disagreeing on one are different.
STRONG_SCHEMES = frozenset({"doi", "grant", "gtr", "ckan", "harmony", *STUDY_NUMBER_PREFIXES})


def normalise_grant(reference: str) -> str:
    """`es/t005912/1 ` and `ES/T005912/1` are one grant (spacing collapsed, case folded)."""
    return " ".join(reference.split()).upper()


def study_number_alias(scheme: str, number: str) -> str:
    """`gesis:ZA02800`, `gesis:2800` -> `gesis:za2800`: the number without leading zeros, with the
    prefix the scheme writes it with."""
    prefix = STUDY_NUMBER_PREFIXES[scheme]
    number = number.strip().lower()
    return f"{scheme}:{prefix}{number.removeprefix(prefix).lstrip('0') or '0'}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Text(Strict):
    """A piece of text in one language (None when the source did not say)."""

    value: str
    lang: str | None = None


def main_text(texts: list[Text]) -> Text | None:
    """The text a record is shown by: English when there is one, else the first."""
    for text in texts:
        if text.lang and text.lang.lower().split("-")[0] in ("en", "eng"):
            return text
    return texts[0] if texts else None


class Identifier(Strict):
    """An identifier in a scheme: doi, url, ukds, gesis, fsd, grant, oai, isbn, orcid, local..."""

    scheme: str
    value: str

    def alias(self) -> str:
        """The normalised form stored in the alias table, e.g. `doi:10.5255/ukda-sn-857133`,
        `gesis:za2800` (also for `ZA02800` or `2800`), `grant:es/t005912/1`."""
        value = self.value.strip()
        if self.scheme == "doi":
            value = normalise_doi(value)
        elif self.scheme == "grant":
            value = normalise_grant(value)
        elif self.scheme in STUDY_NUMBER_PREFIXES:
            return study_number_alias(self.scheme, value)
        return f"{self.scheme}:{value.lower()}"


DOI_RE = re.compile(r"10\.\d{4,9}/[^\s\"<>]+", re.I)


def normalise_doi(text: str) -> str:
    """`http://dx.doi.org/10.5255/UKDA-SN-857133` and `doi:10.5255/...` both become `10.5255/...`."""
    match = DOI_RE.search(text)
    return match.group(0).rstrip(".,;)").lower() if match else text.strip().lower()


class Agent(Strict):
    """A person or organisation named inside a record (creator, publisher, funder)."""

    type: Literal["Person", "Organization"] = "Organization"
    name: str
    affiliation: str | None = None
    identifier: str | None = None  # ORCID, ROR, grant agency id
    role: str | None = None


class Link(Strict):
    url: str
    name: str | None = None
    rel: str | None = None


class Category(Strict):
    """One response category of a variable or question."""

    value: str | None = None
    label: str
    lang: str | None = None
    missing: bool = False
    frequency: int | None = None


class Provenance(Strict):
    """Where a record came from: the parser, the file or URL, when, and the raw bytes' hash."""

    source: str  # parser/format name, e.g. "ddi-codebook-2.5", "gtr-page"
    location: str  # path or URL of the document
    fetched_at: datetime = Field(default_factory=utcnow)
    content_hash: str  # of the whole source document, which the catalogue keeps
    record_key: str | None = None  # where in the document, e.g. an OAI identifier or var ID
    catalogue: str | None = None  # the catalogue that published it, e.g. "UK Data Service"


class Record(Strict):
    """Fields every kind shares. `titles`/`descriptions` hold every language; `title` is the main one."""

    id: str
    kind: Kind
    title: str
    titles: list[Text] = Field(default_factory=list)
    description: str | None = None
    descriptions: list[Text] = Field(default_factory=list)
    identifiers: list[Identifier] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    url: str | None = None
    language: list[str] = Field(default_factory=list)
    provenance: Provenance
    extra: dict[str, Any] = Field(default_factory=dict)  # source fields we keep but do not model

    def aliases(self) -> list[str]:
        return sorted({identifier.alias() for identifier in self.identifiers})

    def to_schema_org(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "@context": "https://schema.org/",
            "@type": SCHEMA_TYPES[self.kind],
            "@id": self.url or self.id,
            "name": self.title,
        }
        _put(data, "description", self.description)
        _put(data, "keywords", self.keywords)
        _put(data, "url", self.url)
        _put(data, "inLanguage", self.language)
        _put(data, "identifier", [_identifier_to_schema(i) for i in self.identifiers])
        alternates = [t.value for t in self.titles if t.value != self.title]
        _put(data, "alternateName", alternates)
        return data


class Study(Record):
    """A study or dataset as catalogues describe it (they use the words interchangeably)."""

    kind: Literal[Kind.STUDY, Kind.DATASET] = Kind.STUDY
    creators: list[Agent] = Field(default_factory=list)
    publisher: Agent | None = None
    funders: list[Agent] = Field(default_factory=list)
    grant_numbers: list[str] = Field(default_factory=list)
    temporal_coverage: str | None = None  # ISO 8601 interval where known, e.g. 2021-04-01/2022-12-01
    spatial_coverage: list[str] = Field(default_factory=list)
    age_coverage: str | None = None
    sample_size: int | None = None
    study_design: list[str] = Field(default_factory=list)
    resource_type: str | None = None
    topics: list[str] = Field(default_factory=list)
    data_catalogs: list[Link] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    license: str | None = None
    date_published: str | None = None
    version: str | None = None
    universe: list[Text] = Field(default_factory=list)
    methods: dict[str, list[str]] = Field(default_factory=dict)  # collection mode, sampling...
    instruments: list[str] = Field(default_factory=list)  # names as the source lists them
    variable_count: int | None = None
    distributions: list[Link] = Field(default_factory=list)

    def to_schema_org(self) -> dict[str, Any]:
        data = super().to_schema_org()
        data["@type"] = "Dataset"
        _put(data, "creator", [_agent_to_schema(a) for a in self.creators])
        if self.publisher:
            data["publisher"] = _agent_to_schema(self.publisher)
        _put(data, "funder", [_agent_to_schema(a) for a in self.funders])
        _put(data, "temporalCoverage", self.temporal_coverage)
        _put(data, "spatialCoverage", [{"@type": "Place", "name": p} for p in self.spatial_coverage])
        _put(data, "license", self.license)
        _put(data, "datePublished", self.date_published)
        _put(data, "version", self.version)
        _put(data, "includedInDataCatalog",
             [{"@type": "DataCatalog", "name": c.name or c.url, "url": c.url} for c in self.data_catalogs])
        _put(data, "sameAs", [link.url for link in self.links])
        _put(data, "distribution", [{"@type": "DataDownload", "contentUrl": d.url,
                                     "encodingFormat": d.name} for d in self.distributions])
        _put(data, "measurementTechnique", self.methods.get("collection_mode", []))
        about = list(dict.fromkeys(self.topics))
        _put(data, "about", [{"@type": "DefinedTerm", "name": t} for t in about])
        return data


class Variable(Record):
    """A variable of a study: its name, label, the question asked and its response categories."""

    kind: Literal[Kind.VARIABLE] = Kind.VARIABLE
    name: str
    study_id: str | None = None
    question_texts: list[Text] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    universe: list[Text] = Field(default_factory=list)
    concepts: list[str] = Field(default_factory=list)
    data_type: str | None = None
    instructions: list[Text] = Field(default_factory=list)

    @property
    def question_text(self) -> str | None:
        return self.question_texts[0].value if self.question_texts else None

    def to_schema_org(self) -> dict[str, Any]:
        data = super().to_schema_org()
        data["@type"] = "PropertyValue"
        data["propertyID"] = self.name
        _put(data, "description", self.question_text or self.description)
        return data


class Instrument(Record):
    """A questionnaire or measurement instrument, holding questions in order."""

    kind: Literal[Kind.INSTRUMENT] = Kind.INSTRUMENT
    question_count: int | None = None


class Question(Record):
    """One item of an instrument: its text (title) and response options."""

    kind: Literal[Kind.QUESTION] = Kind.QUESTION
    instrument_id: str | None = None
    number: str | None = None
    options: list[Category] = Field(default_factory=list)
    position: int | None = None

    def to_schema_org(self) -> dict[str, Any]:
        data = super().to_schema_org()
        data["text"] = self.title
        _put(data, "suggestedAnswer", [{"@type": "Answer", "text": o.label} for o in self.options])
        return data


class Project(Record):
    """A research grant, as Gateway to Research and funders describe it."""

    kind: Literal[Kind.PROJECT] = Kind.PROJECT
    grant_reference: str | None = None
    lead_organisation: str | None = None
    department: str | None = None
    abstract: str | None = None
    technical_abstract: str | None = None
    planned_impact: str | None = None
    funder: str | None = None
    status: str | None = None
    category: str | None = None
    start: str | None = None
    end: str | None = None
    amount: float | None = None
    currency: str | None = None
    subjects: list[str] = Field(default_factory=list)
    people: list[Agent] = Field(default_factory=list)

    def to_schema_org(self) -> dict[str, Any]:
        data = super().to_schema_org()
        data["@type"] = "MonetaryGrant" if self.amount is not None else "ResearchProject"
        _put(data, "funder", self.funder and {"@type": "Organization", "name": self.funder})
        _put(data, "sponsor", self.lead_organisation and
             {"@type": "Organization", "name": self.lead_organisation})
        _put(data, "startDate", self.start)
        _put(data, "endDate", self.end)
        if self.amount is not None:
            data["amount"] = {"@type": "MonetaryAmount", "value": self.amount,
                              "currency": self.currency or "GBP"}
        return data


class Output(Record):
    """Something a project produced or did: publication, engagement activity, dataset, software."""

    kind: Literal[Kind.OUTPUT] = Kind.OUTPUT
    output_type: str  # e.g. "engagement activity", "publication", "research database and model"
    project_id: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)  # labelled fields as the source gives them
    years: list[str] = Field(default_factory=list)

    def to_schema_org(self) -> dict[str, Any]:
        data = super().to_schema_org()
        data["@type"] = "ScholarlyArticle" if self.output_type == "publication" else "CreativeWork"
        data["additionalType"] = self.output_type
        _put(data, "temporalCoverage", "/".join(self.years[:1] + self.years[-1:]) if self.years else None)
        return data


class Organisation(Record):
    kind: Literal[Kind.ORGANISATION] = Kind.ORGANISATION
    address: str | None = None
    country: str | None = None


class Person(Record):
    kind: Literal[Kind.PERSON] = Kind.PERSON
    given_name: str | None = None
    family_name: str | None = None
    orcid: str | None = None


AnyRecord = Annotated[
    Union[Study, Variable, Instrument, Question, Project, Output, Organisation, Person],
    Field(discriminator="kind"),
]
RECORD_ADAPTER: TypeAdapter[Record] = TypeAdapter(AnyRecord)

SCHEMA_TYPES = {
    Kind.STUDY: "Dataset", Kind.DATASET: "Dataset", Kind.VARIABLE: "PropertyValue",
    Kind.INSTRUMENT: "Survey", Kind.QUESTION: "Question", Kind.PROJECT: "ResearchProject",
    Kind.OUTPUT: "CreativeWork", Kind.ORGANISATION: "Organization", Kind.PERSON: "Person",
}


class Relation(Strict):
    """A typed edge with the evidence that made it and how sure we are."""

    subject: str
    predicate: Predicate
    object: str
    evidence: str | None = None
    confidence: float = 1.0


class Deletion(Strict):
    """A source says a record is gone (OAI-PMH `status="deleted"`): remove it by this alias."""

    alias: str
    location: str


class Problem(Strict):
    """One record inside a document that failed; the rest of the document still counts."""

    record: str | None
    reason: str
    raw: str | None = None


class ParseResult(Strict):
    """What a parser makes of one document."""

    records: list[AnyRecord] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    deletions: list[Deletion] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)

    def extend(self, other: "ParseResult") -> None:
        self.records.extend(other.records)
        self.relations.extend(other.relations)
        self.deletions.extend(other.deletions)
        self.problems.extend(other.problems)


def record_from_json(data: dict[str, Any] | str | bytes) -> Record:
    """Rebuild the right record class from stored JSON."""
    if isinstance(data, (str, bytes)):
        return RECORD_ADAPTER.validate_json(data)
    return RECORD_ADAPTER.validate_python(data)


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        data[key] = value


def _agent_to_schema(agent: Agent) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": agent.type, "name": agent.name}
    _put(data, "identifier", agent.identifier)
    if agent.affiliation and agent.type == "Person":  # schema.org gives affiliation to people only
        data["affiliation"] = {"@type": "Organization", "name": agent.affiliation}
    return data


def _identifier_to_schema(identifier: Identifier) -> dict[str, Any] | str:
    if identifier.scheme == "doi":
        return f"https://doi.org/{normalise_doi(identifier.value)}"
    if identifier.scheme == "url":
        return identifier.value
    return {"@type": "PropertyValue", "propertyID": identifier.scheme, "value": identifier.value}


# schema.org -> records: the reverse of `to_schema_org`, so JSON-LD sources need no second model.

SCHEMA_ORG_KINDS: dict[str, Kind] = {
    "Dataset": Kind.DATASET, "PropertyValue": Kind.VARIABLE, "Survey": Kind.INSTRUMENT,
    "Question": Kind.QUESTION, "MonetaryGrant": Kind.PROJECT, "Grant": Kind.PROJECT,
    "ResearchProject": Kind.PROJECT, "Project": Kind.PROJECT, "CreativeWork": Kind.OUTPUT,
    "ScholarlyArticle": Kind.OUTPUT, "Article": Kind.OUTPUT, "Book": Kind.OUTPUT,
    "Chapter": Kind.OUTPUT, "Report": Kind.OUTPUT, "Thesis": Kind.OUTPUT,
    "SoftwareSourceCode": Kind.OUTPUT, "SoftwareApplication": Kind.OUTPUT,
    "Organization": Kind.ORGANISATION, "ResearchOrganization": Kind.ORGANISATION,
    "CollegeOrUniversity": Kind.ORGANISATION, "EducationalOrganization": Kind.ORGANISATION,
    "GovernmentOrganization": Kind.ORGANISATION, "NGO": Kind.ORGANISATION,
    "Corporation": Kind.ORGANISATION, "FundingAgency": Kind.ORGANISATION, "Person": Kind.PERSON,
}
_SCHEMA_PREFIX = re.compile(r"^(?:https?://schema\.org/|schema:)")
_ORCID_RE = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
_MIDNIGHT = re.compile(r"T00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?(?=/|$)")
_YEAR = re.compile(r"\b\d{4}\b")
_EXTRA_MAX_CHARS = 500
_COMMON_KEYS = frozenset({"name", "headline", "alternateName", "description", "identifier",
                          "sameAs", "url", "keywords", "inLanguage"})
_KIND_KEYS: dict[Kind, frozenset[str]] = {
    Kind.DATASET: frozenset({
        "creator", "author", "publisher", "funder", "sponsor", "funding", "temporalCoverage",
        "spatialCoverage", "typicalAgeRange", "additionalType", "about", "includedInDataCatalog",
        "license", "datePublished", "version", "measurementTechnique", "variableMeasured",
        "distribution", "contentUrl"}),
    Kind.VARIABLE: frozenset({"propertyID"}),
    Kind.INSTRUMENT: frozenset(),
    Kind.QUESTION: frozenset({"text", "suggestedAnswer", "position"}),
    Kind.PROJECT: frozenset({"funder", "sponsor", "startDate", "endDate", "amount", "about"}),
    Kind.OUTPUT: frozenset({"additionalType", "temporalCoverage", "datePublished"}),
    Kind.ORGANISATION: frozenset({"address"}),
    Kind.PERSON: frozenset({"givenName", "familyName"}),
}


def schema_org_kind(data: dict[str, Any]) -> Kind | None:
    """The record kind a schema.org node describes; None for types that are not records
    (WebSite, BreadcrumbList, DataDownload...), which readers skip."""
    for type_name in _schema_strings(data.get("@type")):
        kind = SCHEMA_ORG_KINDS.get(_SCHEMA_PREFIX.sub("", type_name))
        if kind:
            return kind
    return None


def record_from_schema_org(data: dict[str, Any], *, id: str | None = None,
                           provenance: Provenance) -> AnyRecord:
    """The record a schema.org node describes, the reverse of `to_schema_org`.

    `id=None` makes the id from the name. Texts are taken as given: readers strip markup first.
    Raises ValueError for a node that is no kind of record or has no name.
    """
    kind = schema_org_kind(data)
    if kind is None:
        raise ValueError(f"schema.org type {data.get('@type')!r} is not a kind of record")
    titles = [Text(value=" ".join(t.value.split()), lang=t.lang) for t in _titles(data)]
    main_title = main_text(titles)
    if main_title is None:
        raise ValueError(f"schema.org {data.get('@type')} has no name")
    title = main_title.value
    descriptions = _schema_texts(data.get("description"))
    description = main_text(descriptions)
    fields: dict[str, Any] = {
        "id": id or slug(title), "title": title, "titles": titles,
        "description": description.value if description else None,
        "descriptions": descriptions, "identifiers": _schema_identifiers(data),
        "keywords": _schema_keywords(data.get("keywords")),
        "url": _first_string(data.get("url")), "language": _languages(data.get("inLanguage")),
        "provenance": provenance, "extra": _schema_extra(data, _COMMON_KEYS | _KIND_KEYS[kind]),
    }
    return _SCHEMA_BUILDERS[kind](data, fields)


def agents_from_schema_org(value: Any, role: str | None = None) -> list[Agent]:
    """Persons and organisations from a creator/publisher/funder value: a name, a typed node, or
    a list of either. An untyped node with given or family name is a person."""
    agents: list[Agent] = []
    for item in as_list(value):
        if isinstance(item, str) and item.strip():
            agents.append(Agent(name=" ".join(item.split()), role=role))
        elif isinstance(item, dict):
            name = _first_string(item.get("name")) or _first_string(item.get("legalName")) \
                or _person_name(item)
            if not name:
                continue
            person = "Person" in _schema_strings(item.get("@type")) or \
                bool(item.get("givenName") or item.get("familyName"))
            identifier = _plain_value(item.get("identifier")) or _first_string(item.get("@id"))
            agents.append(Agent(type="Person" if person else "Organization", name=name,
                                affiliation=_first_name(item.get("affiliation")),
                                identifier=identifier, role=role))
    return agents


def _study_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Study:
    funding = [grant for grant in as_list(data.get("funding")) if isinstance(grant, dict)]
    funders = agents_from_schema_org(data.get("funder")) + \
        agents_from_schema_org(data.get("sponsor"), role="sponsor") + \
        [agent for grant in funding for agent in agents_from_schema_org(grant.get("funder"))]
    catalogs = [c for c in as_list(data.get("includedInDataCatalog")) if isinstance(c, dict)]
    unlinked = [_first_string(c.get("name")) for c in catalogs if not _catalog_url(c)]
    if any(unlinked):
        fields["extra"]["data_catalogs"] = [name for name in unlinked if name]
    places = as_list(data.get("spatialCoverage"))
    geo = [p["geo"] for p in places if isinstance(p, dict) and isinstance(p.get("geo"), dict)]
    if geo:
        fields["extra"]["geo"] = geo
    variables = data.get("variableMeasured")
    techniques = _names(data.get("measurementTechnique"))
    return Study(
        kind=Kind.DATASET, **fields,
        creators=unique_agents(agents_from_schema_org(data.get("creator"))
                                + agents_from_schema_org(data.get("author"))),
        publisher=next(iter(agents_from_schema_org(data.get("publisher"))), None),
        funders=unique_agents(funders),
        grant_numbers=unique([v for g in funding if (v := _plain_value(g.get("identifier")))]),
        temporal_coverage=_interval(data.get("temporalCoverage")),
        spatial_coverage=unique([name for name in map(_place_name, places) if name]),
        age_coverage=_first_string(data.get("typicalAgeRange")),
        resource_type=_first_string(data.get("additionalType")),
        topics=_names(data.get("about")),
        data_catalogs=[Link(url=url, name=_first_string(c.get("name")))
                       for c in catalogs if (url := _catalog_url(c))],
        links=[Link(url=url) for url in unique(_schema_strings(data.get("sameAs")))],
        license=_license(data.get("license")),
        date_published=_first_string(data.get("datePublished")),
        version=_first_string(data.get("version")),
        methods={"collection_mode": techniques} if techniques else {},
        variable_count=len(variables) if isinstance(variables, list) else None,
        distributions=_distributions(data),
    )


def _variable_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Variable:
    return Variable(**fields, name=_first_string(data.get("propertyID")) or fields["title"])


def _instrument_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Instrument:
    return Instrument(**fields)


def _question_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Question:
    position = data.get("position")
    return Question(**fields, options=[Category(label=label)
                                       for label in _names(data.get("suggestedAnswer"))],
                    position=position if isinstance(position, int) else None)


def _project_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Project:
    amount = data.get("amount")
    value, currency = (amount.get("value"), amount.get("currency")) \
        if isinstance(amount, dict) else (amount, None)
    grants = [i.value for i in fields["identifiers"] if i.scheme == "grant"]
    return Project(**fields, grant_reference=grants[0] if grants else None,
                   funder=_first_name(data.get("funder")),
                   lead_organisation=_first_name(data.get("sponsor")),
                   start=_first_string(data.get("startDate")),
                   end=_first_string(data.get("endDate")), amount=_number(value),
                   currency=_first_string(currency), subjects=_names(data.get("about")))


def _output_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Output:
    type_name = _SCHEMA_PREFIX.sub("", next(iter(_schema_strings(data.get("@type"))), ""))
    output_type = _first_string(data.get("additionalType")) or (
        "publication" if type_name in ("ScholarlyArticle", "Article")
        else re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower())
    years = _YEAR.findall(_first_string(data.get("temporalCoverage"))
                          or _first_string(data.get("datePublished")) or "")
    return Output(**fields, output_type=output_type, years=unique(years))


def _organisation_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Organisation:
    address = data.get("address")
    if isinstance(address, dict):
        parts = [_first_name(address.get(key)) for key in
                 ("streetAddress", "addressLocality", "addressRegion", "postalCode",
                  "addressCountry")]
        return Organisation(**fields, address=", ".join(p for p in parts if p) or None,
                            country=_first_name(address.get("addressCountry")))
    return Organisation(**fields, address=_first_string(address))


def _person_from_schema(data: dict[str, Any], fields: dict[str, Any]) -> Person:
    ids = _schema_strings(data.get("@id")) + _schema_strings(data.get("sameAs")) + \
        [i.value for i in fields["identifiers"]]
    orcid = next((m.group(0) for v in ids if "orcid" in v.lower() and (m := _ORCID_RE.search(v))),
                 None)
    return Person(**fields, given_name=_first_string(data.get("givenName")),
                  family_name=_first_string(data.get("familyName")), orcid=orcid)


_SCHEMA_BUILDERS: dict[Kind, Callable[[dict[str, Any], dict[str, Any]], AnyRecord]] = {
    Kind.DATASET: _study_from_schema, Kind.VARIABLE: _variable_from_schema,
    Kind.INSTRUMENT: _instrument_from_schema, Kind.QUESTION: _question_from_schema,
    Kind.PROJECT: _project_from_schema, Kind.OUTPUT: _output_from_schema,
    Kind.ORGANISATION: _organisation_from_schema, Kind.PERSON: _person_from_schema,
}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _schema_strings(value: Any) -> list[str]:
    """Non-empty strings of a value that may be a string, number, `@value` node or list."""
    found = []
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("@value")
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, str) and item.strip():
            found.append(item.strip())
    return found


def _first_string(value: Any) -> str | None:
    strings = _schema_strings(value)
    return strings[0] if strings else None


def _names(value: Any) -> list[str]:
    """Names of things given as text or as nodes (DefinedTerm, Answer, Organization...)."""
    names = []
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("name") or item.get("text") or item.get("@value")
        names.extend(_schema_strings(item))
    return unique(names)


def _first_name(value: Any) -> str | None:
    names = _names(value)
    return names[0] if names else None


def _plain_value(value: Any) -> str | None:
    """A value given as text or as a PropertyValue."""
    for item in as_list(value):
        text = _first_string(item.get("value") if isinstance(item, dict) else item)
        if text:
            return text
    return None


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def unique_agents(agents: list[Agent]) -> list[Agent]:
    """One agent per name: schema.org pages often give the same party as creator and author."""
    by_name: dict[str, Agent] = {}
    for agent in agents:
        by_name.setdefault(agent.name, agent)
    return list(by_name.values())


def _schema_texts(value: Any) -> list[Text]:
    texts = []
    for item in as_list(value):
        text, lang = (item.get("@value"), item.get("@language")) if isinstance(item, dict) \
            else (item, None)
        if isinstance(text, str) and text.strip():
            texts.append(Text(value=text.strip(), lang=lang))
    return texts


def _titles(data: dict[str, Any]) -> list[Text]:
    titles = _schema_texts(data.get("name")) or _schema_texts(data.get("headline")) \
        or _schema_texts(data.get("text"))
    if not titles and (name := _person_name(data)):
        titles = [Text(value=name)]
    return titles + [t for t in _schema_texts(data.get("alternateName")) if t not in titles]


def _person_name(data: dict[str, Any]) -> str | None:
    parts = [_first_string(data.get("givenName")), _first_string(data.get("familyName"))]
    return " ".join(p for p in parts if p) or None


def _schema_keywords(value: Any) -> list[str]:
    """A list of keywords, or one comma-separated text (list items may contain commas)."""
    if isinstance(value, str):
        return unique([k.strip() for k in value.split(",") if k.strip()])
    return _names(value)


def _languages(value: Any) -> list[str]:
    codes = []
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("alternateName") or item.get("name")
        codes.extend(_schema_strings(item))
    return unique(codes)


def _doi(text: str) -> str | None:
    """The DOI in a text that is one (`10.…`, `doi:…`, a doi.org URL), else None."""
    if DOI_RE.search(text) and (text.startswith("10.") or "doi" in text.lower()):
        return normalise_doi(text)
    return None


def _schema_identifier(value: Any) -> Identifier | None:
    """A DOI, URL, PropertyValue (scheme from propertyID) or other text (scheme `local`)."""
    if isinstance(value, dict):
        text = _first_string(value.get("value")) or _first_string(value.get("@id")) \
            or _first_string(value.get("url"))
        scheme = (_first_string(value.get("propertyID")) or "").lower()
        if text and scheme and "doi" not in scheme:
            return Identifier(scheme=scheme.rstrip("/").rsplit("/", 1)[-1], value=text)
        value = text
    text = _first_string(value)
    if not text:
        return None
    doi = _doi(text)
    if doi:
        return Identifier(scheme="doi", value=doi)
    return Identifier(scheme="url" if text.startswith(("http://", "https://")) else "local",
                      value=text)


def _schema_identifiers(data: dict[str, Any]) -> list[Identifier]:
    """Identifiers from `identifier`, then `@id` and `url` (DOI or URL), then DOIs in `sameAs`."""
    found = [_schema_identifier(v) for v in as_list(data.get("identifier"))]
    for text in _schema_strings(data.get("@id")) + _schema_strings(data.get("url")):
        doi = _doi(text)
        if doi:
            found.append(Identifier(scheme="doi", value=doi))
        elif text.startswith(("http://", "https://")):
            found.append(Identifier(scheme="url", value=text))
    found += [Identifier(scheme="doi", value=doi)
              for text in _schema_strings(data.get("sameAs")) if (doi := _doi(text))]
    unique: dict[str, Identifier] = {}
    for identifier in found:
        if identifier:
            unique.setdefault(identifier.alias(), identifier)
    return list(unique.values())


def _schema_extra(data: dict[str, Any], mapped: frozenset[str]) -> dict[str, Any]:
    """Small unmapped values, kept so nothing a source says is silently lost."""
    return {key: value for key, value in data.items()
            if not key.startswith("@") and key not in mapped and value not in (None, "", [], {})
            and len(repr(value)) <= _EXTRA_MAX_CHARS}


def _interval(value: Any) -> str | None:
    """temporalCoverage with midnight timestamps cut to dates: `1986-01-01/1987-01-01`."""
    text = _first_string(value)
    return _MIDNIGHT.sub("", text) if text else None


def _place_name(value: Any) -> str | None:
    if isinstance(value, dict):
        geo = value.get("geo")
        return _first_string(value.get("name")) \
            or _first_string(geo.get("address") if isinstance(geo, dict) else None) \
            or _first_name(value.get("address"))
    return _first_string(value)


def _catalog_url(catalog: dict[str, Any]) -> str | None:
    return _first_string(catalog.get("url")) or _first_string(catalog.get("@id"))


def _license(value: Any) -> str | None:
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("url") or item.get("@id") or item.get("name") or item.get("text")
        if text := _first_string(item):
            return text
    return None


def _distributions(data: dict[str, Any]) -> list[Link]:
    links: dict[str, Link] = {}
    for item in as_list(data.get("distribution")):
        if isinstance(item, dict) and (url := _first_string(item.get("contentUrl"))
                                       or _first_string(item.get("url"))):
            name = _first_string(item.get("name")) or _first_string(item.get("encodingFormat"))
            links.setdefault(url, Link(url=url, name=name))
    for url in _schema_strings(data.get("contentUrl")):
        links.setdefault(url, Link(url=url))
    return list(links.values())


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None
