"""Fetching over real HTTP from servers on 127.0.0.1: redirects, retries, limits, failures."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from discovery.errors import HarvestError
from discovery.harvest.http import fetch, open_client
from tests.harvest.oai_server import CORPUS_LIST_RECORDS, LocalServer, OaiServer, Reply

PAGE = CORPUS_LIST_RECORDS.read_bytes()


def respond(path: str) -> Reply:
    routes = {
        "/page.xml": Reply(200, PAGE, {"Content-Type": "text/xml; charset=utf-8"}),
        "/moved": Reply(302, b"", {"Location": "/page.xml"}),
        "/missing": Reply(404, b"no such page"),
        "/forbidden": Reply(403, b"go away"),
        "/big": Reply(200, b"x" * 5000),
        "/big-unsized": Reply(200, b"x" * 5000, sized=False),
        "/slow": Reply(200, b"late", delay=1.0),
        "/loop": Reply(302, b"", {"Location": "/loop"}),
        "/to-ftp": Reply(302, b"", {"Location": "ftp://127.0.0.1/page.xml"}),
    }
    return routes.get(urlsplit(path).path, Reply(404, b""))


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer(respond) as server:
        yield server


@pytest.fixture
def oai_site() -> Iterator[OaiServer]:
    with OaiServer() as server:
        yield server


def test_fetch_returns_the_body_and_media_type(site: LocalServer) -> None:
    doc = fetch(f"{site.root}/page.xml")
    assert doc.content == PAGE
    assert doc.media_type == "text/xml"
    assert doc.location == f"{site.root}/page.xml"


def test_redirects_are_followed(site: LocalServer) -> None:
    doc = fetch(f"{site.root}/moved")
    assert doc.content == PAGE
    assert doc.location == f"{site.root}/moved"  # the URL asked for names the source


def test_a_shared_client_stays_open(site: LocalServer) -> None:
    with open_client() as client:
        first = fetch(f"{site.root}/page.xml", client=client)
        second = fetch(f"{site.root}/moved", client=client)
        assert not client.is_closed
    assert first.content == second.content == PAGE


def test_two_503s_then_success(oai_site: OaiServer) -> None:
    oai_site.fail_next(2)
    doc = fetch(f"{oai_site.url}?verb=Identify", backoff=0.01)
    assert b"<Identify>" in doc.content
    assert len(oai_site.requests) == 3


def test_retry_after_is_honoured_over_backoff(oai_site: OaiServer) -> None:
    oai_site.fail_next(1, status=429, retry_after="0")
    started = time.monotonic()
    fetch(f"{oai_site.url}?verb=Identify", backoff=30)  # backoff would wait 30 s
    assert time.monotonic() - started < 5
    assert len(oai_site.requests) == 2


def test_a_long_retry_after_fails_at_once(oai_site: OaiServer) -> None:
    oai_site.fail_next(1, status=503, retry_after="3600")
    with pytest.raises(HarvestError, match="wait 3600 s") as caught:
        fetch(f"{oai_site.url}?verb=Identify")
    assert caught.value.hint
    assert len(oai_site.requests) == 1


def test_retries_run_out(oai_site: OaiServer) -> None:
    oai_site.fail_next(5, status=500)
    with pytest.raises(HarvestError, match=r"HTTP 500 .*after 3 attempts"):
        fetch(f"{oai_site.url}?verb=Identify", retries=2, backoff=0.01)
    assert len(oai_site.requests) == 3


@pytest.mark.parametrize("path, status", [("/missing", 404), ("/forbidden", 403)])
def test_client_errors_fail_fast(site: LocalServer, path: str, status: int) -> None:
    before = len(site.requests)
    with pytest.raises(HarvestError) as caught:
        fetch(f"{site.root}{path}", backoff=30)
    error = caught.value
    assert error.reason.startswith(f"HTTP {status}")
    assert error.file == f"{site.root}{path}"
    assert error.hint
    assert len(site.requests) == before + 1


@pytest.mark.parametrize("path", ["/big", "/big-unsized"])
def test_an_oversized_body_is_refused(site: LocalServer, path: str) -> None:
    with pytest.raises(HarvestError, match="too large"):
        fetch(f"{site.root}{path}", max_bytes=4096)
    assert fetch(f"{site.root}{path}", max_bytes=5000).content == b"x" * 5000


def test_a_timeout_is_retried_then_reported(site: LocalServer) -> None:
    before = len(site.requests)
    with pytest.raises(HarvestError, match="ReadTimeout.*after 2 attempts"):
        fetch(f"{site.root}/slow", timeout=0.2, retries=1, backoff=0.01)
    assert len(site.requests) == before + 2


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HarvestError, match="ConnectError.*after 2 attempts"):
        fetch(f"http://127.0.0.1:{port}/", retries=1, backoff=0.01)


def test_a_redirect_loop_fails(site: LocalServer) -> None:
    with pytest.raises(HarvestError, match="too many redirects"):
        fetch(f"{site.root}/loop")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/page.xml", "page.xml"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(HarvestError, match="unsupported URL scheme"):
        fetch(url)


def test_a_redirect_to_another_scheme_fails(site: LocalServer) -> None:
    with pytest.raises(HarvestError, match="unsupported protocol"):
        fetch(f"{site.root}/to-ftp", backoff=30)

