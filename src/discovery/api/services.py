"""The services one server process calls: the catalogue (one SQLite connection per worker
thread, since a connection must not be shared across threads mid-query), the search service
when an index exists, the harmonisation matcher (built on first use: its models and item bank
take seconds to load), and a small time-limited cache for views that read many records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from discovery.catalogue.store import Catalogue
from discovery.errors import DiscoveryError
from discovery.export.catalogue_summary import CatalogueSummary, summarise
from discovery.harmonise.build import build_matcher
from discovery.harmonise.crosswalk import Harmonisation, harmonise
from discovery.harmonise.items import Instrument
from discovery.harmonise.matcher import Matcher
from discovery.search.models import SearchRequest, SearchResults

if TYPE_CHECKING:
    from discovery.harmonise.measured import StudyMatches

T = TypeVar("T")
CACHE_SECONDS = 30.0  # pages reflect an ingest within this long; the catalogue rarely changes
SEARCH_RETRY_SECONDS = 5.0
SEARCH_CACHE_SECONDS = 10.0
SUMMARY_CACHE_SECONDS = 60.0  # a pass over every study


class ServiceUnavailable(DiscoveryError):
    """A service the request needs is not there yet (no search index built, say)."""


class Services:
    def __init__(self, data_dir: str | Path, site_name: str = "Discovery",
                 base_url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        if not (self.data_dir / "catalogue.sqlite").is_file():
            raise DiscoveryError("no catalogue in this folder", file=str(self.data_dir),
                                 hint="run `discovery ingest ../shared/corpus --data FOLDER` "
                                      "first, or pass --data")
        self.site_name = site_name
        self.base_url = base_url.rstrip("/") if base_url else None
        self._local = threading.local()
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._cache_lock = threading.Lock()
        self._search: Any = None
        self._search_error: DiscoveryError | None = None
        self._search_checked = 0.0
        self._search_lock = threading.Lock()
        self._search_call_lock = threading.Lock()
        self._matcher: Matcher | None = None
        self._matcher_lock = threading.Lock()

    @property
    def catalogue(self) -> Catalogue:
        catalogue = getattr(self._local, "catalogue", None)
        if catalogue is None:
            catalogue = self._local.catalogue = Catalogue(self.data_dir)
        return catalogue

    def cached(self, key: Any, compute: Callable[[], T], seconds: float = CACHE_SECONDS) -> T:
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
        value = compute()
        with self._cache_lock:
            if len(self._cache) > 5000:
                self._cache.clear()
            self._cache[key] = (now + seconds, value)
        return value

    def search(self, request: SearchRequest) -> SearchResults:
        """Results of identical requests are shared for a few seconds: a page and its facets,
        a reload, many users following one link cost one search."""
        service = self._search_service()

        def run() -> SearchResults:
            with self._search_call_lock:  # the index's query-embedding cache is one SQLite handle
                return service.search(request)
        return self.cached(("search", request.model_dump_json()), run, SEARCH_CACHE_SECONDS)

    def summary(self) -> CatalogueSummary:
        """The catalogue's counts, for the explore page and `/api/stats`."""
        return self.cached("summary", lambda: summarise(self.catalogue), SUMMARY_CACHE_SECONDS)

    def harmonise(self, instruments: list[Instrument], threshold: float) -> Harmonisation:
        """One harmonisation at a time on the one matcher: the work is CPU-bound, and the
        matcher's embedding cache is one SQLite handle."""
        with self._matcher_lock:
            return harmonise(instruments, self._shared_matcher(), threshold)

    def measured(self, question: str, min_score: float, limit: int) -> tuple[int, list[StudyMatches]]:
        """Which studies measured the question: how many search candidates were rescored, and the
        studies (or instruments) whose items scored at least `min_score`, best first."""
        def run() -> tuple[int, list[StudyMatches]]:
            service = self._search_service()  # raises ServiceUnavailable before the import can fail
            from discovery.harmonise.measured import CANDIDATES, candidate_ids, who_measured

            with self._search_call_lock:
                ids = candidate_ids(service, question, CANDIDATES)
            with self._matcher_lock:
                groups = who_measured(question, ids, self.catalogue, self._shared_matcher(), min_score)
            return len(ids), groups[:limit]
        return self.cached(("measured", question, min_score, limit), run)

    def _shared_matcher(self) -> Matcher:
        """Built on first use (seconds: two models and the catalogue's item bank); the caller holds
        the matcher lock."""
        if self._matcher is None:
            self._matcher = build_matcher(self.data_dir)
        return self._matcher

    def search_available(self) -> bool:
        try:
            self._search_service()
        except ServiceUnavailable:
            return False
        return True

    def _search_service(self) -> Any:
        """The search service, opened once; while it cannot open (no index yet), the reason is
        remembered and the open is retried every few seconds, not on every request."""
        with self._search_lock:
            if self._search is not None:
                return self._search
            now = time.monotonic()
            if self._search_error and now - self._search_checked < SEARCH_RETRY_SECONDS:
                raise self._search_error
            self._search_checked = now
            try:
                from discovery.search.service import SearchService
                self._search = SearchService(self.data_dir)
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
                    f"the search index cannot be opened: {error}", file=str(self.data_dir),
                    hint="rebuild it with `discovery index --rebuild --data FOLDER`")
            raise self._search_error
