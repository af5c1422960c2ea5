"""A client's mistake is a 4xx with the usual error body, never a 500: bad cursors, unknown facets,
kinds and ranges, values of the wrong type, text no encoding can write, bodies and queries over
their limits. Against a real server on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from discovery.search.models import MAX_FILTER_VALUES, MAX_QUERY
from tests.server.site import Site

FSD = "financial-awareness-of-finnish-people-2014"


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    text = error["message"] + " " + (error["hint"] or "")
    for word in words:
        assert word in text, text


@pytest.mark.parametrize("params, status, words", [
    ({"cursor": "null"}, 400, ["cursor"]),  # was a 500: a cursor that is not base64 JSON
    ({"cursor": "WzEsMiwiYSIsIngiXQ"}, 400, ["cursor", "different query"]),  # another query's
    ({"filter": "planet:Mars"}, 422, ["filter", "country"]),
    ({"filter": "kind:spaceship"}, 422, ["filter", "study"]),  # was a 500 through the facet code
    ({"filter": "country"}, 422, ["filter"]),
    ({"range": "year:abc:"}, 422, ["range"]),
    ({"range": "height:1:2"}, 422, ["range"]),
    ({"range": "year:2020:2000"}, 400, ["minimum 2020 is above maximum 2000"]),
    ({"q": "x" * (MAX_QUERY + 1)}, 422, ["q", "1000"]),
    ({"filter": [f"country:c{n}" for n in range(51)]}, 422, ["filter", "50"]),
])
def test_search_parameters(search_site: Site, params: dict[str, Any], status: int,
                           words: list[str]) -> None:
    for path in ("/api/search", "/api/facets"):
        if "cursor" in params and path == "/api/facets":
            continue
        assert_error(httpx.get(search_site.url + path, params=params, timeout=30), status, *words)


@pytest.mark.parametrize("body, status, words", [
    ({"cursor": "null"}, 400, ["cursor"]),
    ({"filters": {"planet": ["Mars"]}}, 400, ["unknown facet 'planet'"]),  # was a 500
    ({"filters": {"kind": ["spaceship"]}}, 400, ["unknown kind 'spaceship'"]),  # was a 500
    ({"ranges": {"height": [1, 2]}}, 400, ["unknown range 'height'"]),
    ({"q": "x" * (MAX_QUERY + 1)}, 422, ["q"]),
    ({"filters": {"country": ["c"] * (MAX_FILTER_VALUES + 1)}}, 422, ["filters.country"]),
    ({"filters": {"country": ["x" * 201]}}, 422, ["filters.country"]),
    ({"size": "10"}, 422, ["size"]),  # strings are not numbers in a JSON body
    ({"facets": 0}, 422, ["facets"]),
    ({"ranges": {"year": ["1990", None]}}, 422, ["ranges.year"]),
])
def test_search_bodies(search_site: Site, body: dict[str, Any], status: int, words: list[str]) -> None:
    assert_error(httpx.post(search_site.url + "/api/search", json=body, timeout=30), status, *words)


def test_text_no_encoding_can_write_is_refused(search_site: Site) -> None:
    # JSON's \ud800 escape becomes a lone surrogate in Python; it reached the index (a 500)
    for path, body, where in (
            ("/api/search", '{"q": "anxiety \\ud800"}', "q"),
            ("/api/harmonise", '{"instruments": [{"name": "A", "items": ["calm \\ud800"]},'
                               ' {"name": "B", "items": ["nervous"]}]}', "instruments.0.items.0")):
        response = httpx.post(search_site.url + path, content=body.encode(), timeout=30,
                              headers={"content-type": "application/json"})
        assert_error(response, 422, where)


def test_bodies_over_the_limit_are_413_whether_announced_or_streamed(search_site: Site) -> None:
    body = json.dumps({"q": "x", "filters": {"country": ["y" * 1_000_000] * 3}}).encode()
    assert_error(httpx.post(search_site.url + "/api/search", content=body, timeout=30,
                            headers={"content-type": "application/json"}), 413, "larger")

    def chunks() -> Any:
        for _ in range(300):
            yield b" " * 10_000  # 3 MB without a Content-Length
    streamed = httpx.post(search_site.url + "/api/harmonise", content=chunks(), timeout=30,
                          headers={"content-type": "application/json"})
    assert_error(streamed, 413, "larger")
    form = httpx.post(search_site.url + "/harmonise", content=b"items=" + b"x" * 3_000_000, timeout=30,
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 413 and "larger" in form.text


def test_variables_paging_cursor_and_items_of_the_wrong_kind(search_site: Site) -> None:
    bad = httpx.get(f"{search_site.url}/api/items/{FSD}/variables", params={"cursor": "%%%"},
                    timeout=30)
    assert_error(bad, 400, "cursor")
    assert_error(httpx.get(f"{search_site.url}/api/items/{FSD}/variables", timeout=30,
                           params={"cursor": "x" * 1001}), 422, "cursor")
    assert_error(httpx.get(f"{search_site.url}/api/measured", params={"q": "  "}, timeout=30),
                 422, "q")


def test_a_variable_with_control_characters_downloads_as_xlsx(search_site: Site) -> None:
    # the hostile record's one variable is named "Q1\x01\x0b": its workbook failed on every request
    response = httpx.get(f"{search_site.url}/api/items/{search_site.hostile_id}/variables.xlsx",
                         timeout=30)
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"PK")
