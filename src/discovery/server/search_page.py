"""The search page at `/`: the search view (`search_view.py`) that `/api/search` returns as
JSON, rendered as HTML; while no index is built, a list of studies and datasets to browse."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from discovery.errors import DiscoveryError
from discovery.model import Kind
from discovery.search.models import FACETS, RANGES
from discovery.server.rendering import render
from discovery.server.search_params import search_request
from discovery.server.search_view import Addresses, SearchView, asked, search_view
from discovery.server.services import ServiceUnavailable, services_of
from discovery.server.urls import site_url

FACET_VALUES_SHOWN = 12  # per facet on the page; chosen values are listed besides
BROWSE_LIMIT = 200  # studies, then datasets, listed while search is unavailable
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> Response:
    services = services_of(request)
    params = request.query_params.multi_items()
    search = search_request([*params, ("facets", "true")])  # the page always counts facets
    view: SearchView | None = None
    unavailable: DiscoveryError | None = None
    try:
        results = services.search(search)
        view = search_view(services, search, results, params, Addresses(search="/"),
                           values_shown=FACET_VALUES_SHOWN)
    except ServiceUnavailable as error:
        unavailable = error
    browse = [] if view else [
        (rid, kind, title) for kind in (Kind.STUDY, Kind.DATASET)
        for rid, _, title, _ in services.catalogue.list_records(kind.value, limit=BROWSE_LIMIT)]
    kept = asked(params)
    return render(request, "search.html", status=503 if unavailable and search.q else 200,
                  search=search, results=view, unavailable=unavailable, browse=browse,
                  title=f"{search.q} - search" if search.q else "Search research data",
                  canonical=site_url(request, "/") if not kept else None, FACETS=FACETS,
                  RANGES=RANGES, params=request.query_params, kept=kept)
