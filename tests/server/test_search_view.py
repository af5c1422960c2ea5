"""The search view: `/api/search` and the search page show one view of a search, with the same
hits, counts and links (toggle a facet value, drop a filter, first, previous and next page)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from lxml import html

from discovery.search.models import SearchRequest
from discovery.search.service import SearchService
from discovery.server.search_view import Addresses, search_view
from discovery.server.services import Services
from tests.server.site import Site

# Variables about retirement, a few a page: several pages, facets, a chosen filter of two values.
QUERY = [("q", "retirement"), ("group", "false"), ("size", "3"), ("filter", "kind:variable"),
         ("filter", "kind:question")]


def relative(site: Site, url: str | None) -> tuple[str, list[tuple[str, str]]] | None:
    """A link as (path, query pairs), with the API's search address read as the page's."""
    if url is None:
        return None
    parts = urlsplit(url.removeprefix(site.url))
    return ("/" if parts.path == "/api/search" else parts.path), parse_qsl(parts.query)


def api(site: Site, params: list[tuple[str, str]]) -> dict[str, Any]:
    response = httpx.get(site.url + "/api/search", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def shown(site: Site, params: list[tuple[str, str]]) -> dict[str, Any]:
    """What the search page shows for `params`, in the API's terms."""
    response = httpx.get(site.url + "/", params=params, timeout=30)
    assert response.status_code == 200, response.text
    tree = html.fromstring(response.text)
    pager = {link.get("rel"): link.get("href") for link in tree.cssselect("nav.pager a")}
    position = tree.cssselect("nav.pager .position")
    return {
        "total": int(tree.cssselect("#results")[0].get("data-total")),
        "hits": [link.get("href") for link in tree.cssselect("li.hit h3 a")],
        "facets": {box.get("value"): (box.get("checked") is not None,
                                      int(re.sub(r"\D", "", box.getparent().cssselect(".count")[0]
                                                 .text_content()))
                                      if box.getparent().cssselect(".count") else None,
                                      box.get("data-toggle"))
                   for box in tree.cssselect("input.facet-box")},
        "chips": [link.get("href") for link in tree.cssselect("ul.active-filters a.chip")],
        "position": position[0].text_content() if position else None,
        "next": pager.get("next"), "previous": pager.get("prev"),
        "first": pager.get("first") or pager.get("prev"),  # on page 2 they are one link
    }


def same_view(site: Site, params: list[tuple[str, str]]) -> dict[str, Any]:
    """Assert that the page and the API show `params` alike; the API's answer."""
    body, page = api(site, params), shown(site, params)
    assert page["total"] == body["total"]
    assert [relative(site, url) for url in page["hits"]] == [relative(site, h["page"]) for h in body["hits"]]
    options = {o["filter"]: (o["chosen"], o["count"], o["toggle"])
               for values in body["facets"].values() for o in values}
    assert page["facets"], "the page lists facet values"
    for value, (chosen, count, toggle) in page["facets"].items():
        assert (chosen, count) == options[value][:2], value
        assert relative(site, toggle) == relative(site, options[value][2]), value
    assert [relative(site, url) for url in page["chips"]] == [
        relative(site, f["remove"]) for f in body["filters"] if f["remove"]]
    pager = body["pager"]
    assert page["position"] == (f"{pager['start']:,}–{pager['end']:,} of {pager['total']:,}"
                                + ("" if pager["total_exact"] else "+"))
    for rel in ("next", "previous"):
        assert relative(site, page[rel]) == relative(site, pager[rel]), rel
    assert relative(site, page["first"]) == relative(site, pager["first"])
    return body


def test_the_page_and_the_api_show_the_same_hits_counts_and_links(search_site: Site) -> None:
    first = same_view(search_site, QUERY)
    assert first["pager"]["start"] == 1 and first["pager"]["next"] and first["pager"]["previous"] is None
    assert first["hits"] and all(h["page"].startswith(search_site.url + "/") for h in first["hits"])
    second = same_view(search_site, relative(search_site, first["pager"]["next"])[1])
    assert second["pager"]["start"] == 4
    assert relative(search_site, second["pager"]["previous"]) == ("/", QUERY)
    third = same_view(search_site, relative(search_site, second["pager"]["next"])[1])
    assert third["pager"]["start"] == 7
    # the previous page of the third is the second, by a cursor of its own
    back = api(search_site, relative(search_site, third["pager"]["previous"])[1])
    assert [h["id"] for h in back["hits"]] == [h["id"] for h in second["hits"]]
    assert relative(search_site, third["pager"]["first"]) == ("/", QUERY)


def test_a_toggle_link_ticks_its_value_and_its_toggle_leads_back(search_site: Site) -> None:
    body = api(search_site, [("q", "money")])
    country = next(o for o in body["facets"]["country"] if not o["chosen"])
    assert relative(search_site, country["toggle"]) == ("/", [("q", "money"),
                                                             ("filter", f"country:{country['value']}")])
    ticked = api(search_site, relative(search_site, country["toggle"])[1])
    assert ticked["total"] == country["count"]
    option = next(o for o in ticked["facets"]["country"] if o["value"] == country["value"])
    assert option["chosen"] and relative(search_site, option["toggle"]) == ("/", [("q", "money")])
    [chosen] = ticked["filters"]
    assert chosen["facet"] == "country" and relative(search_site, chosen["remove"]) == ("/", [("q", "money")])


def test_a_country_in_another_spelling_is_ticked_under_its_name(search_site: Site) -> None:
    body = same_view(search_site, [("q", "family"), ("filter", "country:GB")])
    uk = next(o for o in body["facets"]["country"] if o["value"] == "United Kingdom")
    assert uk["chosen"] and relative(search_site, uk["toggle"]) == ("/", [("q", "family")])
    assert [(f["value"], f["label"]) for f in body["filters"]] == [("GB", "United Kingdom")]


def test_the_post_answer_links_to_the_same_search_as_a_query_string(search_site: Site) -> None:
    body = {"q": "retirement", "group": False, "size": 3, "filters": {"kind": ["variable"]}}
    posted = httpx.post(search_site.url + "/api/search", json=body, timeout=30).json()
    path, params = relative(search_site, posted["pager"]["next"])
    following = api(search_site, params)
    assert following["pager"]["start"] == 4 and following["request"]["filters"] == {"kind": ["variable"]}


def test_the_schema_documents_the_links(search_site: Site) -> None:
    schemas = httpx.get(search_site.url + "/openapi.json", timeout=30).json()["components"]["schemas"]
    assert "toggle" in schemas["FacetOption"]["properties"]
    assert {"first", "previous", "next"} <= set(schemas["Pager"]["properties"])
    assert {"pager", "filters", "facets", "hits", "as_typed"} <= set(schemas["SearchView"]["properties"])
    assert "page" in schemas["PageHit"]["properties"]


def test_facet_counts_of_a_search_its_depth_cut_short_say_at_least(index_data: Path) -> None:
    """Counted among hits a retriever's depth cut short, a value's count may fall short of what
    its own search lists (a crawl of the demo found 'question 141' whose search lists 161): such
    counts are marked, and the page shows them as '141+'."""
    services = Services(index_data)
    services._search = SearchService(index_data, depth=5)  # a depth this small cuts most short
    search = SearchRequest(q="money", group=False, size=5, mode="lexical")
    results = services.search(search)
    assert not results.total_exact
    view = search_view(services, search, results, [("q", search.q)], Addresses("/api/search"))
    counts = [option for options in view.facets.values() for option in options]
    assert counts and not any(option.count_exact for option in counts)
    whole = SearchRequest(q=search.q, group=False, size=5, mode="lexical")
    exact = Services(index_data)
    exact._search = SearchService(index_data, depth=100_000)
    wide = exact.search(whole)
    assert wide.total_exact
    assert all(option.count_exact for options in search_view(
        exact, whole, wide, [("q", whole.q)], Addresses("/api/search")).facets.values()
        for option in options)
