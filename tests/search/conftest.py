"""The search tests that run on both backends ask for `searcher`: the local index over the shared
small catalogue, and the same catalogue ingested into a database of the session's PostgreSQL
server with its search index built there (from the local index's embedding cache, so nothing is
encoded twice)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.index.build import index_paths
from discovery.index.postgres_build import EMBEDDING_CACHE, update_postgres_index
from discovery.search.backends import open_searcher
from discovery.search.searcher import Searcher
from tests.conftest import TEMPLATE
from tests.postgres_server import PostgresServer
from tests.search.built_index import MODEL, ingest_small


def indexed_database(server: PostgresServer, name: str, scratch: Path, corpus: Path, cache: Path
                     ) -> str:
    """A new database holding the small catalogue and its search index; `cache` is a local
    index's embedding cache, copied into the database's cache folder."""
    with psycopg.connect(server.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    url = server.url(name)
    cache_dir = scratch / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache, cache_dir / EMBEDDING_CACHE)
    with open_catalogue(url) as catalogue:
        ingest_small(catalogue, scratch, corpus)
        update_postgres_index(catalogue, url, cache_dir, model=MODEL)
    return url


@pytest.fixture(scope="session")
def search_database(postgres: PostgresServer, index_data: Path, tmp_path_factory: pytest.TempPathFactory,
                    corpus: Path) -> str:
    return indexed_database(postgres, "search_small", tmp_path_factory.mktemp("search-database"),
                            corpus, index_paths(index_data).cache)


@pytest.fixture(scope="session", params=["local", "postgres"])
def searcher(request: pytest.FixtureRequest, index_data: Path) -> Iterator[Searcher]:
    """The small catalogue's searcher on each backend in turn."""
    target = str(request.getfixturevalue("search_database")) if request.param == "postgres" \
        else index_data
    opened = open_searcher(target)
    yield opened
    opened.close()
