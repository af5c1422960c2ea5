"""The page cache answers a repeated GET from memory only while the catalogue and the index it was
made from are unchanged, keeps only what it may, stays within its bytes, and can be turned off."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send
from typer.testing import CliRunner

from discovery.cli import app as cli
from discovery.server.app import app_from_environment, create_app
from discovery.server.page_cache import PAGE_BYTES, PageCache, cacheable
from discovery.catalogue.store import Catalogue


class Counting:
    """An app that answers every request anew, with a body that says how many it answered."""

    def __init__(self, status: int = 200, size: int = 10) -> None:
        self.calls = 0
        self.status = status
        self.size = size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(self.calls).encode().ljust(self.size)})


def get(app: PageCache, path: str, method: str = "GET", host: str = "127.0.0.1",
        accept: str = "text/html") -> tuple[int, bytes]:
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "root_path": "",
             "headers": [(b"host", host.encode()), (b"accept", accept.encode())]}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    Catalogue(tmp_path).close()
    return tmp_path


def test_a_repeated_page_is_made_once(data: Path):
    inner = Counting()
    cache = PageCache(inner, data)
    assert get(cache, "/items/a") == get(cache, "/items/a")
    assert inner.calls == 1
    get(cache, "/items/b")
    get(cache, "/items/a", accept="application/json")  # a page's address may answer JSON
    get(cache, "/items/a", host="example.org")  # absolute links come from the Host
    assert inner.calls == 4


def test_a_commit_to_the_catalogue_from_any_connection_is_seen_by_the_next_request(data: Path):
    inner = Counting()
    cache = PageCache(inner, data)
    get(cache, "/explore")
    other = sqlite3.connect(data / "catalogue.sqlite")
    with other:
        other.execute("CREATE TABLE linked_meanwhile (x)")  # any commit, history or not
    other.close()
    assert get(cache, "/explore")[1].strip() == b"2"


def test_a_newly_published_index_generation_is_seen_by_the_next_request(data: Path):
    inner = Counting()
    cache = PageCache(inner, data)
    get(cache, "/api/search")
    (data / "index").mkdir()
    (data / "index" / "CURRENT").write_text("gen-000001\n")
    get(cache, "/api/search")
    assert inner.calls == 2


def test_only_listed_paths_get_and_200_are_kept(data: Path):
    inner = Counting()
    cache = PageCache(inner, data)
    for _ in range(2):
        get(cache, "/oai")  # each answer carries its response date
        get(cache, "/items/a", method="POST")
    assert inner.calls == 4
    failing = Counting(status=404)
    cache = PageCache(failing, data)
    get(cache, "/items/missing")
    get(cache, "/items/missing")
    assert failing.calls == 2
    assert cacheable("/") and cacheable("/items/x/variables") and not cacheable("/static/a.css")
    assert not cacheable("/api/measured") and not cacheable("/harmonise")


def test_entries_expire_and_the_cache_stays_within_its_bytes(data: Path):
    inner = Counting(size=1000)
    cache = PageCache(inner, data, max_bytes=16 * 1100, seconds=0.0)
    get(cache, "/items/a")
    get(cache, "/items/a")
    assert inner.calls == 2  # expired at once
    cache = PageCache(inner, data, max_bytes=16 * 1100)
    for n in range(100):
        get(cache, f"/items/{n}")
    assert 0 < cache.bytes <= 16 * 1100
    assert len(cache._entries) < 20


def page_caches(app: FastAPI) -> list[int]:
    """The byte budgets of the page caches an app's requests pass through."""
    return [m.kwargs["max_bytes"] for m in app.user_middleware if m.cls is PageCache]


def test_the_page_cache_can_be_turned_off_for_a_server_and_its_workers(data: Path, monkeypatch):
    assert page_caches(create_app(data)) == [PAGE_BYTES]
    assert page_caches(create_app(data, page_cache_bytes=0)) == []
    monkeypatch.setenv("DISCOVERY_DATA", str(data))
    monkeypatch.setenv("DISCOVERY_PAGE_CACHE_MB", "0")  # what `discovery serve --page-cache-mb 0` sets
    assert page_caches(app_from_environment()) == []
    monkeypatch.setenv("DISCOVERY_PAGE_CACHE_MB", "8")
    assert page_caches(app_from_environment()) == [8 * 1024 * 1024]
    refused = CliRunner().invoke(cli, ["serve", "--page-cache-mb", "-1", "--data", str(data)])
    assert refused.exit_code != 0 and "--page-cache-mb" in refused.output
