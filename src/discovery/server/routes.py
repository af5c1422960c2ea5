"""The JSON API under /api: search, facets, items and their variables, projects, variables,
records, stats, and harmonisation (a crosswalk between instruments; which studies measured a
question). Handlers translate HTTP to service calls and back; errors are JSON bodies (see
`errors.py`) with a message that names the parameter or record at fault."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints

from discovery.server import records
from discovery.server.harmonise_params import HarmoniseRequest, instruments_of
from discovery.server.schemas import (ErrorResponse, FacetsResponse, Grant, HarmoniseResponse, ItemResponse,
                                   Link, MeasuredItem, MeasuredResponse, MeasuredStudy, Neighbour,
                                   ProjectResponse, StatsResponse, VariableResponse, VariablesPage)
from discovery.server.search_params import (FILTER_PATTERN, MAX_FILTERS, RANGE_PATTERN, BadRequest,
                                            SearchBody, query_of, search_request)
from discovery.server.search_view import Addresses, SearchView, counted, search_view
from discovery.server.downloads import DOWNLOAD_TYPES, attachment, crosswalk_download
from discovery.server.limits import charge
from discovery.server.services import services_of
from discovery.server.urls import page_url, site_root, site_url
from discovery.export import citation, variables_table
from discovery.harmonise import crosswalk
from discovery.model import Kind, Record
from discovery.search.models import (MAX_CURSOR, MAX_ID, MAX_PAGE_SIZE, MAX_QUERY, MAX_VALUE, Mode,
                                     SearchRequest, Sort)

MAX_VARIABLES_PAGE = 200
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A request the schema allows but the server cannot "
                                                 "answer: a cursor from another query, a range whose "
                                                 "minimum is above its maximum, too many items in all"},
    404: {"model": ErrorResponse, "description": "No such record"},
    422: {"model": ErrorResponse, "description": "A parameter or body field is outside its schema"},
    503: {"model": ErrorResponse, "description": "Search index not built yet, models still loading, "
                                                 "or busy: see Retry-After"},
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The request body is over 2,000,000 bytes"}}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "Too many such requests from this address for "
                                                 "now: see Retry-After"}}
router = APIRouter(prefix="/api", responses=ERRORS)

Filters = Annotated[list[Annotated[str, StringConstraints(pattern=FILTER_PATTERN,
                                                          max_length=MAX_VALUE)]],
                    Query(max_length=MAX_FILTERS,
                          description="facet:value, repeatable, e.g. country:Finland or kind:study")]
Ranges = Annotated[list[Annotated[str, StringConstraints(pattern=RANGE_PATTERN, max_length=100)]],
                   Query(max_length=MAX_FILTERS,
                         description="name:min:max, a bound may be empty, e.g. year:1990:2000")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR,
                                     description="next_cursor of the previous page")]
def link(request: Request, neighbour: Neighbour) -> Link:
    return Link(**neighbour.model_dump(), url=page_url(request, neighbour.kind, neighbour.id))


def record_json(record: Record) -> dict[str, Any]:
    """A record as the API returns it (provenance is shown as `sources`)."""
    return record.model_dump(mode="json", exclude={"provenance"})


# ---- search ------------------------------------------------------------------------------------

def searched(
        request: Request,
        q: Annotated[str, Query(max_length=MAX_QUERY, description="Query text")] = "",
        mode: Mode = "hybrid",
        semantic_weight: Annotated[float, Query(ge=0, le=1)] = 0.5,
        filter: Filters = [],  # noqa: B006
        range: Ranges = [],  # noqa: B006
        sort: Sort = "relevance",
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
        cursor: Cursor = None,
        similar_to: Annotated[str | None, Query(max_length=MAX_ID,
                                                description="Rank by closeness to this record")] = None,
        within: Annotated[str | None, Query(max_length=MAX_ID, description="Only this record's own "
                                            "items: a study's variables, an instrument's questions")
                          ] = None,
        group: bool = True,
        collapse: Annotated[bool, Query(description="Versions of one instrument as one hit")] = True,
        spellcheck: Annotated[bool, Query(description="Correct words the index has never seen")] = True,
        variables_per_hit: Annotated[int, Query(ge=0, le=50)] = 5,
        facets: bool = True) -> SearchRequest:
    """The search a query string asks for. The parameters declared here are the schema and its
    first check (422); the request is then read by the one parser the page and the CLI use."""
    return search_request(request.query_params.multi_items())


def addresses(request: Request) -> Addresses:
    """Where the API's search links lead: to itself, and to absolute page URLs."""
    return Addresses(search=site_url(request, "/api/search"), root=site_root(request))


@router.get("/search", response_model=SearchView, tags=["search"])
def search_get(request: Request, search: Annotated[SearchRequest, Depends(searched)]) -> SearchView:
    """Search studies, datasets and variables. Every field of the search service's request is a
    parameter; the same request as JSON can be POSTed. The answer is what the search page shows:
    each facet value with its toggle link, the chosen filters with their removal links, and the
    pager with its first, previous and next links."""
    services = services_of(request)
    return search_view(services, search, services.search(search), request.query_params.multi_items(),
                       addresses(request))


@router.post("/search", response_model=SearchView, tags=["search"], responses=TOO_LARGE)
def search_post(request: Request, body: SearchBody) -> SearchView:
    """The search as a JSON body; its links are the same search as a query string."""
    services = services_of(request)
    return search_view(services, body, services.search(body), query_of(body), addresses(request))


@router.get("/facets", response_model=FacetsResponse, tags=["search"])
def facet_counts(request: Request, q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
                 filter: Filters = [],  # noqa: B006
                 range: Ranges = []  # noqa: B006
                 ) -> FacetsResponse:
    """Counts per facet value for a query (all records when q is empty); a facet with a filter
    is counted without it, so each count is the total of the search with that value alone."""
    asked = [(key, value) for key, value in request.query_params.multi_items()
             if key in ("q", "filter", "range")]
    search = search_request([*asked, ("size", "1"), ("facets", "true"), ("variables_per_hit", "0")])
    services = services_of(request)
    results = services.search(search)
    counts = {facet: counted(services, search, results, facet) for facet in results.facets}
    return FacetsResponse(total=results.total, total_exact=results.total_exact,
                          facets={facet: values for facet, (values, _) in counts.items()},
                          inexact=[facet for facet, (_, exact) in counts.items() if not exact],
                          facets_uncounted=results.facets_uncounted)


@router.get("/stats", response_model=StatsResponse, tags=["catalogue"])
def stats(request: Request) -> Any:
    """Counts by kind, source format, catalogue, topic, start year and country."""
    return vars(services_of(request).summary())


# ---- items -------------------------------------------------------------------------------------

def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest(f"cursor {cursor!r} is not one this API gave out",
                         hint="pass the next_cursor of the previous page, or no cursor") from None
    if offset < 0:
        raise BadRequest(f"cursor {cursor!r} is not one this API gave out")
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


@router.get("/items/{key:path}/variables.{fmt}", tags=["items"],
            responses={200: {"content": {t: {} for t in DOWNLOAD_TYPES.values()}}})
def item_variables_download(request: Request, key: str, fmt: Literal["csv", "xlsx", "json"],
                            q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Download the item's variables (all of them, or those matching q) as CSV, XLSX or JSON."""
    services = services_of(request)
    view = records.item_view(services, key)
    variables = records.filter_variables(records.study_variables(services, view), q)
    body = {"csv": variables_table.to_csv, "json": variables_table.to_json,
            "xlsx": lambda v: variables_table.to_xlsx(v, view.study.id)}[fmt](variables)
    return attachment(body, DOWNLOAD_TYPES[fmt], f"{view.study.id}-variables.{fmt}")


@router.get("/items/{key:path}/variables", response_model=VariablesPage, tags=["items"])
def item_variables(request: Request, key: str,
                   q: Annotated[str, Query(max_length=200, description="Words to find")] = "",
                   size: Annotated[int, Query(ge=1, le=MAX_VARIABLES_PAGE)] = 50,
                   cursor: Cursor = None) -> VariablesPage:
    """The item's variables, filtered by q (every word must appear), a page at a time."""
    services = services_of(request)
    view = records.item_view(services, key)
    variables = records.filter_variables(records.study_variables(services, view), q)
    offset = _offset(cursor)
    page = variables[offset:offset + size]
    rows = []
    for variable in page:
        row = variables_table.variable_row(variable)
        row["url"] = page_url(request, Kind.VARIABLE, variable.id)
        rows.append(row)
    more = offset + size < len(variables)
    return VariablesPage(item=view.study.id, q=q, total=len(variables), size=size, cursor=cursor,
                         next_cursor=_cursor(offset + size) if more else None, variables=rows)


@router.get("/items/{key:path}/citation.{fmt}", tags=["items"],
            responses={200: {"content": {"application/x-research-info-systems": {},
                                         "application/x-bibtex": {}}}})
def item_citation(request: Request, key: str, fmt: Literal["ris", "bib"]) -> Response:
    """Citation of the item for reference managers: RIS or BibTeX."""
    view = records.item_view(services_of(request), key)
    url = page_url(request, view.study.kind, view.study.id)
    if fmt == "ris":
        body, media = citation.to_ris(view.study, url), "application/x-research-info-systems"
    else:
        body, media = citation.to_bibtex(view.study, url), "application/x-bibtex"
    return attachment(body, f"{media}; charset=utf-8", f"{view.study.id}.{fmt}")


@router.get("/items/{key:path}/jsonld", tags=["items"])
def item_jsonld(request: Request, key: str) -> dict[str, Any]:
    """The schema.org Dataset JSON-LD that the item page embeds."""
    services = services_of(request)
    view = records.item_view(services, key)
    return records.item_jsonld(services, view, site_root(request))


@router.get("/items/{key:path}", response_model=ItemResponse, tags=["items"])
def item(request: Request, key: str) -> ItemResponse:
    """A study or dataset (by id, DOI or study number) with its sources, instruments, child
    datasets, grants and their outputs. Variables are paged at `variables.url`."""
    services = services_of(request)
    view = records.item_view(services, key)
    rid = view.study.id
    base = site_url(request, f"/api/items/{rid}")
    return ItemResponse(
        record=record_json(view.study),
        url=page_url(request, view.study.kind, rid),
        sources=view.sources,
        variables={"total": len(view.variable_ids), "url": base + "/variables",
                   "downloads": {fmt: f"{base}/variables.{fmt}" for fmt in DOWNLOAD_TYPES}},
        instruments=[link(request, n) for n in view.instruments],
        children=[link(request, n) for n in view.children],
        parents=[link(request, n) for n in view.parents],
        grants=[Grant(project=record_json(g.project), link=link(request, g.link),
                      outputs=[record_json(o) for o in g.outputs]) for g in view.grants],
        other_relations=[link(request, n) for n in view.other],
        jsonld=base + "/jsonld",
        citation={"ris": base + "/citation.ris", "bibtex": base + "/citation.bib"})


# ---- projects, variables, any record -----------------------------------------------------------

@router.get("/projects/{key:path}", response_model=ProjectResponse, tags=["projects"])
def project(request: Request, key: str) -> ProjectResponse:
    """A grant (by id or grant reference) with its outcomes by kind and the datasets it funded."""
    view = records.project_view(services_of(request), key)
    return ProjectResponse(
        record=record_json(view.project), url=page_url(request, Kind.PROJECT, view.project.id),
        outputs={kind: [record_json(o) for o in outputs] for kind, outputs in view.outputs.items()},
        datasets=[link(request, n) for n in view.datasets],
        organisations=[link(request, n) for n in view.organisations],
        people=[link(request, n) for n in view.people])


@router.get("/variables/{key:path}", response_model=VariableResponse, tags=["variables"])
def variable(request: Request, key: str) -> VariableResponse:
    """A variable with its question text, categories and the study it belongs to."""
    view = records.variable_view(services_of(request), key)
    return VariableResponse(
        record=record_json(view.variable), url=page_url(request, Kind.VARIABLE, view.variable.id),
        study=link(request, view.study) if view.study else None,
        questions=[link(request, n) for n in view.questions])


@router.get("/records/{key:path}", tags=["catalogue"])
def any_record(request: Request, key: str) -> dict[str, Any]:
    """Any record of any kind (instruments, questions, outputs...) with its relations."""
    catalogue = services_of(request).catalogue
    record = catalogue.get(key)
    data = record.model_dump(mode="json")
    data["provenance"]["location"] = records.public_location(record.provenance.location)
    return {"record": data,
            "relations": [r.model_dump(mode="json") for r in catalogue.relations(record.id)]}


# ---- harmonise ---------------------------------------------------------------------------------

@router.post("/harmonise", response_model=HarmoniseResponse, tags=["harmonise"],
             responses={**TOO_LARGE, **RATE_LIMITED})
def harmonise(request: Request, body: HarmoniseRequest) -> Any:
    """Match the items of two or more instruments (any of English, German, French, Spanish,
    Portuguese): each item's best match in every other instrument with its score and polarity,
    and clusters of equivalent items. At most 400 items in all; each address may harmonise
    about 80 items a minute (400 at once)."""
    return json.loads(crosswalk.to_json(harmonised(request, body)))


@router.post("/harmonise.{fmt}", tags=["harmonise"],
             responses={200: {"content": {t: {} for t in DOWNLOAD_TYPES.values()}},
                        **TOO_LARGE, **RATE_LIMITED})
def harmonise_download(request: Request, fmt: Literal["csv", "xlsx", "json"],
                       body: HarmoniseRequest) -> Response:
    """The same harmonisation as a crosswalk file: CSV, XLSX (crosswalk and matches sheets) or JSON."""
    return crosswalk_download(harmonised(request, body), fmt)


def harmonised(request: Request, body: HarmoniseRequest) -> crosswalk.Harmonisation:
    instruments = instruments_of(body)
    charge(request, "harmonise", sum(len(instrument.items) for instrument in instruments))
    return services_of(request).harmonise(instruments, body.threshold)



@router.get("/measured", response_model=MeasuredResponse, tags=["harmonise"], responses=RATE_LIMITED)
def measured(request: Request,
             q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, pattern=r"\S",
                                     description="The question text, in any supported language")],
             min_score: Annotated[float, Query(ge=-1, le=1)] = crosswalk.DEFAULT_THRESHOLD,
             limit: Annotated[int, Query(ge=1, le=100, description="Most studies returned")] = 20
             ) -> MeasuredResponse:
    """Which studies measured this question? Variables and questions that search finds, rescored
    by the harmonisation matcher and grouped by study (or instrument), best first. Each address
    may ask about six questions a minute."""
    if not q.strip():
        raise BadRequest("q is blank", hint='give the question text, e.g. q=I feel nervous')
    charge(request, "measured")
    services = services_of(request)
    candidates, groups = services.measured(q, min_score, limit)
    kinds = records.item_kinds(services.catalogue, groups)
    return MeasuredResponse(q=q, min_score=min_score, candidates=candidates, studies=[
        MeasuredStudy(id=g.id, kind=g.kind, title=g.title, url=page_url(request, g.kind, g.id),
                      best=round(g.best, 4),
                      items=[MeasuredItem(id=m.item.id, text=m.item.text, score=round(m.score, 4),
                                          polarity=m.polarity,
                                          url=page_url(request, kinds[m.item.id], m.item.id))
                             for m in g.items])
        for g in groups])
