"""Content negotiation: a page's address answers a program that asks for JSON with the record's
API response, and a browser with the page; the two never share a cached body."""

from __future__ import annotations

import httpx
import pytest

from discovery.server.negotiation import api_prefix, wants_json
from tests.server.site import Site

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
EHIS = "ehis-2025-questionnaire-test-es0-sequence-1-questionnaire"


@pytest.mark.parametrize("accept, expected", [
    ("application/json", True), ("application/ld+json", True), (BROWSER, False), ("*/*", False),
    ("", False), ("text/html;q=0.5, application/json", True), ("application/json;q=0.4, text/html", False),
    ("application/json;q=0", False), ("application/json;q=oops", False),
])
def test_json_is_chosen_only_when_preferred_to_html(accept: str, expected: bool) -> None:
    assert wants_json(accept) is expected


def test_only_record_pages_and_the_search_have_an_api_twin() -> None:
    assert api_prefix("/items/x") == ("/items/", "/api/items/")
    assert api_prefix("/questions/x.1") == ("/questions/", "/api/records/")
    assert api_prefix("/") == ("/", "/api/search")
    assert api_prefix("/explore") is None and api_prefix("/items/") is None


FSD = "financial-awareness-of-finnish-people-2014"


@pytest.mark.parametrize("page, api", [
    (f"/items/{FSD}", f"/api/items/{FSD}"), (f"/variables/{FSD}.q1", f"/api/variables/{FSD}.q1"),
    (f"/questionnaires/{EHIS}", f"/api/records/{EHIS}"),
    (f"/questions/{EHIS}.hs1", f"/api/records/{EHIS}.hs1"),
    ("/records/university-of-stirling", "/api/records/university-of-stirling"),
])
def test_a_page_address_asked_for_json_answers_as_the_api(crawl_site: Site, page: str, api: str) -> None:
    as_json = httpx.get(crawl_site.url + page, headers={"accept": "application/json"})
    assert as_json.status_code == 200 and as_json.headers["content-type"] == "application/json"
    assert as_json.json() == httpx.get(crawl_site.url + api).json()
    assert "Accept" in as_json.headers["vary"]
    as_page = httpx.get(crawl_site.url + page, headers={"accept": BROWSER})
    assert as_page.headers["content-type"].startswith("text/html") and "Accept" in as_page.headers["vary"]


def test_the_search_page_asked_for_json_answers_with_the_search(crawl_site: Site) -> None:
    found = httpx.get(crawl_site.url + "/?q=retirement&size=3&group=false",
                      headers={"accept": "application/json"})
    assert found.json()["request"]["q"] == "retirement" and len(found.json()["hits"]) == 3
    missing = httpx.get(crawl_site.url + "/items/no-such-record", headers={"accept": "application/json"})
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
