"""The records of the catalogue and the typed relations between them.

Every record keeps the language its texts came in, its identifiers (which become aliases in the
catalogue), and where it came from (provenance). Each kind maps to and from schema.org so that
pages can emit JSON-LD and JSON-LD sources can be read back without a second model.
"""

from __future__ import annotations

import hashlib
import re
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


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Text(Strict):
    """A piece of text in one language (None when the source did not say)."""

    value: str
    lang: str | None = None


class Identifier(Strict):
    """An identifier in a scheme: doi, url, ukds, gesis, fsd, grant, oai, isbn, orcid, local..."""

    scheme: str
    value: str

    def alias(self) -> str:
        """The normalised form stored in the alias table, e.g. `doi:10.5255/ukda-sn-857133`."""
        value = self.value.strip()
        if self.scheme == "doi":
            value = normalise_doi(value)
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
             [{"@type": "DataCatalog", "name": c.name, "url": c.url} for c in self.data_catalogs])
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
    if agent.affiliation:
        data["affiliation"] = {"@type": "Organization", "name": agent.affiliation}
    return data


def _identifier_to_schema(identifier: Identifier) -> dict[str, Any] | str:
    if identifier.scheme == "doi":
        return f"https://doi.org/{normalise_doi(identifier.value)}"
    if identifier.scheme == "url":
        return identifier.value
    return {"@type": "PropertyValue", "propertyID": identifier.scheme, "value": identifier.value}
