"""What a search asks and answers: the contract shared by the CLI, the JSON API and the pages.

The contract is owned here, not by a backend: the facets, ranges, kinds and sorts a request may
name, which every searcher (`searcher.Searcher`) answers. `filters` are exact values (any of the
values within one facet, all facets together), `ranges` are inclusive numeric bounds (a year or
age span matches where it overlaps the asked one).

A request is bounded in size: it is cached with its results, and an unbounded one (a query or
filter list of megabytes, from `POST /api/search`) let one client fill the server's memory.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, Strict, StrictFloat, StringConstraints
from pydantic.config import JsonDict

Mode = Literal["hybrid", "lexical", "semantic"]
Sort = Literal["relevance", "recent", "sample_size", "variables"]

KINDS = ("study", "dataset", "variable", "instrument", "question", "project", "output", "organisation",
         "person")
# the facets of the record a hit is grouped under; `kind` is each matched row's own
VALUE_FACETS = ("source", "catalogue", "country", "language", "topic", "design", "resource_type",
                "funder", "questionnaire")
FACETS = ("kind", *VALUE_FACETS)
RANGES = ("year", "age", "sample_size", "variables")  # year and age match an overlapping span
MAX_PAGE_SIZE = 100
MAX_QUERY = 1000  # characters
MAX_FILTER_VALUES = 50  # per facet
MAX_VALUE = 200  # characters of one filter value
MAX_CURSOR = 1000
MAX_ID = 500


def encodable(text: str) -> str:
    """Text that UTF-8 can write: a JSON body's `\\ud800` escape gives Python a lone surrogate,
    which the index and every response would fail on (a 500)."""
    text.encode("utf-8")  # UnicodeEncodeError is a ValueError: pydantic reports it on the field
    return text


Text = Annotated[str, AfterValidator(encodable)]
FilterValues = Annotated[list[Annotated[Text, StringConstraints(max_length=MAX_VALUE)]],
                         Field(max_length=MAX_FILTER_VALUES)]
# Numbers, not numeric text ("1990"), even where the rest of a request may be coerced; a JSON
# list is accepted for the pair.
Bounds = Annotated[tuple[StrictFloat | None, StrictFloat | None], Strict(False)]
# The schema names the facets, ranges and kinds; the search service refuses others by name.
FILTERS_SCHEMA: JsonDict = {"propertyNames": {"enum": list(FACETS)},
                  "properties": {"kind": {"type": "array", "maxItems": MAX_FILTER_VALUES,
                                          "items": {"enum": list(KINDS)}}}}
RANGES_SCHEMA: JsonDict = {"propertyNames": {"enum": list(RANGES)},
                 "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2,
                                          "items": {"type": ["number", "null"]},
                                          "description": "[min, max], either may be null"}}


class SearchRequest(BaseModel):
    q: Annotated[Text, StringConstraints(max_length=MAX_QUERY)] = ""
    mode: Mode = "hybrid"
    semantic_weight: float = Field(0.5, ge=0.0, le=1.0)  # 0 = lexical only, 1 = semantic only
    filters: dict[str, FilterValues] = Field(default_factory=dict, max_length=len(FACETS),
                                             json_schema_extra=FILTERS_SCHEMA)
    ranges: dict[str, Bounds] = Field(default_factory=dict, max_length=len(RANGES),
                                      json_schema_extra=RANGES_SCHEMA)
    sort: Sort = "relevance"
    size: int = Field(10, ge=1, le=MAX_PAGE_SIZE)
    # opaque, from SearchResults.next_cursor
    cursor: Annotated[str, StringConstraints(max_length=MAX_CURSOR)] | None = None
    # a record id: rank by closeness to it instead of q
    similar_to: Annotated[Text, StringConstraints(max_length=MAX_ID)] | None = None
    # a record id: only that record's own items (a study's variables, an instrument's questions),
    # so its page can show which of them fit the query that led there
    within: Annotated[Text, StringConstraints(max_length=MAX_ID)] | None = None
    group: bool = True  # variables grouped under their study; False lists every record as a hit
    collapse: bool = True  # versions of one instrument or study shown as one hit
    spellcheck: bool = True  # a word the index has never seen is corrected (False: search as typed)
    variables_per_hit: int = Field(5, ge=0, le=50)
    facets: bool = True


class MatchedField(BaseModel):
    field: str  # title, description, keywords, question, categories...
    terms: list[str]  # the query terms found in it
    snippet: str | None = None  # plain text; callers escape it on output


class Explanation(BaseModel):
    lexical_rank: int | None = None
    lexical_score: float | None = None
    semantic_rank: int | None = None
    semantic_score: float | None = None  # cosine similarity
    fused_score: float  # the hand rule's: weighted fusion, then the item evidence (grouping.py)
    learned_score: float | None = None  # the learned ranker's, for a hit it placed (ranker.py)
    fields: list[MatchedField] = Field(default_factory=list)
    matched_variables: int = 0
    named: bool = False  # the query is, or holds, one of the record's exact names (PHQ-9, ZA5300)
    summary: str  # one readable sentence: why this hit is here


class VariableHit(BaseModel):
    id: str
    kind: str = "variable"  # or "question": the items of a questionnaire
    name: str | None = None
    label: str
    question: str | None = None
    score: float
    explanation: Explanation


class Version(BaseModel):
    id: str
    title: str


class Hit(BaseModel):
    id: str
    kind: str
    title: str
    snippet: str | None = None
    url: str | None = None
    catalogues: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    start_year: int | None = None
    end_year: int | None = None
    sample_size: int | None = None
    variable_count: int | None = None  # what the source states or the items listed, the larger
    item_count: int | None = None  # the variables or questions its page lists
    score: float  # orders the hits by relevance: fused, or above them where the learned ranker placed it
    explanation: Explanation
    variables: list[VariableHit] = Field(default_factory=list)  # the matching ones, best first
    versions: int = 1  # how many versions of one instrument or study this hit stands for
    other_versions: list[Version] = Field(default_factory=list)  # the others that fit, best first


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResults(BaseModel):
    request: SearchRequest
    total: int  # hits (studies after grouping) that fit the query and filters
    total_exact: bool = True  # False: a retriever reached its depth, there may be more
    nothing_fits: bool = False  # no record fits: `hits` are the nearest records, offered as such
    searched_for: str | None = None  # the corrected query searched instead of `request.q`
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    facets_uncounted: list[str] = Field(default_factory=list)  # ran out of time; not zero
    next_cursor: str | None = None
    offset: int = 0  # hits before this page, so a page can say "21-30 of 57"
    # the encoders that read the query: the index model, or both for an English query on an
    # index that keeps two
    model: str
    took_ms: float
