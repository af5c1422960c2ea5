"""Whole responses of the read-only pages and API, kept until the data they were made from changes.

An item, variable or project page, an item's API record or its variables are the same bytes for
as long as the catalogue and the index are the same, and rendering them was most of the page
mix's cost (bench/api_load.py). A response is kept under its URL, Host and Accept headers (the
site's absolute links come from the Host; a page's address answers JSON to Accept:
application/json) together with the catalogue's and the index's state:

- the catalogue's data version (`backends.data_version`), read on a connection of this cache's
  own: SQLite's `PRAGMA data_version`, which SQLite changes whenever any other connection, in any
  process, commits to the catalogue (an ingest, a link run, a harvest; the history number alone
  would miss link runs, which write no history); on PostgreSQL, the number that every write
  transaction moves, from whichever process or machine (one indexed read per request).
- the published index generation of a local index (`generations.Pointer`: one stat per request);
  a database's search tables move its data version instead.

So a change is seen by the next request, and a cached page is never older than its data; entries
also expire after `SECONDS`, and the whole cache is bounded in bytes (exact: the bodies and
headers kept), least recently used first out. Only GET answers of 200 are kept, from an allowlist
of paths: not /oai (each answer carries its response date), not the rate-limited work
(harmonise, measured), not the dumps or static files (large, or already cheap).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discovery.catalogue.backends import Target, data_version, index_folder
from discovery.errors import DiscoveryError
from discovery.index.generations import Pointer, index_root

CACHED_PATHS = ("/", "/items/", "/variables/", "/projects/", "/questionnaires/", "/questions/",
                "/records/", "/explore", "/api/search", "/api/facets", "/api/stats", "/api/items/",
                "/api/projects/", "/api/variables/", "/api/records/", "/sitemap.xml", "/robots.txt")
PAGE_BYTES = 64 * 1024 * 1024  # per server process
LARGEST_SHARE = 16  # one response may take at most this fraction of the budget
SECONDS = 300.0


def cacheable(path: str) -> bool:
    return any(path == prefix if not prefix.endswith("/") or prefix == "/" else
               path.startswith(prefix) for prefix in CACHED_PATHS)


class DataState:
    """What the pages are made from, as a value that changes whenever the data does."""

    def __init__(self, target: Target) -> None:
        self._version = data_version(target)
        folder = index_folder(target)
        self._pointer = Pointer(index_root(folder)) if folder is not None else None
        self._lock = threading.Lock()

    def __call__(self) -> tuple[int, str | None]:
        with self._lock:
            version = self._version()
        return version, self._pointer.name() if self._pointer else None

    def close(self) -> None:
        self._version.close()


class StoredResponse:
    def __init__(self, start: Message, body: bytes) -> None:
        self.start = start
        self.body = body
        self.size = len(body) + sum(len(k) + len(v) for k, v in start.get("headers", []))


class PageCache:
    """ASGI middleware: answers a repeated GET from memory while the data is unchanged."""

    def __init__(self, app: ASGIApp, target: Target, max_bytes: int = PAGE_BYTES,
                 seconds: float = SECONDS) -> None:
        self.app = app
        self.state = DataState(target)
        self.max_bytes = max_bytes
        self.seconds = seconds
        self.bytes = 0
        self.hits = self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[float, StoredResponse]] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not cacheable(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            state = self.state()
        except DiscoveryError:  # the database is out of reach: the page itself says so, uncached
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = (scope["path"], scope["query_string"], headers.get("host", ""),
               headers.get("accept", ""), scope.get("root_path", ""), state)
        stored = self._lookup(key)
        if stored is not None:
            await send(stored.start)
            await send({"type": "http.response.body", "body": stored.body})
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and start["status"] == 200:
                    self._store(key, StoredResponse(start, b"".join(chunks)))
            await send(message)
        await self.app(scope, receive, keep)

    def _lookup(self, key: Hashable) -> StoredResponse | None:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found and found[0] > now:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]
            self.misses += 1
            return None

    def _store(self, key: Hashable, stored: StoredResponse) -> None:
        if stored.size > self.max_bytes // LARGEST_SHARE:
            return
        now = time.monotonic()
        with self._lock:
            old = self._entries.pop(key, None)
            if old:
                self.bytes -= old[1].size
            self._entries[key] = (now + self.seconds, stored)
            self.bytes += stored.size
            while self._entries:  # the expired and, past the budget, the least recently used
                oldest, (expires, entry) = next(iter(self._entries.items()))
                if expires > now and self.bytes <= self.max_bytes:
                    break
                del self._entries[oldest]
                self.bytes -= entry.size
