"""Security headers on every response, and only the configured host names answered, against real
servers on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from discovery.server.middleware import SECURITY_HEADERS, host_name
from tests.server.site import Site, serve

RELATIONS = "relations-study-data-2021-2022"


@pytest.mark.parametrize("path", ["/", f"/items/{RELATIONS}", "/api/stats", "/static/style.css",
                                  "/no-such-page", "/api/items/no-such-study", "/openapi.json"])
def test_every_response_carries_the_security_headers(search_site: Site, path: str) -> None:
    response = httpx.get(search_site.url + path, timeout=30)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_forged_host_is_refused_and_never_becomes_a_link(search_site: Site) -> None:
    forged = httpx.get(f"{search_site.url}/api/items/{RELATIONS}", headers={"Host": "evil.example"},
                       timeout=30)
    assert forged.status_code == 400
    error = forged.json()["error"]
    assert "evil.example" in error["message"] and "DISCOVERY_ALLOWED_HOSTS" in error["hint"]
    page = httpx.get(f"{search_site.url}/items/{RELATIONS}", headers={"Host": "evil.example:80"},
                     timeout=30)
    assert page.status_code == 400 and "evil.example" not in page.text.split("<main")[0]
    port = search_site.url.rsplit(":", 1)[1]
    local = httpx.get(f"{search_site.url}/api/items/{RELATIONS}",
                      headers={"Host": f"localhost:{port}"}, timeout=30)
    assert local.status_code == 200
    assert local.json()["url"] == f"http://localhost:{port}/items/{RELATIONS}"


def test_configured_names_and_the_base_url_are_answered(search_site: Site) -> None:
    url = serve(search_site.data, allowed_hosts=["data.example.org"],
                base_url="https://discovery.example.org/")
    for host in ("data.example.org", "DISCOVERY.example.org:443"):
        response = httpx.get(f"{url}/api/items/{RELATIONS}", headers={"Host": host}, timeout=30)
        assert response.status_code == 200, host
        assert response.json()["url"] == f"https://discovery.example.org/items/{RELATIONS}"
    assert httpx.get(f"{url}/api/stats", headers={"Host": "other.example"}, timeout=30).status_code == 400


def test_host_names_are_read_as_browsers_send_them() -> None:
    assert host_name("Example.ORG:8000") == "example.org"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert host_name("a:b:c") == "a:b:c"
    assert host_name("[::1") == ""
