"""The services one server process calls: the catalogue (one connection per worker thread,
SQLite or PostgreSQL, since a connection must not be shared across threads mid-query), the search
service when an index exists, the harmonisation matcher (built in the background on first use: its
models and item bank take seconds to load, a minute when the bank is not cached yet), and a
time-limited cache, bounded in bytes, for views that read many records.

Work that must wait its turn (one search, one harmonisation at a time) waits a bounded time and
is then refused with 503 and Retry-After, so a queue of slow requests cannot grow without end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request

from discovery.server.cache import ResponseCache
from discovery.catalogue.backends import Target, cache_folder, catalogue_exists, open_catalogue
from discovery.catalogue.postgres_connection import is_database_url, shown
from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import CatalogueError, DiscoveryError
from discovery.export.catalogue_summary import CatalogueSummary, summarise
from discovery.harmonise.build import build_matcher
from discovery.harmonise.crosswalk import Harmonisation, harmonise
from discovery.harmonise.items import Instrument
from discovery.harmonise.matcher import Matcher
from discovery.search.models import SearchRequest, SearchResults
from discovery.search.deadline import FACET_SECONDS, SEARCH_SECONDS

if TYPE_CHECKING:
    from discovery.harmonise.measured import StudyMatches

T = TypeVar("T")
CACHE_SECONDS = 30.0  # pages reflect an ingest within this long; the catalogue rarely changes
SEARCH_RETRY_SECONDS = 5.0
SEARCH_CACHE_SECONDS = 10.0
SUMMARY_CACHE_SECONDS = 60.0  # a pass over every study
CACHE_BYTES = 256 * 1024 * 1024  # estimated memory of cached views (`cache.footprint`)
TURN_SECONDS = 15.0  # longest wait for the search or the matcher before a 503
MATCHER_WAIT_SECONDS = 20.0  # longest wait for the matcher to load before a 503


class ServiceUnavailable(DiscoveryError):
    """A service the request needs is not there yet (no search index built, say), or is busy;
    `retry_after` says when to try again, where we know."""

    def __init__(self, reason: str, *, file: str | None = None, hint: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(reason, file=file, hint=hint)
        self.retry_after = retry_after


@contextmanager
def turn(lock: threading.Lock, what: str) -> Iterator[None]:
    """Hold `lock`, waiting at most TURN_SECONDS for it."""
    if not lock.acquire(timeout=TURN_SECONDS):
        raise ServiceUnavailable(f"{what} is busy with other requests", retry_after=10,
                                 hint="try again in a few seconds")
    try:
        yield
    finally:
        lock.release()


def services_of(request: Request) -> Services:
    """The services the app was created with (`app.create_app`)."""
    services: Services = request.app.state.services
    return services


class Services:
    def __init__(self, target: Target, site_name: str = "Discovery",
                 base_url: str | None = None, cache_bytes: int = CACHE_BYTES,
                 search_seconds: float = SEARCH_SECONDS, facet_seconds: float = FACET_SECONDS,
                 cache_dir: str | Path | None = None) -> None:
        """`target`: the folder or database URL the catalogue is read from (a replica's will
        do: nothing here writes to it). `cache_dir`: where this process keeps what it derives
        from the catalogue (`backends.cache_folder`)."""
        self.target: Target = str(target) if is_database_url(target) else Path(target)
        self.where = shown(str(target)) if is_database_url(target) else str(target)
        self.cache_dir = cache_folder(self.target, cache_dir)
        self.search_seconds = search_seconds
        self.facet_seconds = facet_seconds
        if not catalogue_exists(self.target):
            raise DiscoveryError("no catalogue here", file=self.where,
                                 hint="run `discovery ingest ../shared/corpus --data FOLDER` "
                                      "first (`discovery migrate` first for a database), or pass --data")
        if is_database_url(self.target):
            open_catalogue(self.target).close()  # a schema of another version is refused here, once
        self.site_name = site_name
        self.base_url = base_url.rstrip("/") if base_url else None
        self._local = threading.local()
        self.cache = ResponseCache(cache_bytes)
        self._search: Any = None
        self._search_error: DiscoveryError | None = None
        self._search_checked = 0.0
        self._search_lock = threading.Lock()
        self._search_call_lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._matcher_error: Exception | None = None
        self._matcher_loader: threading.Thread | None = None
        self._matcher_lock = threading.Lock()  # held while the matcher works
        self._loader_lock = threading.Lock()  # held while the loader thread is started

    @property
    def catalogue(self) -> CatalogueStore:
        """This thread's catalogue, opened again after its connection was lost (a database server
        restarted); while the server cannot be reached, requests get 503."""
        catalogue = getattr(self._local, "catalogue", None)
        if catalogue is None or not catalogue.connected:
            try:
                catalogue = self._local.catalogue = open_catalogue(self.target)
            except CatalogueError as error:
                raise ServiceUnavailable(f"the catalogue cannot be read: {error.reason}",
                                         file=error.file, hint=error.hint, retry_after=10) from None
        return catalogue

    def cached(self, key: Any, compute: Callable[[], T], seconds: float = CACHE_SECONDS) -> T:
        return self.cache.get(key, compute, seconds)

    def search(self, request: SearchRequest) -> SearchResults:
        """Results of identical requests are shared for a few seconds: a page and its facets,
        a reload, many users following one link cost one search. The key holds the index
        generation, so a newly published index answers at once."""
        service = self._search_service()

        def run() -> SearchResults:
            with turn(self._search_call_lock, "search"):
                return service.search(request)
        return self.cached(("search", service.generation, request.model_dump_json()), run,
                           SEARCH_CACHE_SECONDS)

    def summary(self) -> CatalogueSummary:
        """The catalogue's counts, for the explore page and `/api/stats`."""
        return self.cached("summary", lambda: summarise(self.catalogue), SUMMARY_CACHE_SECONDS)

    def harmonise(self, instruments: list[Instrument], threshold: float) -> Harmonisation:
        """One harmonisation at a time on the one matcher: the work is CPU-bound, and the
        matcher's embedding cache is one SQLite handle. The request's items are not cached."""
        matcher = self.matcher()
        with turn(self._matcher_lock, "harmonisation"):
            return harmonise(instruments, matcher, threshold, remember=False)

    def measured(self, question: str, min_score: float, limit: int) -> tuple[int, list[StudyMatches]]:
        """Which studies measured the question: how many search candidates were rescored, and the
        studies (or instruments) whose items scored at least `min_score`, best first."""
        def run() -> tuple[int, list[StudyMatches]]:
            service = self._search_service()  # raises ServiceUnavailable before the import can fail
            from discovery.harmonise.measured import CANDIDATES, candidate_ids, who_measured

            matcher = self.matcher()
            with turn(self._search_call_lock, "search"):
                ids = candidate_ids(service, question, CANDIDATES)
            with turn(self._matcher_lock, "harmonisation"):
                groups = who_measured(question, ids, self.catalogue, matcher, min_score)
            return len(ids), groups[:limit]
        return self.cached(("measured", question, min_score, limit), run)

    def matcher(self, wait: float = MATCHER_WAIT_SECONDS) -> Matcher:
        """The shared matcher, loaded in a background thread from the first call on. Loading
        took 61 s on a catalogue whose item bank was not cached yet (`discovery index` now
        encodes it), so a caller waits at most
        `wait` seconds and is then told to come back; a failed load is retried on the next call."""
        loader = self.load_matcher()
        if loader is not None:
            loader.join(wait)
        if self._matcher is not None:
            return self._matcher
        if self._matcher_error is not None:
            raise ServiceUnavailable(f"the harmonisation models could not be loaded: "
                                     f"{self._matcher_error}", file=self.where,
                                     retry_after=60)
        raise ServiceUnavailable("the harmonisation models are still loading", retry_after=60,
                                 hint="loading takes seconds once `discovery index` has encoded "
                                      "the catalogue's question bank, else several minutes; try "
                                      "again in a minute")

    def load_matcher(self) -> threading.Thread | None:
        """Start loading the matcher unless it is loaded or loading; the loader, while it runs."""
        with self._loader_lock:
            if self._matcher is None and (self._matcher_loader is None
                                          or not self._matcher_loader.is_alive()):
                self._matcher_error = None
                self._matcher_loader = threading.Thread(target=self._load_matcher, daemon=True,
                                                        name="matcher-loader")
                self._matcher_loader.start()
            return self._matcher_loader if self._matcher is None else None

    def _load_matcher(self) -> None:
        try:
            self._matcher = build_matcher(self.target, cache_dir=self.cache_dir)
        except (DiscoveryError, OSError, ValueError, RuntimeError) as error:
            self._matcher_error = error

    def search_available(self) -> bool:
        try:
            self._search_service()
        except ServiceUnavailable:
            return False
        return True

    def _search_service(self) -> Any:
        """The search service, opened once (it follows later index generations itself); while it
        cannot open (no index yet), the reason is remembered and the open is retried every few
        seconds, not on every request."""
        with self._search_lock:
            if self._search is not None:
                return self._search
            now = time.monotonic()
            if self._search_error and now - self._search_checked < SEARCH_RETRY_SECONDS:
                raise self._search_error
            self._search_checked = now
            try:
                from discovery.search.backends import open_searcher
                self._search = open_searcher(self.target, seconds=self.search_seconds,
                                             facet_seconds=self.facet_seconds)
                self._search_error = None
                return self._search
            except ImportError:
                self._search_error = ServiceUnavailable(
                    "search is not installed in this build", hint="item pages still work")
            except DiscoveryError as error:
                self._search_error = ServiceUnavailable(
                    f"search is unavailable: {error.reason}", file=error.file,
                    hint=error.hint or "build the index with `discovery index --data FOLDER`")
            except (OSError, ValueError, RuntimeError) as error:  # an index from another version
                self._search_error = ServiceUnavailable(
                    f"the search index cannot be opened: {error}", file=self.where,
                    hint="rebuild it with `discovery index --rebuild --data FOLDER`")
            raise self._search_error
