"""The one view of a search that `/api/search` returns as JSON and the search page renders as
HTML: the hits, each with the address of its page; the facets, each value with the link that
ticks or unticks it; the chosen filters, each with the link that drops it; the totals, the
"nothing fits" state and the pager with its first, previous and next links. Every decision a
page or a client would otherwise make lives here, so the JSON route and the template only show
it (the Datasette way: responses carry their own navigation).

Links are built from the parameters as they were asked (the cursor aside), in their order, so a
link changes only what it says it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from discovery.index.places import filter_places
from discovery.model import Kind
from discovery.search.models import MAX_PAGE_SIZE, FacetValue, Hit, SearchRequest, SearchResults
from discovery.server.services import Services
from discovery.server.urls import page_path, query_url

# Kinds whose page marks the items that fit the query a visitor came with.
MARKED_KINDS = frozenset({Kind.STUDY.value, Kind.DATASET.value, Kind.INSTRUMENT.value})
Params = list[tuple[str, str]]


class FacetOption(BaseModel):
    value: str = Field(description="The value as the facet counts it")
    count: int | None = Field(description="Hits with this value (counted without the facet's "
                                          "own filter where it has one); null for a chosen value "
                                          "this facet did not list")
    filter: str = Field(description="The filter parameter this option stands for, facet:value")
    chosen: bool
    toggle: str = Field(description="This search with the value ticked, or unticked when chosen")
    narrowed: str | None = Field(default=None, description=(
        "This search with this value alone of its facet: it lists `count` hits"))
    count_exact: bool = Field(default=True, description=(
        "False: counted among hits a retriever's depth cut short, so there may be more"))


class ChosenFilter(BaseModel):
    facet: str
    value: str = Field(description="As asked, e.g. GB")
    label: str = Field(description="As the facet names it, e.g. United Kingdom")
    remove: str | None = Field(description="This search without the filter; null where dropping "
                                           "it would find nothing (another value of its facet "
                                           "is every hit's)")


class Pager(BaseModel):
    start: int = Field(description="Position of the first hit shown, from 1; 0 when none")
    end: int = Field(description="Position of the last hit shown; 0 when none")
    total: int
    total_exact: bool
    first: str | None = Field(description="The first page, when this is not it")
    previous: str | None = Field(description="The page before this one, when it can be linked")
    next: str | None = Field(description="The page after this one, when there is one")


class PageHit(Hit):
    page: str = Field(description="The hit's page; a study's, dataset's or questionnaire's "
                                  "carries the query, so it can mark the items that fit")


class SearchView(BaseModel):
    """A search's results with the links to move through them (`search_view`)."""

    request: SearchRequest
    total: int = Field(description="Hits (studies after grouping) that fit the query and filters")
    total_exact: bool = Field(description="False: a retriever reached its depth, there may be more")
    nothing_fits: bool = Field(description="No record fits: the hits are the nearest records")
    searched_for: str | None = Field(description="The corrected query searched instead of q")
    as_typed: str | None = Field(description="This search without the correction, when there was one")
    hits: list[PageHit]
    facets: dict[str, list[FacetOption]]
    facets_uncounted: list[str] = Field(description="Facets not counted because their time ran out")
    filters: list[ChosenFilter] = Field(description="The chosen filter values")
    clear: str | None = Field(description="The query without any filter or range, when some are set")
    pager: Pager
    next_cursor: str | None
    offset: int = Field(description="Hits before this page")
    model: str = Field(description="The embedding model the index was built with")
    took_ms: float


@dataclass(frozen=True)
class Addresses:
    """Where a view's links lead: `search` is the address of this search (the page or the API),
    `root` what page paths are prefixed with ("" on a page, the site's root in JSON)."""

    search: str
    root: str = ""

    def of(self, params: Params) -> str:
        return query_url(self.search, params)


def filter_values(facet: str, value: str) -> list[str]:
    """The facet values a filter stands for, as the facet lists them: a country in any spelling
    is its ISO name (`GB` -> United Kingdom, issue 11), any other value itself."""
    return (filter_places(value) or [value]) if facet == "country" else [value]


def asked(params: Params) -> Params:
    """The parameters a view's links keep: all as given but the cursor, and no empty ones."""
    return [(key, value) for key, value in params if key != "cursor" and value != ""]


def search_view(services: Services, search: SearchRequest, results: SearchResults, params: Params,
                addresses: Addresses, values_shown: int | None = None) -> SearchView:
    """The view of `results` for `search`, asked as `params` (`asked`). `values_shown` caps each
    facet's listed values (chosen ones are always listed)."""
    kept = asked(params)
    carried = "" if results.nothing_fits else (results.searched_for or search.q)
    hits = [PageHit(**dict(hit), page=_hit_page(hit, carried, addresses)) for hit in results.hits]
    shown = len(results.hits) if not results.nothing_fits else 0
    return SearchView(
        request=search, total=results.total, total_exact=results.total_exact,
        nothing_fits=results.nothing_fits, searched_for=results.searched_for,
        as_typed=addresses.of([p for p in kept if p[0] != "spellcheck"] + [("spellcheck", "false")])
        if results.searched_for else None,
        hits=hits, facets=_facets(services, search, results, kept, addresses, values_shown),
        facets_uncounted=results.facets_uncounted,
        filters=_chosen(services, search, results, kept, addresses),
        clear=addresses.of([("q", search.q)] if search.q else [])
        if search.filters or search.ranges else None,
        pager=Pager(start=results.offset + 1 if shown else 0, end=results.offset + shown if shown else 0,
                    total=results.total, total_exact=results.total_exact,
                    first=addresses.of(kept) if search.cursor else None,
                    previous=_previous(services, search, results, kept, addresses),
                    next=addresses.of(kept + [("cursor", results.next_cursor)])
                    if results.next_cursor else None),
        next_cursor=results.next_cursor, offset=results.offset, model=results.model,
        took_ms=results.took_ms)


def _hit_page(hit: Hit, carried: str, addresses: Addresses) -> str:
    path = addresses.root + page_path(hit.kind, hit.id)
    return query_url(path, [("q", carried)] if carried and hit.kind in MARKED_KINDS else [])


def counted(services: Services, search: SearchRequest, results: SearchResults, facet: str
            ) -> tuple[list[FacetValue], bool]:
    """A facet's values, counted over this search without the facet's own filter where it has
    one, and whether those counts are exact (not when the search they come from reached a
    retriever's depth: its hits, and so its counts, may fall short). Values of one facet are
    alternatives, so ticking one more adds its hits: counted among the hits shown,
    `country:England` beside a ticked United Kingdom counted only the records of both, not what
    its own search lists."""
    if not search.filters.get(facet) or results.nothing_fits:
        return results.facets.get(facet, []), results.total_exact
    wider = services.search(search.model_copy(update={
        "filters": {f: v for f, v in search.filters.items() if f != facet}, "cursor": None,
        "size": 1, "variables_per_hit": 0}))
    return wider.facets.get(facet, []), wider.total_exact


def _facets(services: Services, search: SearchRequest, results: SearchResults, kept: Params,
            addresses: Addresses, values_shown: int | None) -> dict[str, list[FacetOption]]:
    """Each counted facet's values, chosen ones ticked under the name the facet counts (a filter
    `country:GB` ticks United Kingdom), each with the search that lists its count. A chosen value
    the list does not hold (or a facet whose count ran out of time) comes first, as chosen, so
    that ticking another keeps it."""
    if not search.facets:
        return {}
    facets: dict[str, list[FacetOption]] = {}
    for facet in [*results.facets, *(f for f in search.filters if f not in results.facets)]:
        values, exact = counted(services, search, results, facet)
        listed = values[:values_shown]
        names = {v.value for v in listed}
        chosen = {raw: filter_values(facet, raw) for raw in search.filters.get(facet, [])}
        options = [FacetOption(value=shown, count=None, filter=f"{facet}:{raw}", chosen=True,
                               toggle=addresses.of(_without(kept, facet, [raw])))
                   for raw, shown_as in chosen.items() for shown in shown_as if shown not in names]
        for v in listed:
            raws = [raw for raw, shown_as in chosen.items() if v.value in shown_as]
            toggle = _without(kept, facet, raws) if raws else kept + [("filter", f"{facet}:{v.value}")]
            narrowed = _without(kept, facet, [raw for raw in chosen if raw not in raws]) if raws \
                else _without(kept, facet, list(chosen)) + [("filter", f"{facet}:{v.value}")]
            options.append(FacetOption(value=v.value, count=v.count, filter=f"{facet}:{v.value}",
                                       chosen=bool(raws), toggle=addresses.of(toggle),
                                       narrowed=addresses.of(narrowed), count_exact=exact))
        facets[facet] = options
    return facets


def _without(kept: Params, facet: str, values: list[str]) -> Params:
    dropped = {("filter", f"{facet}:{value}") for value in values}
    return [pair for pair in kept if pair not in dropped]


def _chosen(services: Services, search: SearchRequest, results: SearchResults, kept: Params,
            addresses: Addresses) -> list[ChosenFilter]:
    """The chosen filter values, each with the address of the same search without it, or none
    where dropping it would find nothing. Values of one facet are alternatives, so dropping one
    of several narrows the results (`kind:study` from study-or-dataset, when every hit is a
    dataset, leaves none); each such case is checked with a search of its own, and shown as no
    link. When nothing fits, every filter is a way out, so each one links."""
    chosen: list[ChosenFilter] = []
    found = results.total > 0 and not results.nothing_fits
    for facet, values in search.filters.items():
        for value in values:
            remove: str | None = addresses.of(_without(kept, facet, [value]))
            if found and len(values) > 1:
                rest = {**search.filters, facet: [v for v in values if v != value]}
                narrower = services.search(search.model_copy(update={
                    "filters": rest, "cursor": None, "size": 1, "facets": False,
                    "variables_per_hit": 0}))
                if narrower.nothing_fits or not narrower.total:
                    remove = None
            chosen.append(ChosenFilter(facet=facet, value=value, remove=remove,
                                       label=" or ".join(filter_values(facet, value))))
    return chosen


def _previous(services: Services, search: SearchRequest, results: SearchResults, kept: Params,
              addresses: Addresses) -> str | None:
    """The page before this one. Cursors mark the last hit shown, not an offset, so the cursor
    that led to the previous page is the next cursor of a search for the hits before it; that
    search is one request of at most MAX_PAGE_SIZE hits, so a previous page further back than
    that has no link (the first page always has one)."""
    if not search.cursor or results.offset <= 0:
        return None
    before = results.offset - search.size
    if before <= 0:
        return addresses.of(kept)
    if before > MAX_PAGE_SIZE:
        return None
    lead = services.search(search.model_copy(update={
        "cursor": None, "size": before, "facets": False, "variables_per_hit": 0}))
    return addresses.of(kept + [("cursor", lead.next_cursor)]) if lead.next_cursor else None
