"""The HTML pages: search, item, questionnaire, question, project, variable, any other record,
explore, sitemap.xml and robots.txt (harmonising is `harmonise_page.py`). Every record link goes
to a page (`page_path`); JSON stays under /api and at a page's own URL for clients that ask for it
(`negotiation.py`).

Every value from a record goes through Jinja2 autoescaping (metadata is untrusted); the one
raw block, the JSON-LD script, is escaped for its context by `records.script_json`. Every link
from a record goes through the `safe_url` filter (`export/urls.py`): a `javascript:` link is shown
as text. No page has inline script or style, so the Content-Security-Policy allows neither.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from discovery.api import records
from discovery.api.search_params import build_request, parse_filters, parse_ranges
from discovery.api.services import Services, ServiceUnavailable
from discovery.api.urls import RECORD_PREFIX, page_path, page_url, site_root, site_url
from discovery.errors import DiscoveryError
from discovery.export import citation
from discovery.export.catalogue_summary import explore_charts
from discovery.export.dataset_jsonld import dataset_description
from discovery.export.summary import summarise
from discovery.export.urls import safe_url
from discovery.harmonise.polarity import label as polarity_label
from discovery.index.places import filter_places
from discovery.model import Kind, Record, main_text
from discovery.search.models import FACETS, MAX_PAGE_SIZE, MAX_QUERY, RANGES, SearchRequest, SearchResults
from discovery.search.service import DEPTH
from discovery.web.languages import lang_attribute

HERE = Path(__file__).parent
STATIC = HERE / "static"
VARIABLES_PER_PAGE = 50
QUESTIONS_PER_PAGE = 100
SITEMAP_LIMIT = 50_000
SIMILAR = 6
FACET_LABELS = {"kind": "Kind", "source": "Source format", "catalogue": "Catalogue",
                "country": "Country", "language": "Language", "topic": "Topic",
                "design": "Study design", "resource_type": "Resource type", "funder": "Funder",
                "questionnaire": "Questionnaire"}
RANGE_LABELS = {"year": "Years covered", "age": "Ages", "sample_size": "Sample size",
                "variables": "Number of variables"}
# Field names of grant outcomes (and any other source's labelled fields) as people read them;
# others are spelled out from the name (`geographic_reach` -> "Geographic reach").
FIELD_LABELS = {"form": "Form of engagement activity", "years": "Year(s)",
                "part_of_official_scheme": "Part of an official scheme?",
                "provided_to_others": "Provided to others?", "open_source_license": "Open source licence?"}
ACRONYMS = {"url": "URL", "pi": "PI", "ip": "IP", "id": "ID", "doi": "DOI"}
# Relations read from their object's side.
REVERSED_RELATIONS = {"hasPart": "part of", "hasVariable": "variable of", "hasQuestion": "question in",
                      "usesInstrument": "used by", "measuredBy": "measures", "fundedBy": "funds",
                      "hasOutput": "outcome of", "ledBy": "leads", "hasParticipant": "takes part in",
                      "hasInvestigator": "investigator on", "createdBy": "created",
                      "publishedBy": "published", "affiliatedWith": "has as member", "sameAs": "same as"}
# Words too common to mark on a page when they were part of the query.
UNMARKED = frozenset("the and for with from that this are was you your have not any all".split())
T = TypeVar("T")
R = TypeVar("R", bound=Record)

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True),
                        trim_blocks=True, lstrip_blocks=True)
templates.globals.update(page_path=page_path, FACET_LABELS=FACET_LABELS, RANGE_LABELS=RANGE_LABELS,
                         main_text=main_text, DEPTH=DEPTH, FITS_LISTED=MAX_PAGE_SIZE,
                         polarity_label=polarity_label)
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


def link_href(value: object) -> str | None:
    """`safe_url`, except that a URL the source cut short ("https://example.org/a-long-pa...",
    as Gateway to Research lists outcome links) is no link: it leads nowhere, so it shows as text."""
    if isinstance(value, str) and value.rstrip().endswith(("...", "\u2026")):
        return None
    return safe_url(value)


def field_label(key: str) -> str:
    """A source's field name as people read it: `part_of_official_scheme` is not a label."""
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    text = " ".join(ACRONYMS.get(word, word) for word in re.split(r"[_\s-]+", key) if word)
    return text[:1].upper() + text[1:] if text else key


def relation_words(predicate: str, reverse: bool = False) -> str:
    """A relation as words: `hasParticipant` -> "has participant"; read from its object's side
    with `reverse` (an organisation "leads" the grant that is "led by" it)."""
    if reverse:
        return REVERSED_RELATIONS.get(predicate, f"is linked by {predicate}")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", predicate).lower()


def highlight(text: str | None, query: str) -> Markup:
    """The text, escaped, with each word that starts with a query word marked (`<mark>`)."""
    words = {w for w in re.findall(r"\w+", query.casefold()) if len(w) > 2 and w not in UNMARKED}
    if not text or not words:
        return escape(text or "")
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
                         + r")\w*", re.IGNORECASE)
    parts: list[Markup] = []
    last = 0
    for match in pattern.finditer(text):
        parts += [escape(text[last:match.start()]), Markup("<mark>%s</mark>") % match.group(0)]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


templates.filters["paragraphs"] = paragraphs
templates.filters["safe_url"] = link_href
templates.filters["field_label"] = field_label
templates.filters["highlight"] = highlight
templates.filters["relation_words"] = relation_words
# The index has no word for a bare number (a coded name's digits are not BM25 words), so a
# search for a keyword such as "1976" finds nothing: such keywords are shown, not linked.
templates.tests["searchable"] = lambda text: any(char.isalpha() for char in str(text))


def filter_values(facet: str, value: str) -> list[str]:
    """The facet values a filter stands for, as the facet lists them: a country in any spelling
    is its ISO name (`GB` -> United Kingdom, issue 11), any other value itself."""
    return (filter_places(value) or [value]) if facet == "country" else [value]


def filter_label(value: str, facet: str) -> str:
    return " or ".join(filter_values(facet, value))


templates.filters["filter_label"] = filter_label
templates.filters["lang_attribute"] = lang_attribute


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
    removals = _filter_removals(services, search, kept, results) if results else {}
    next_url = query_url("/", kept + [("cursor", results.next_cursor)]) \
        if results and results.next_cursor else None
    as_typed = query_url("/", [p for p in kept if p[0] != "spellcheck"] + [("spellcheck", "false")]) \
        if results and results.searched_for else None
    status = 503 if unavailable and search.q else 200
    title = f"{search.q} - search" if search.q else "Search research data"
    carried = (results.searched_for or search.q) if results and not results.nothing_fits else ""
    return render(request, "search.html", status=status, search=search, results=results,
                  unavailable=unavailable, browse=browse, removals=removals, next_url=next_url,
                  as_typed=as_typed, carried=carried,
                  first_url=query_url("/", kept) if search.cursor else None, title=title,
                  canonical=site_url(request, "/") if not kept else None, FACETS=FACETS,
                  RANGES=RANGES, params=request.query_params, kept=kept,
                  chosen={facet: [(value, shown) for value in values
                                  for shown in filter_values(facet, value)]
                          for facet, values in search.filters.items()})


def _filter_removals(services: Services, search: SearchRequest, kept: list[tuple[str, str]],
                     results: SearchResults) -> dict[tuple[str, str], str | None]:
    """The address of the same search without each chosen filter value, or None where dropping
    it would find nothing. Values of one facet are alternatives, so dropping one of several
    narrows the results (`kind:study` from study-or-dataset, when every hit is a dataset, leaves
    none); each such case is checked with a search of its own, and shown as no link. When
    nothing fits, every filter is a way out, so each one links."""
    removals: dict[tuple[str, str], str | None] = {}
    found = results.total > 0 and not results.nothing_fits
    for facet, values in search.filters.items():
        for value in values:
            pair = ("filter", f"{facet}:{value}")
            removals[(facet, value)] = query_url("/", [p for p in kept if p != pair])
            if found and len(values) > 1:
                rest = {**search.filters, facet: [v for v in values if v != value]}
                narrower = services.search(search.model_copy(update={
                    "filters": rest, "cursor": None, "size": 1, "facets": False,
                    "variables_per_hit": 0}))
                if narrower.nothing_fits or not narrower.total:
                    removals[(facet, value)] = None
    return removals


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
    for hit in hits:
        if hit.kind in (Kind.VARIABLE.value, Kind.QUESTION.value):
            record = catalogue.get(hit.id)
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
