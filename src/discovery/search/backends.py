"""The one place that turns a target into a searcher, as `catalogue/backends.py` does for the
catalogue: a folder means the local index beside its SQLite catalogue (`service.SearchService`);
a `postgresql://` URL means search inside that database. Callers hold a `Searcher` and never learn
which backend answers.
"""

from __future__ import annotations

from pathlib import Path

from discovery.catalogue.backends import Target
from discovery.catalogue.postgres_connection import is_database_url
from discovery.search.deadline import FACET_SECONDS, SEARCH_SECONDS
from discovery.search.searcher import Searcher


def open_searcher(target: Target, *, seconds: float = SEARCH_SECONDS,
                  facet_seconds: float = FACET_SECONDS) -> Searcher:
    """The searcher over the catalogue at `target`; each query is bounded by `seconds` and its
    facet counts by `facet_seconds`."""
    if is_database_url(target):
        from discovery.search.pipeline import Settings
        from discovery.search.postgres import PostgresSearcher
        return PostgresSearcher(str(target), Settings(seconds=seconds, facet_seconds=facet_seconds))
    from discovery.search.service import SearchService  # faiss and tantivy load only here
    return SearchService(Path(target), seconds=seconds, facet_seconds=facet_seconds)
