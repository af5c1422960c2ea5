"""HEAD, OPTIONS and undeclared methods, as RFC 9110 has them, against a real server."""

from __future__ import annotations

import httpx
import pytest

from tests.server.site import Site

RELATIONS = "relations-study-data-2021-2022"


@pytest.mark.parametrize("path", ["/", f"/items/{RELATIONS}", "/api/stats",
                                  f"/api/items/{RELATIONS}/variables.csv", "/static/style.css"])
def test_head_is_get_without_the_body(search_site: Site, path: str) -> None:
    get = httpx.get(search_site.url + path, timeout=30)
    head = httpx.head(search_site.url + path, timeout=30)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))


@pytest.mark.parametrize("path, allowed", [
    ("/api/search", "GET, HEAD, POST, OPTIONS"),
    ("/api/stats", "GET, HEAD, OPTIONS"),
    ("/api/harmonise", "POST, OPTIONS"),
    (f"/api/items/{RELATIONS}/variables.csv", "GET, HEAD, OPTIONS"),
    ("/harmonise", "GET, HEAD, POST, OPTIONS"),
    ("/static/style.css", "GET, HEAD, OPTIONS"),
])
def test_options_lists_the_methods_of_the_path(search_site: Site, path: str, allowed: str) -> None:
    response = httpx.options(search_site.url + path, timeout=30)
    assert response.status_code == 204 and response.headers["allow"] == allowed
    assert httpx.options(search_site.url + "/api/no-such-route", timeout=30).status_code == 404


@pytest.mark.parametrize("method, path", [("TRACE", "/api/stats"), ("DELETE", f"/api/items/{RELATIONS}"),
                                          ("PUT", "/api/search"), ("PATCH", "/api/harmonise"),
                                          ("GET", "/api/harmonise.csv")])
def test_an_undeclared_method_is_405_with_allow_and_the_error_body(search_site: Site, method: str,
                                                                   path: str) -> None:
    response = httpx.request(method, search_site.url + path, timeout=30)
    assert response.status_code == 405
    allowed = httpx.options(search_site.url + path, timeout=30).headers["allow"]
    assert response.headers["allow"] == allowed
    error = response.json()["error"]
    assert error["status"] == 405 and method in error["message"] and allowed in error["hint"]


def test_an_undeclared_method_on_a_page_is_an_html_405(search_site: Site) -> None:
    response = httpx.put(f"{search_site.url}/items/{RELATIONS}", timeout=30)
    assert response.status_code == 405 and response.headers["content-type"].startswith("text/html")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
