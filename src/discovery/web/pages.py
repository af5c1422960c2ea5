"""The HTML pages: search, item, project, variable, explore, harmonise, sitemap.xml and robots.txt.

Every value from a record goes through Jinja2 autoescaping (metadata is untrusted); the one
raw block, the JSON-LD script, is escaped for its context by `records.script_json`. Every link
from a record goes through the `safe_url` filter (`export/urls.py`): a `javascript:` link is shown
as text. No page has inline script or style, so the Content-Security-Policy allows neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from discovery.api import records
from discovery.api.errors import status_of
from discovery.api.harmonise_params import MAX_INSTRUMENTS, checked, unique_names
from discovery.api.limits import TooManyRequests
from discovery.api.routes import charge, crosswalk_download
from discovery.api.search_params import BadRequest, build_request, parse_filters, parse_ranges
from discovery.api.services import Services, ServiceUnavailable
from discovery.api.urls import page_path, page_url, site_root, site_url
from discovery.errors import DiscoveryError
from discovery.export import citation
from discovery.export.catalogue_summary import explore_charts
from discovery.export.dataset_jsonld import dataset_description
from discovery.export.summary import summarise
from discovery.export.urls import safe_url
from discovery.harmonise import crosswalk
from discovery.harmonise.items import Instrument, instrument_from_text
from discovery.model import Kind, main_text
from discovery.search.models import FACETS, MAX_PAGE_SIZE, RANGES, SearchResults
from discovery.search.service import DEPTH

HERE = Path(__file__).parent
STATIC = HERE / "static"
VARIABLES_PER_PAGE = 50
SITEMAP_LIMIT = 50_000
SIMILAR = 6
FACET_LABELS = {"kind": "Kind", "source": "Source format", "catalogue": "Catalogue",
                "country": "Country", "language": "Language", "topic": "Topic",
                "design": "Study design", "resource_type": "Resource type", "funder": "Funder",
                "questionnaire": "Questionnaire"}
SHOWN_MATCHES = 500
MAX_FORM_FIELDS = 2 * MAX_INSTRUMENTS + 2  # a name and items per box, the threshold and the action
MEASURED_STUDIES = 20
RANGE_LABELS = {"year": "Years covered", "age": "Ages", "sample_size": "Sample size",
                "variables": "Number of variables"}

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True),
                        trim_blocks=True, lstrip_blocks=True)
templates.globals.update(page_path=page_path, FACET_LABELS=FACET_LABELS, RANGE_LABELS=RANGE_LABELS,
                         main_text=main_text, DEPTH=DEPTH)
router = APIRouter(include_in_schema=False)


def services_of(request: Request) -> Services:
    return request.app.state.services


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    services = services_of(request)
    context.setdefault("canonical", None)
    html = templates.get_template(name).render(request=request, site_name=services.site_name,
                                               path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
    return render(request, "error.html", status=status, status_code=status, message=message,
                  hint=hint)


def paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]


templates.filters["paragraphs"] = paragraphs
templates.filters["safe_url"] = safe_url


def query_url(path: str, params: list[tuple[str, str]]) -> str:
    return path + ("?" + urlencode(params) if params else "")


templates.globals["query_url"] = query_url


# ---- search ------------------------------------------------------------------------------------

def _search_state(request: Request) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The page's own parameters (kept for links) and the search fields they ask for."""
    params = request.query_params
    kept = [(k, v) for k, v in params.multi_items() if k != "cursor" and v != ""]
    size = params.get("size", "10")
    fields = {
        "q": params.get("q", ""), "mode": params.get("mode", "hybrid"),
        "semantic_weight": params.get("semantic_weight", "0.5"),
        "filters": parse_filters(params.getlist("filter")),
        "ranges": parse_ranges(params.getlist("range"), params),
        "sort": params.get("sort", "relevance"),
        "size": size if size.isdigit() and 0 < int(size) <= MAX_PAGE_SIZE else 10,
        "cursor": params.get("cursor") or None, "similar_to": params.get("similar_to") or None,
        "group": params.get("group", "true") != "false",
        "collapse": params.get("collapse", "true") != "false",
        "spellcheck": params.get("spellcheck", "true") != "false",
        "variables_per_hit": params.get("variables_per_hit", "5"), "facets": True,
    }
    return kept, fields


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    services = services_of(request)
    kept, fields = _search_state(request)
    search = build_request(**fields)
    results: SearchResults | None = None
    unavailable: DiscoveryError | None = None
    try:
        results = services.search(search)
    except ServiceUnavailable as error:
        unavailable = error
    browse = []
    if results is None:
        browse = [(rid, kind, title) for kind in (Kind.STUDY, Kind.DATASET)
                  for rid, _, title, _ in services.catalogue.list_records(kind.value, limit=200)]
    toggles = {}
    if results:
        for facet, values in results.facets.items():
            for value in values:
                chosen = value.value in search.filters.get(facet, [])
                pair = ("filter", f"{facet}:{value.value}")
                toggles[(facet, value.value)] = query_url(
                    "/", [p for p in kept if p != pair] if chosen else kept + [pair])
    next_url = query_url("/", kept + [("cursor", results.next_cursor)]) \
        if results and results.next_cursor else None
    as_typed = query_url("/", [p for p in kept if p[0] != "spellcheck"] + [("spellcheck", "false")]) \
        if results and results.searched_for else None
    status = 503 if unavailable and search.q else 200
    title = f"{search.q} - search" if search.q else "Search research data"
    return render(request, "search.html", status=status, search=search, results=results,
                  unavailable=unavailable, browse=browse, toggles=toggles, next_url=next_url,
                  as_typed=as_typed,
                  first_url=query_url("/", kept) if search.cursor else None, title=title,
                  canonical=site_url(request, "/") if not kept else None, FACETS=FACETS,
                  RANGES=RANGES, params=request.query_params)


# ---- items -------------------------------------------------------------------------------------

def _similar(services: Services, rid: str, kinds: tuple[str, ...]) -> list[Any]:
    """Records of these kinds the search service ranks closest to this one; empty when search
    is not built."""
    def find() -> list[Any]:
        try:
            request = build_request(similar_to=rid, size=SIMILAR + 1, facets=False,
                                    group=Kind.VARIABLE.value not in kinds, variables_per_hit=0,
                                    filters={"kind": list(kinds)})
            return [hit for hit in services.search(request).hits if hit.id != rid][:SIMILAR]
        except DiscoveryError:
            return []
    return services.cached(("similar", rid, kinds), find)


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
    shown = records.filter_variables(variables, vq)
    vpage = request.query_params.get("vpage", "1")
    page = int(vpage) if vpage.isdigit() and int(vpage) > 0 else 1
    pages = max(1, -(-len(shown) // VARIABLES_PER_PAGE))
    page = min(page, pages)
    rows = shown[(page - 1) * VARIABLES_PER_PAGE: page * VARIABLES_PER_PAGE]
    jsonld = records.item_jsonld(services, view, site_root(request))
    return render(request, "item.html", view=view, study=study, canonical=url,
                  description=dataset_description(study, len(variables)),
                  jsonld=Markup(records.script_json(jsonld)), variables_total=len(variables),
                  variables=rows, vq=vq, vpage=page, vpages=pages, matched=len(shown),
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
    return render(request, "variable.html", view=view, variable=view.variable,
                  similar=_similar(services, view.variable.id, (Kind.VARIABLE.value,)),
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


# ---- harmonise ---------------------------------------------------------------------------------

Boxes = list[tuple[str, str]]  # (instrument name, its items one per line), one per textarea


def _box_name(n: int) -> str:
    return f"Instrument {n + 1}"


async def _form_fields(request: Request) -> list[tuple[str, str]]:
    """The posted form, url-encoded as the page sends it (the app bounds the body's bytes)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise BadRequest(f"the form must be sent as application/x-www-form-urlencoded, not {kind!r}")
    try:
        return parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True,
                         max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise BadRequest(f"the form has more than {MAX_FORM_FIELDS} fields",
                         hint=f"one request can harmonise at most {MAX_INSTRUMENTS} instruments") from None


def _boxes(fields: list[tuple[str, str]]) -> Boxes:
    names = [value for key, value in fields if key == "name"]
    texts = [value for key, value in fields if key == "items"]
    count = max(len(names), len(texts), 2)
    if count > MAX_INSTRUMENTS:
        raise BadRequest(f"{count} instruments; one request can harmonise at most {MAX_INSTRUMENTS}")
    return [((names[n].strip() if n < len(names) else "") or _box_name(n),
             texts[n] if n < len(texts) else "") for n in range(count)]


def _threshold(fields: list[tuple[str, str]]) -> float:
    text = dict(fields).get("threshold", "").strip()
    if not text:
        return crosswalk.DEFAULT_THRESHOLD
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"threshold {text!r} is not a number", hint="e.g. 0.25") from None
    if not -1 <= value <= 1:
        raise BadRequest(f"threshold {value:g} is outside -1 to 1", hint="scores are cosines; try 0.25")
    return value


def _instruments(boxes: Boxes) -> list[Instrument]:
    """Each filled textarea read as pasted text (numbering and options as the text parser reads them)."""
    filled = [(name, text) for name, text in boxes if text.strip()]
    names = unique_names([name for name, _ in filled])
    return checked([instrument_from_text(text, name)
                    for name, (_, text) in zip(names, filled, strict=True)])


def _measured(request: Request, q: str) -> tuple[Any, DiscoveryError | None]:
    if not q.strip():
        return None, None
    try:
        charge(request, "measured")
        return services_of(request).measured(q, crosswalk.DEFAULT_THRESHOLD, MEASURED_STUDIES), None
    except (ServiceUnavailable, TooManyRequests) as error:
        return None, error


def _harmonise_page(request: Request, boxes: Boxes, threshold: float | str, status: int = 200,
                    **context: Any) -> HTMLResponse:
    q = request.query_params.get("q", "")[:1000]
    measured, unavailable = _measured(request, q)
    kinds = records.item_kinds(services_of(request).catalogue, measured[1]) if measured else {}
    return render(request, "harmonise.html", status=status, title="Harmonise questions", boxes=boxes,
                  threshold=threshold, q=q, measured=measured, measured_unavailable=unavailable,
                  item_kinds=kinds, measured_min=crosswalk.DEFAULT_THRESHOLD, max_boxes=MAX_INSTRUMENTS,
                  shown_matches=SHOWN_MATCHES,
                  canonical=site_url(request, "/harmonise"), **context)


@router.get("/harmonise", response_class=HTMLResponse)
def harmonise_page(request: Request) -> Response:
    """The form; its first view starts loading the matcher, so it is ready by the first match."""
    services_of(request).load_matcher()
    return _harmonise_page(request, [(_box_name(0), ""), (_box_name(1), "")],
                           crosswalk.DEFAULT_THRESHOLD)


@router.post("/harmonise", response_class=HTMLResponse)
async def harmonise_submit(request: Request) -> Response:
    """The add button comes back with one more textarea; the match button with the results."""
    fields = await _form_fields(request)
    boxes = _boxes(fields)
    threshold_text = dict(fields).get("threshold", "")
    if dict(fields).get("action") == "add":
        if len(boxes) < MAX_INSTRUMENTS:
            boxes.append((_box_name(len(boxes)), ""))
        return await run_in_threadpool(_harmonise_page, request, boxes, threshold_text,
                                       focus=len(boxes) - 1)
    try:
        threshold = _threshold(fields)
        instruments = await run_in_threadpool(_instruments, boxes)
        charge(request, "harmonise", sum(len(instrument.items) for instrument in instruments))
        result = await run_in_threadpool(services_of(request).harmonise, instruments, threshold)
    except DiscoveryError as error:
        return await run_in_threadpool(_harmonise_page, request, boxes, threshold_text,
                                       status_of(error), form_error=error)
    return await run_in_threadpool(_harmonise_page, request, boxes, threshold, result=result)


@router.post("/harmonise/crosswalk.{fmt}")
async def harmonise_download(request: Request, fmt: Literal["csv", "xlsx", "json"]) -> Response:
    """The crosswalk file for the posted form (the results page's download buttons)."""
    fields = await _form_fields(request)
    threshold = _threshold(fields)
    instruments = await run_in_threadpool(_instruments, _boxes(fields))
    charge(request, "harmonise", sum(len(instrument.items) for instrument in instruments))
    result = await run_in_threadpool(services_of(request).harmonise, instruments, threshold)
    return crosswalk_download(result, fmt)


# ---- API reference ---------------------------------------------------------------------------

def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_schema_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_schema_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    return str(schema.get("type", "any"))


templates.filters["schema_type"] = _schema_type


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
        for kind in (Kind.STUDY, Kind.DATASET, Kind.PROJECT, Kind.VARIABLE):
            for rid, _, _, _ in services.catalogue.list_records(kind.value, limit=SITEMAP_LIMIT):
                urls.append(root + page_path(kind, rid))
        return templates.get_template("sitemap.xml").render(urls=urls[:SITEMAP_LIMIT])
    return Response(services.cached(("sitemap", site_root(request)), build, 300.0),
                    media_type="application/xml")


@router.get("/robots.txt")
def robots(request: Request) -> Response:
    return Response(f"User-agent: *\nAllow: /\nSitemap: {site_url(request, '/sitemap.xml')}\n",
                    media_type="text/plain")
