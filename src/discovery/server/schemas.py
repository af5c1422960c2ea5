"""Response bodies of the JSON API, so /docs shows what each route returns."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from discovery.search.models import FacetValue

# A (name, count) pair. Declared as a two-item array rather than a tuple: a tuple's
# `prefixItems` schema was read by schemathesis as an invalid draft-4 `items` list.
Count = Annotated[list[str | int], Field(min_length=2, max_length=2)]


class ErrorBody(BaseModel):
    status: int
    message: str
    hint: str | None = None
    record: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Neighbour(BaseModel):
    """A record at the other end of a relation, with how sure the link is and why."""

    id: str
    kind: str
    title: str
    predicate: str
    evidence: str | None = None
    confidence: float = 1.0


class Link(Neighbour):
    """A neighbour with the absolute URL of its page."""

    url: str


class Source(BaseModel):
    location: str
    source: str
    catalogue: str | None
    record_key: str | None
    fetched_at: str


class Grant(BaseModel):
    project: dict[str, Any]
    link: Link
    outputs: list[dict[str, Any]]


class ItemResponse(BaseModel):
    record: dict[str, Any] = Field(description="The merged record, as the catalogue stores it")
    url: str
    sources: list[Source] = Field(description="Every catalogue document that described it")
    variables: dict[str, Any]
    instruments: list[Link]
    children: list[Link]
    parents: list[Link]
    grants: list[Grant]
    other_relations: list[Link]
    jsonld: str
    citation: dict[str, str]


class VariablesPage(BaseModel):
    item: str
    q: str
    total: int = Field(description="Variables matching q")
    size: int
    cursor: str | None
    next_cursor: str | None
    variables: list[dict[str, Any]]


class ProjectResponse(BaseModel):
    record: dict[str, Any]
    url: str
    outputs: dict[str, list[dict[str, Any]]] = Field(description="Outcomes grouped by kind")
    datasets: list[Link]
    organisations: list[Link]
    people: list[Link]


class VariableResponse(BaseModel):
    record: dict[str, Any]
    url: str
    study: Link | None
    questions: list[Link]


class FacetsResponse(BaseModel):
    total: int = Field(description="Hits that fit the query and filters")
    total_exact: bool = Field(description="False: a retriever reached its depth, there may be more")
    facets: dict[str, list[FacetValue]]
    inexact: list[str] = Field(default_factory=list, description=(
        "Facets whose counts may fall short: counted among hits a retriever's depth cut short"))
    facets_uncounted: list[str] = Field(
        default_factory=list, description="Facets not counted because their time ran out")


class StatsResponse(BaseModel):
    totals: dict[str, int]
    kinds: dict[str, int]
    sources: list[Count] = Field(description="[source format, records] pairs, most first")
    catalogues: list[Count]
    topics: list[Count]
    countries: list[Count]
    years: list[Count]
    studies: int
    undated: int


class HarmoniseResponse(BaseModel):
    """The crosswalk as JSON: the same body `/api/harmonise.json` downloads."""

    model: str = Field(description="The embedding models the matcher used")
    threshold: float
    instruments: list[dict[str, Any]]
    clusters: list[dict[str, Any]] = Field(
        description="Groups of equivalent items, labelled by their most central member; polarity "
                    "-1 marks an item to reverse-code relative to the label, 0 an item whose "
                    "direction (or the label's) is unclear")
    matches: list[dict[str, Any]] = Field(
        description="Each item's best match in every other instrument at or above the threshold, "
                    "best first; score ranks and cuts them (for English pairs a weighted sum of "
                    "similarities learned from human-rated pairs); equivalence (the same question) "
                    "and relatedness (constructs that go together) are given too; polarity -1 "
                    "means reverse-code, +1 same direction, 0 direction unclear (never a guess)")


class MeasuredItem(BaseModel):
    id: str
    text: str
    score: float
    polarity: int = Field(description="+1 worded the same way as the question, -1 the other way "
                                      "round, 0 direction unclear")
    url: str


class MeasuredStudy(BaseModel):
    id: str
    kind: str
    title: str
    url: str
    best: float
    items: list[MeasuredItem]


class MeasuredResponse(BaseModel):
    q: str
    min_score: float
    candidates: int = Field(description="Variables and questions from search that were rescored")
    studies: list[MeasuredStudy]
