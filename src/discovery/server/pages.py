"""The HTML pages of records: item, questionnaire, question, project, variable, any other record;
and explore, the API reference, sitemap.xml and robots.txt (the search page is `search_page.py`,
harmonising `harmonise_page.py`).
Every record link goes to a page (`page_path`); JSON stays under /api and at a page's own URL for
clients that ask for it (`negotiation.py`). Rendering and escaping are `rendering.py`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from discovery.server import records
from discovery.server.search_params import build_request
from discovery.server.rendering import render, templates
from discovery.server.services import Services, ServiceUnavailable, services_of
from discovery.server.urls import RECORD_PREFIX, page_path, page_url, site_root, site_url
from discovery.errors import DiscoveryError
from discovery.export import citation
from discovery.export.catalogue_summary import explore_charts
from discovery.export.dataset_jsonld import dataset_description
from discovery.export.summary import summarise
from discovery.model import Kind, Record
from discovery.search.models import MAX_PAGE_SIZE, MAX_QUERY

VARIABLES_PER_PAGE = 50
QUESTIONS_PER_PAGE = 100
SITEMAP_LIMIT = 50_000
SIMILAR = 6
T = TypeVar("T")
R = TypeVar("R", bound=Record)

router = APIRouter(include_in_schema=False)


# ---- items -------------------------------------------------------------------------------------

def _similar(services: Services, rid: str, kinds: tuple[str, ...], size: int = SIMILAR) -> list[Any]:
    """Records of these kinds the search service ranks closest to this one; empty when search
    is not built."""
    def find() -> list[Any]:
        try:
            request = build_request(similar_to=rid, size=size + 1, facets=False,
                                    group=not set(kinds) & {Kind.VARIABLE.value, Kind.QUESTION.value},
                                    variables_per_hit=0, filters={"kind": list(kinds)})
            return [hit for hit in services.search(request).hits if hit.id != rid][:size]
        except DiscoveryError:
            return []
    return services.cached(("similar", rid, kinds, size), find)


def _similar_elsewhere(services: Services, rid: str, home: set[str], shown: set[str]
                       ) -> tuple[list[Any], dict[str, Any]]:
    """Variables and questions like this one from other studies and questionnaires than `home`
    (its own, whose items are a click away) and other than those the page `shown` already,
    each with where it was asked."""
    hits = _similar(services, rid, (Kind.QUESTION.value, Kind.VARIABLE.value), SIMILAR * 4)
    parents = _parents(services, hits)
    elsewhere = [hit for hit in hits if hit.id not in shown
                 and parents.get(hit.id, {}).get("id") not in home]
    return elsewhere[:SIMILAR], parents


def _parents(services: Services, hits: list[Any]) -> dict[str, Any]:
    """The study or questionnaire each variable or question among `hits` belongs to, so a list
    of look-alike items says where each one was asked."""
    catalogue = services.catalogue
    owners: dict[str, str] = {}
    records = catalogue.get_many(hit.id for hit in hits
                                 if hit.kind in (Kind.VARIABLE.value, Kind.QUESTION.value))
    for hit in hits:
        if hit.id in records:
            record = records[hit.id]
            owner = getattr(record, "study_id", None) or getattr(record, "instrument_id", None)
            if owner:
                owners[hit.id] = owner
    titles = catalogue.titles(owners.values())
    return {rid: {"id": owner, "kind": titles[owner][0], "title": titles[owner][1]}
            for rid, owner in owners.items() if owner in titles}


def _matching_items(services: Services, parent: str, q: str, kind: Kind) -> dict[str, float]:
    """Which of a study's variables (an instrument's questions) fit the query a visitor came
    with, and how well, as the search itself ranks them; empty without a query or an index."""
    if not q.strip():
        return {}
    try:
        results = services.search(build_request(
            q=q, within=parent, group=False, size=MAX_PAGE_SIZE, facets=False, variables_per_hit=0,
            filters={"kind": [kind.value]}))
    except DiscoveryError:
        return {}
    return {} if results.nothing_fits else {hit.id: hit.score for hit in results.hits}


def _matching_first(rows: list[R], matched: dict[str, float]) -> list[R]:
    """The rows that fit the query first, best first, then the rest in their own order."""
    if not matched:
        return rows
    fits = sorted((r for r in rows if r.id in matched), key=lambda r: -matched[r.id])
    return fits + [r for r in rows if r.id not in matched]


def _page_of(rows: Sequence[T], asked: str | None, size: int) -> tuple[list[T], int, int]:
    """One page of rows (the asked one, within bounds), its number and the number of pages."""
    page = int(asked) if asked and asked.isdigit() and int(asked) > 0 else 1
    pages = max(1, -(-len(rows) // size))
    page = min(page, pages)
    return list(rows[(page - 1) * size: page * size]), page, pages


@router.get("/items/{key:path}", response_class=HTMLResponse)
def item_page(request: Request, key: str) -> Response:
    services = services_of(request)
    view = records.item_view(services, key)
    study = view.study
    if key != study.id:
        return _redirect(request, page_path(study.kind, study.id))
    url = page_url(request, study.kind, study.id)
    variables = records.study_variables(services, view)
    vq = request.query_params.get("vq", "")[:200]
    q = request.query_params.get("q", "")[:MAX_QUERY]
    fits = _matching_items(services, study.id, q, Kind.VARIABLE) if variables else {}
    shown = _matching_first(records.filter_variables(variables, vq), fits)
    rows, page, pages = _page_of(shown, request.query_params.get("vpage"), VARIABLES_PER_PAGE)
    jsonld = records.item_jsonld(services, view, site_root(request))
    return render(request, "item.html", view=view, study=study, canonical=url,
                  description=dataset_description(study, len(variables)),
                  jsonld=Markup(records.script_json(jsonld)), variables_total=len(variables),
                  variables=rows, vq=vq, q=q, fits=fits, vpage=page, vpages=pages, matched=len(shown),
                  first_row=(page - 1) * VARIABLES_PER_PAGE,
                  similar=_similar(services, study.id, (Kind.STUDY.value, Kind.DATASET.value)),
                  search_ready=services.search_available(),
                  citation_text=citation.to_bibtex(study, url), year=citation.citation_year(study),
                  doi=citation.study_doi(study),
                  grounded=summarise(study, variables, [g.project for g in view.grants],
                                     [(p.kind, p.id, p.title) for p in view.parents], page_path))


def _redirect(request: Request, path: str) -> Response:
    """Aliases (a DOI, a study number) redirect to the one canonical URL of the record."""
    query = request.url.query
    return Response(status_code=301, headers={"Location": path + (f"?{query}" if query else "")})


@router.get("/questionnaires/{key:path}", response_class=HTMLResponse)
def questionnaire_page(request: Request, key: str) -> Response:
    services = services_of(request)
    view = records.questionnaire_view(services, key)
    instrument = view.instrument
    if key != instrument.id:
        return _redirect(request, page_path(Kind.INSTRUMENT, instrument.id))
    q = request.query_params.get("q", "")[:MAX_QUERY]
    fits = _matching_items(services, instrument.id, q, Kind.QUESTION)
    rows, page, pages = _page_of(_matching_first(view.questions, fits),
                                 request.query_params.get("page"), QUESTIONS_PER_PAGE)
    return render(request, "questionnaire.html", view=view, instrument=instrument, questions=rows,
                  q=q, fits=fits, page=page, pages=pages, first_row=(page - 1) * QUESTIONS_PER_PAGE,
                  similar=_similar(services, instrument.id, (Kind.INSTRUMENT.value,)),
                  search_ready=services.search_available(),
                  canonical=page_url(request, Kind.INSTRUMENT, instrument.id))


@router.get("/questions/{key:path}", response_class=HTMLResponse)
def question_page(request: Request, key: str) -> Response:
    services = services_of(request)
    view = records.question_view(services, key)
    question = view.question
    if key != question.id:
        return _redirect(request, page_path(Kind.QUESTION, question.id))
    similar, parents = _similar_elsewhere(services, question.id, {question.instrument_id or ""},
                                          {n.id for n in view.variables})
    return render(request, "question.html", view=view, question=question, similar=similar,
                  parents=parents,
                  search_ready=services.search_available(),
                  canonical=page_url(request, Kind.QUESTION, question.id))


@router.get("/records/{key:path}", response_class=HTMLResponse)
def record_page(request: Request, key: str) -> Response:
    """Outputs, organisations and people; a record of a kind with its own page is sent there."""
    view = records.record_view(services_of(request), key)
    record = view.record
    path = page_path(record.kind, record.id)
    if path != f"{RECORD_PREFIX}/{key}":
        return _redirect(request, path)
    return render(request, "record.html", view=view, record=record,
                  canonical=page_url(request, record.kind, record.id))


@router.get("/projects/{key:path}", response_class=HTMLResponse)
def project_page(request: Request, key: str) -> Response:
    view = records.project_view(services_of(request), key)
    if key != view.project.id:
        return _redirect(request, page_path(Kind.PROJECT, view.project.id))
    return render(request, "project.html", view=view, project=view.project,
                  canonical=page_url(request, Kind.PROJECT, view.project.id))


@router.get("/variables/{key:path}", response_class=HTMLResponse)
def variable_page(request: Request, key: str) -> Response:
    services = services_of(request)
    view = records.variable_view(services, key)
    if key != view.variable.id:
        return _redirect(request, page_path(Kind.VARIABLE, view.variable.id))
    similar, parents = _similar_elsewhere(services, view.variable.id, {view.variable.study_id or ""},
                                          {n.id for n in view.questions})
    return render(request, "variable.html", view=view, variable=view.variable, similar=similar,
                  parents=parents,
                  canonical=page_url(request, Kind.VARIABLE, view.variable.id))


@router.get("/explore", response_class=HTMLResponse)
def explore_page(request: Request) -> Response:
    services = services_of(request)
    charts, unavailable = [], None
    try:
        charts = explore_charts(services.search)
    except ServiceUnavailable as error:
        unavailable = error
    return render(request, "explore.html", summary=services.summary(), charts=charts,
                  unavailable=unavailable, canonical=site_url(request, "/explore"))


# ---- API reference ---------------------------------------------------------------------------



@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """Every API route with its parameters and responses, from /openapi.json."""
    spec = request.app.openapi()
    operations = []
    for route, methods in spec["paths"].items():
        for method, operation in methods.items():
            operations.append({"path": route, "method": method.upper(), **operation})
    return render(request, "docs.html", spec=spec, operations=operations,
                  canonical=site_url(request, "/docs"))


# ---- for search engines ------------------------------------------------------------------------

@router.get("/sitemap.xml")
def sitemap(request: Request) -> Response:
    services = services_of(request)

    def build() -> str:
        root = site_root(request)
        urls = [root + "/", root + "/explore", root + "/harmonise"]
        for kind in (Kind.STUDY, Kind.DATASET, Kind.PROJECT, Kind.VARIABLE, Kind.INSTRUMENT,
                     Kind.QUESTION):
            for rid, _, _, _ in services.catalogue.list_records(kind.value, limit=SITEMAP_LIMIT):
                urls.append(root + page_path(kind, rid))
        return templates.get_template("sitemap.xml").render(urls=urls[:SITEMAP_LIMIT])
    return Response(services.cached(("sitemap", site_root(request)), build, 300.0),
                    media_type="application/xml")


@router.get("/robots.txt")
def robots(request: Request) -> Response:
    return Response(f"User-agent: *\nAllow: /\nSitemap: {site_url(request, '/sitemap.xml')}\n",
                    media_type="text/plain")
