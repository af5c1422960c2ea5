"""Fetching over real HTTP from servers on 127.0.0.1 (which every test but the refusal tests
allows explicitly): redirects, retries, limits, failures, refused addresses, the deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from discovery.errors import HarvestError
from discovery.harvest.http import Allowance, fetch, open_client
from tests.harvest.network import watched_sockets
from tests.harvest.oai_server import CORPUS_LIST_RECORDS, LOCAL, LocalServer, OaiServer, Reply

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
        "/trickle": Reply(200, b"x" * 200, trickle=0.05),  # 1 byte / 50 ms: 12 s in all
    }
    if urlsplit(path).path == "/redirect":
        return Reply(302, b"", {"Location": parse_qs(urlsplit(path).query)["to"][0]})
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
    doc = fetch(f"{site.root}/page.xml", allow=LOCAL)
    assert doc.content == PAGE
    assert doc.media_type == "text/xml"
    assert doc.location == f"{site.root}/page.xml"


def test_redirects_are_followed(site: LocalServer) -> None:
    doc = fetch(f"{site.root}/moved", allow=LOCAL)
    assert doc.content == PAGE
    assert doc.location == f"{site.root}/moved"  # the URL asked for names the source


def test_a_shared_client_stays_open(site: LocalServer) -> None:
    with open_client(allow=LOCAL) as client:
        first = fetch(f"{site.root}/page.xml", client=client)
        second = fetch(f"{site.root}/moved", client=client)
        assert not client.is_closed
    assert first.content == second.content == PAGE


def test_two_503s_then_success(oai_site: OaiServer) -> None:
    oai_site.fail_next(2)
    doc = fetch(f"{oai_site.url}?verb=Identify", allow=LOCAL, backoff=0.01)
    assert b"<Identify>" in doc.content
    assert len(oai_site.requests) == 3


def test_retry_after_is_honoured_over_backoff(oai_site: OaiServer) -> None:
    oai_site.fail_next(1, status=429, retry_after="0")
    started = time.monotonic()
    fetch(f"{oai_site.url}?verb=Identify", allow=LOCAL, backoff=30)  # backoff would wait 30 s
    assert time.monotonic() - started < 5
    assert len(oai_site.requests) == 2


def test_a_long_retry_after_fails_at_once(oai_site: OaiServer) -> None:
    oai_site.fail_next(1, status=503, retry_after="3600")
    with pytest.raises(HarvestError, match="wait 3600 s") as caught:
        fetch(f"{oai_site.url}?verb=Identify", allow=LOCAL)
    assert caught.value.hint
    assert len(oai_site.requests) == 1


def test_retries_run_out(oai_site: OaiServer) -> None:
    oai_site.fail_next(5, status=500)
    with pytest.raises(HarvestError, match=r"HTTP 500 .*after 3 attempts"):
        fetch(f"{oai_site.url}?verb=Identify", allow=LOCAL, retries=2, backoff=0.01)
    assert len(oai_site.requests) == 3


@pytest.mark.parametrize("path, status", [("/missing", 404), ("/forbidden", 403)])
def test_client_errors_fail_fast(site: LocalServer, path: str, status: int) -> None:
    before = len(site.requests)
    with pytest.raises(HarvestError) as caught:
        fetch(f"{site.root}{path}", allow=LOCAL, backoff=30)
    error = caught.value
    assert error.reason.startswith(f"HTTP {status}")
    assert error.file == f"{site.root}{path}"
    assert error.hint
    assert len(site.requests) == before + 1


@pytest.mark.parametrize("path", ["/big", "/big-unsized"])
def test_an_oversized_body_is_refused(site: LocalServer, path: str) -> None:
    with pytest.raises(HarvestError, match="too large"):
        fetch(f"{site.root}{path}", allow=LOCAL, max_bytes=4096)
    assert fetch(f"{site.root}{path}", allow=LOCAL, max_bytes=5000).content == b"x" * 5000


def test_a_timeout_is_retried_then_reported(site: LocalServer) -> None:
    before = len(site.requests)
    with pytest.raises(HarvestError, match="ReadTimeout.*after 2 attempts"):
        fetch(f"{site.root}/slow", allow=LOCAL, timeout=0.2, retries=1, backoff=0.01)
    assert len(site.requests) == before + 2


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(HarvestError, match="ConnectError.*after 2 attempts"):
        fetch(f"http://127.0.0.1:{port}/", allow=LOCAL, retries=1, backoff=0.01)


def test_a_redirect_loop_fails(site: LocalServer) -> None:
    with pytest.raises(HarvestError, match="too many redirects"):
        fetch(f"{site.root}/loop", allow=LOCAL)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/page.xml", "page.xml"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(HarvestError, match="unsupported URL scheme"):
        fetch(url)


def test_a_redirect_to_another_scheme_fails(site: LocalServer) -> None:
    with pytest.raises(HarvestError, match="unsupported protocol"):
        fetch(f"{site.root}/to-ftp", allow=LOCAL, backoff=30)


def connections(attempts: list[str]) -> list[str]:
    return [attempt for attempt in attempts if attempt.startswith("socket.connect")]


@pytest.mark.parametrize("url, kind", [
    ("{root}/page.xml", "loopback"),  # the test server itself, not allowed this time
    ("http://localhost:{port}/page.xml", "loopback"),  # a name that resolves to loopback
    ("http://2130706433:{port}/page.xml", "loopback"),  # 127.0.0.1 as one number
    ("http://127.1:{port}/page.xml", "loopback"),
    ("http://[::1]:{port}/page.xml", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/page.xml", "loopback"),  # IPv4 inside IPv6
    ("http://0.0.0.0:{port}/page.xml", "unspecified"),  # reaches this host on Linux
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "non-public"),  # carrier-grade NAT
    ("http://[fe80::1]/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "cloud metadata"),  # NAT64 of the same
])
def test_non_public_addresses_are_refused_before_anything_is_sent(
        site: LocalServer, url: str, kind: str) -> None:
    url = url.format(root=site.root, port=urlsplit(site.root).port)
    before = len(site.requests)
    with watched_sockets(refuse=False) as attempts:
        with pytest.raises(HarvestError, match=f"refused to connect to .*: a {kind} address") \
                as caught:
            fetch(url, backoff=30)
    assert connections(attempts) == []
    assert len(site.requests) == before
    assert caught.value.file == url and "--allow-host" in caught.value.hint


def test_a_redirect_to_a_refused_address_is_not_followed(site: LocalServer) -> None:
    with LocalServer(respond, host="127.0.0.2") as inside:
        targets = [f"{inside.root}/page.xml", "http://169.254.169.254/latest/meta-data/"]
        with watched_sockets(refuse=False) as attempts:
            for target in targets:
                with pytest.raises(HarvestError, match="refused to connect to") as caught:
                    fetch(f"{site.root}/redirect?to={quote(target)}", allow=LOCAL, backoff=30)
                assert caught.value.file.startswith(f"{site.root}/redirect")
        assert inside.requests == []
    assert connections(attempts) and all("127.0.0.1" in a for a in connections(attempts))


def test_the_operator_allows_names_networks_or_every_private_address() -> None:
    with LocalServer(respond, host="127.0.0.2") as inside:
        assert fetch(f"{inside.root}/page.xml", allow=Allowance.of(["127.0.0.0/8"])).content == PAGE
        assert fetch(f"{inside.root}/page.xml", allow=Allowance.of(private=True)).content == PAGE
    with LocalServer(respond) as server:  # localhost may resolve to ::1 first: 127.0.0.1 is next
        port = urlsplit(server.root).port
        doc = fetch(f"http://localhost:{port}/page.xml", allow=Allowance.of(["LOCALHOST"]))
        assert doc.content == PAGE
    with pytest.raises(HarvestError, match="cloud metadata"):
        fetch("http://169.254.169.254/latest/meta-data/", allow=Allowance.of(private=True))


@pytest.mark.parametrize("deadline", [0.8, 3.0])  # cut off in the headers, then in the body
def test_a_trickling_server_is_cut_off_at_the_deadline(site: LocalServer, deadline: float) -> None:
    started = time.monotonic()
    with pytest.raises(HarvestError, match="deadline"):
        fetch(f"{site.root}/trickle", allow=LOCAL, timeout=5, deadline=deadline, backoff=0.01)
    assert time.monotonic() - started < deadline + 1


def test_the_deadline_includes_waiting_to_retry(oai_site: OaiServer) -> None:
    oai_site.fail_next(1, status=503, retry_after="5")
    started = time.monotonic()
    with pytest.raises(HarvestError, match="HTTP 503.*deadline"):
        fetch(f"{oai_site.url}?verb=Identify", allow=LOCAL, deadline=2)
    assert time.monotonic() - started < 1
    assert len(oai_site.requests) == 1
