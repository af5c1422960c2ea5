"""The local searcher: the shared search pipeline (`pipeline.py`) over the local index
(`local.LocalEngine`), kept on the newest published generation while queries run on the one they
started on.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import faiss

from discovery.index.build import index_paths
from discovery.index.generations import Pointer
from discovery.index.reader import IndexReader
from discovery.search.deadline import FACET_SECONDS, SEARCH_SECONDS
from discovery.search.local import LocalEngine
from discovery.search.models import SearchRequest, SearchResults
from discovery.search.pipeline import DEFAULT_FUSION, Settings, run_search
# the pipeline's limits, where callers of the local searcher have long imported them from
from discovery.search.pipeline import DEPTH as DEPTH, FACET_VALUES as FACET_VALUES, NEAREST as NEAREST
from discovery.search.relevance import SemanticCut
from discovery.search.spelling import Speller

P = ParamSpec("P")
R = TypeVar("R")


def _on_one_generation(method: Callable[Concatenate[SearchService, P], R]
                       ) -> Callable[Concatenate[SearchService, P], R]:
    """Run a query method on one generation from start to end (`SearchService._pinned`)."""
    @functools.wraps(method)
    def pinned(self: SearchService, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._pinned():
            return method(self, *args, **kwargs)
    return pinned


class SearchService:
    """The local searcher (`searcher.Searcher`) over the published index, cheap to query many times,
    from several threads (it only reads; the query-vector cache has its own lock). Each query first
    checks the index's pointer file (one small read, `generations.py`); when `discovery index` has
    published a newer generation, the query that notices opens it and swaps it in, while calls
    already running finish on the old one, which is closed (and its folder deleted when no other
    process holds it) after the last."""

    def __init__(self, data_dir: Path, depth: int = DEPTH, fusion: str = DEFAULT_FUSION,
                 seconds: float = SEARCH_SECONDS, facet_seconds: float = FACET_SECONDS) -> None:
        self.data_dir = Path(data_dir)
        # one query is too small to split across threads; queries run side by side instead
        # (measured on the corpus: a 16k-vector exact scan 2.5x faster on one thread)
        faiss.omp_set_num_threads(1)
        self._pointer = Pointer(index_paths(self.data_dir).root)
        self._opened = LocalEngine(self.data_dir)
        self._swap = threading.Lock()  # guards _opened and the users counts
        self._opening = threading.Lock()  # one thread opens a new generation; the rest carry on
        self._local = threading.local()  # the generation the calling thread's query is pinned to
        # tantivy and faiss release the GIL: a hybrid query's two retrievers run side by side
        self.settings = Settings(depth, fusion, seconds, facet_seconds, side_by_side=True)

    @property
    def index(self) -> IndexReader:
        return self._current().index

    @property
    def cut(self) -> SemanticCut:
        return self._current().cut

    @property
    def speller(self) -> Speller:
        return self._current().speller

    @property
    def model(self) -> str:
        return self.index.model

    @property
    def generation(self) -> str:
        """The generation new queries run on (after picking up a newly published one)."""
        self.refresh()
        return self._opened.index.generation

    def close(self) -> None:
        self._opened.index.close()

    def refresh(self) -> None:
        """Swap in the published generation if it is newer than the open one. Opening one takes
        0.13-0.20 s on the corpus; queries arriving meanwhile run on the old generation."""
        if self._pointer.name() in (None, self._opened.index.generation):
            return
        if not self._opening.acquire(blocking=False):
            return
        try:
            if self._pointer.name() in (None, self._opened.index.generation):
                return
            opened = LocalEngine(self.data_dir)
            with self._swap:
                old, self._opened = self._opened, opened
                old.retired = True
                idle = old.users == 0
            if idle:
                old.index.close()
        finally:
            self._opening.release()

    def _current(self) -> LocalEngine:
        return getattr(self._local, "opened", None) or self._opened

    @contextmanager
    def _pinned(self) -> Iterator[None]:
        """Within this block the calling thread's `index`, `cut` and `speller` are one
        generation's, whatever is published meanwhile (nested blocks share the outer one's)."""
        if getattr(self._local, "opened", None) is not None:
            yield
            return
        self.refresh()
        with self._swap:
            opened = self._opened
            opened.users += 1
        self._local.opened = opened
        try:
            yield
        finally:
            self._local.opened = None
            with self._swap:
                opened.users -= 1
                done = opened.retired and opened.users == 0
            if done:
                opened.index.close()

    @_on_one_generation
    def search(self, request: SearchRequest) -> SearchResults:
        return run_search(self._current(), request, self.settings)
