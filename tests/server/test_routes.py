"""The JSON API against a real server on 127.0.0.1 over a real catalogue and search index."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from openpyxl import load_workbook

from discovery.catalogue.store import Catalogue
from tests.server.site import HOSTILE_TITLE, Site

FSD = "financial-awareness-of-finnish-people-2014"
RELATIONS = "relations-study-data-2021-2022"
GRANT = "governing-parental-opioid-use-a-relational-ethnography"


def get(site: Site, path: str, **params: object) -> httpx.Response:
    return httpx.get(site.url + path, params=params, timeout=30)  # type: ignore[arg-type]


def test_search_takes_every_parameter_and_pages_with_cursor(search_site: Site) -> None:
    params = {"q": "saving money", "mode": "hybrid", "semantic_weight": 0.3,
              "filter": ["country:Finland", "country:Germany"], "range": "year:2000:2020",
              "sort": "relevance", "size": 1, "variables_per_hit": 3, "group": "true",
              "facets": "true"}
    response = get(search_site, "/api/search", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["request"]["filters"] == {"country": ["Finland", "Germany"]}
    assert body["request"]["ranges"] == {"year": [2000.0, 2020.0]}
    assert body["request"]["semantic_weight"] == 0.3
    assert [hit["id"] for hit in body["hits"]] == [FSD] and body["next_cursor"] is None
    assert 0 < len(body["hits"][0]["variables"]) <= 3
    assert body["hits"][0]["explanation"]["summary"]
    finland = next(v for v in body["facets"]["country"] if v["value"] == "Finland")
    assert finland["count"] == 1 and finland["chosen"]  # each value also carries its toggle link

    flat = get(search_site, "/api/search", q="retirement", group="false", size=2, facets="false",
               filter="kind:variable").json()
    assert flat["facets"] == {} and flat["next_cursor"]
    second = get(search_site, "/api/search", q="retirement", group="false", size=2,
                 facets="false", filter="kind:variable", cursor=flat["next_cursor"]).json()
    first_ids = {hit["id"] for hit in flat["hits"]}
    assert second["hits"] and first_ids.isdisjoint(hit["id"] for hit in second["hits"])


def test_search_post_and_similar_to(search_site: Site) -> None:
    body = {"q": "", "similar_to": RELATIONS, "size": 3, "facets": False}
    response = httpx.post(search_site.url + "/api/search", json=body, timeout=30)
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits and RELATIONS not in [hit["id"] for hit in hits[1:]]


@pytest.mark.parametrize("params, status, words", [
    ({"filter": "planet:Mars"}, 422, ["filter", "country"]),  # the schema's pattern names the facets
    ({"filter": "country"}, 422, ["filter"]),
    ({"range": "year:2020:2000"}, 400, ["minimum 2020 is above maximum 2000"]),
    ({"range": "year:abc:"}, 422, ["range"]),
    ({"size": 1000}, 422, ["size", "100"]),
    ({"mode": "psychic"}, 422, ["mode"]),
])
def test_search_errors_are_json_and_say_what_is_wrong(search_site: Site, params: dict[str, object],
                                                      status: int, words: list[str]) -> None:
    response = get(search_site, "/api/search", q="x", **params)
    assert response.status_code == status
    message = response.json()["error"]["message"] + (response.json()["error"]["hint"] or "")
    for word in words:
        assert word in message


def test_facets_route(search_site: Site) -> None:
    body = get(search_site, "/api/facets", q="money").json()
    assert body["total"] > 0 and "kind" in body["facets"]


def hits_over_pages(address: str) -> tuple[int, list[str]]:
    """A search's total and the ids of its hits, following its next links to the last page."""
    body = httpx.get(address, timeout=30).json()
    total, ids = body["total"], [hit["id"] for hit in body["hits"]]
    while body["pager"]["next"]:
        body = httpx.get(body["pager"]["next"], timeout=30).json()
        ids += [hit["id"] for hit in body["hits"]]
    return total, ids


def test_each_facet_count_is_the_total_its_search_lists_over_all_its_pages(search_site: Site) -> None:
    asked = {"q": "money", "filter": ["country:Finland", "kind:study"], "size": 5}
    body = get(search_site, "/api/search", **asked).json()
    checked = 0
    for facet, options in body["facets"].items():
        for option in (o for o in options if o["count"] is not None):
            total, ids = hits_over_pages(option["narrowed"])
            assert total == len(set(ids)) == len(ids) == option["count"], (facet, option)
            checked += 1
    # a facet with a chosen value is counted without it: its other values are the totals a
    # tick alone would give, not how many of the hits shown also have them
    assert len(body["facets"]["country"]) > 1 and checked > 10
    facets = get(search_site, "/api/facets", q=asked["q"], filter=asked["filter"]).json()["facets"]
    assert {f: [(v["value"], v["count"]) for v in values] for f, values in facets.items()} == \
        {f: [(v["value"], v["count"]) for v in values if v["count"] is not None]
         for f, values in body["facets"].items()}


def test_item_with_sources_grant_and_outputs(search_site: Site) -> None:
    body = get(search_site, f"/api/items/{RELATIONS}").json()
    assert body["record"]["title"] == "The Relations Study Data, 2021-2022"
    assert body["url"] == f"{search_site.url}/items/{RELATIONS}"
    assert body["sources"] and body["sources"][0]["location"].endswith("000_0feec249131aae36.txt")
    [grant] = body["grants"]
    assert grant["project"]["id"] == GRANT and grant["link"]["evidence"]
    assert len(grant["outputs"]) == 20
    by_doi = get(search_site, "/api/items/10.5255/UKDA-SN-857133").json()
    assert by_doi["record"]["id"] == RELATIONS


def test_item_variables_paged_and_filtered(search_site: Site) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = get(search_site, f"/api/items/{FSD}/variables", size=100,
                   **({"cursor": cursor} if cursor else {})).json()
        assert page["total"] == 234
        seen += [row["id"] for row in page["variables"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 234
    found = get(search_site, f"/api/items/{FSD}/variables", q="retirement").json()
    assert 0 < found["total"] < 234
    assert all("retirement" in json.dumps(row).lower() for row in found["variables"])
    assert get(search_site, f"/api/items/{FSD}/variables", size=201).status_code == 422
    bad = get(search_site, f"/api/items/{FSD}/variables", cursor="not-ours!")
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"]


def test_variable_downloads(search_site: Site) -> None:
    text = get(search_site, f"/api/items/{FSD}/variables.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "name", "label"] and len(rows) == 235
    response = get(search_site, f"/api/items/{FSD}/variables.xlsx", q="retirement")
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    matching = get(search_site, f"/api/items/{FSD}/variables", q="retirement").json()["total"]
    assert sheet.max_row == matching + 1
    as_json = get(search_site, f"/api/items/{FSD}/variables.json").json()
    assert len(as_json) == 234 and isinstance(as_json[0]["categories"], list)
    assert get(search_site, f"/api/items/{FSD}/variables.pdf").status_code == 422


def test_citations(search_site: Site) -> None:
    ris = get(search_site, f"/api/items/{RELATIONS}/citation.ris").text
    assert ris.startswith("TY  - DATA") and "DO  - 10.5255/ukda-sn-857133" in ris
    assert ris.rstrip().endswith("ER  -")
    bib = get(search_site, f"/api/items/{RELATIONS}/citation.bib").text
    assert bib.startswith("@misc{relations-study-data-2021-2022,") and "year = {" in bib


def test_project_with_outputs_by_kind_and_datasets(search_site: Site) -> None:
    body = get(search_site, f"/api/projects/{GRANT}").json()
    assert body["record"]["lead_organisation"] == "University of Stirling"
    assert list(body["outputs"]) == ["engagement activity"]
    assert len(body["outputs"]["engagement activity"]) == 20
    assert [d["id"] for d in body["datasets"]] == [RELATIONS]


def test_variable_and_any_record(search_site: Site) -> None:
    body = get(search_site, f"/api/variables/{FSD}.q1").json()
    assert body["study"]["id"] == FSD and body["record"]["categories"]
    assert get(search_site, f"/api/records/{GRANT}").json()["relations"]
    wrong_kind = get(search_site, f"/api/projects/{FSD}")
    assert wrong_kind.status_code == 404 and "not a project" in wrong_kind.json()["error"]["message"]


def test_not_found_is_json_under_api_and_html_elsewhere(search_site: Site) -> None:
    missing = get(search_site, "/api/items/no-such-study")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no record with id or alias 'no-such-study'"
    assert get(search_site, "/api/no-such-route").json()["error"]["status"] == 404
    page = get(search_site, "/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_openapi_and_docs_without_cdn(search_site: Site) -> None:
    spec = get(search_site, "/openapi.json").json()
    for path in ("/api/search", "/api/facets", "/api/items/{key}", "/api/items/{key}/variables",
                 "/api/projects/{key}", "/api/stats"):
        assert path in spec["paths"], path
    docs = get(search_site, "/docs").text
    assert "/api/items/{key}/variables" in docs and "http" not in docs.split("<main")[0].split(
        "stylesheet")[1][:60]
    assert "cdn" not in docs.lower()


def test_sitemap_canonical_and_alias_redirect(search_site: Site) -> None:
    sitemap = get(search_site, "/sitemap.xml").text
    assert f"<loc>{search_site.url}/items/{RELATIONS}</loc>" in sitemap
    assert f"<loc>{search_site.url}/projects/{GRANT}</loc>" in sitemap
    page = get(search_site, f"/items/{RELATIONS}").text
    assert f'<link rel="canonical" href="{search_site.url}/items/{RELATIONS}">' in page
    moved = httpx.get(search_site.url + "/items/10.5255/ukda-sn-857133", timeout=30)
    assert moved.status_code == 301 and moved.headers["location"] == f"/items/{RELATIONS}"
    assert "Sitemap:" in get(search_site, "/robots.txt").text


def test_without_an_index_search_says_so_and_pages_still_work(full_site: Site) -> None:
    response = get(full_site, "/api/search", q="anything")
    assert response.status_code == 503
    assert "discovery index" in response.json()["error"]["hint"]
    home = get(full_site, "/")
    assert home.status_code == 200 and "Browse studies and datasets" in home.text
    assert get(full_site, f"/items/{RELATIONS}").status_code == 200


def test_stats(full_site: Site) -> None:
    body = get(full_site, "/api/stats").json()
    with Catalogue(full_site.data) as catalogue:
        kinds = catalogue.counts_by_kind()
    assert body["kinds"] == kinds
    assert body["studies"] == kinds.get("study", 0) + kinds.get("dataset", 0)
    assert dict(body["countries"])["Finland"] >= 1 and body["years"]


def test_hostile_record_is_data_in_json(search_site: Site) -> None:
    body = get(search_site, f"/api/items/{search_site.hostile_id}").json()
    assert body["record"]["title"] == HOSTILE_TITLE
