"""Shared fixtures: the real corpus beside the repository, catalogues, indexes and sites built
from it once per session (here, so that every test folder shares one copy of each), and one real
PostgreSQL server per session, started only when a test asks for a database: each test's
database is copied from a template that `migrate` made once, so a test costs a CREATE DATABASE,
not a server or a migration."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from discovery.catalogue.postgres_schema import migrate
from discovery.search.service import SearchService
from discovery.sources.base import Document
from tests.server.site import Site, site
from tests.postgres_server import PostgresReplica, PostgresServer
from tests.search.built_index import shared_index

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}; clone ../shared beside the repo")
    return CORPUS


def load(path: Path) -> Document:
    """A Document for a corpus file, as the file harvester would make it."""
    return Document(location=str(path), content=path.read_bytes())


@pytest.fixture(scope="session")
def index_data(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    return shared_index(tmp_path_factory, corpus)


@pytest.fixture(scope="session")
def service(index_data: Path) -> SearchService:
    return SearchService(index_data)


@pytest.fixture(scope="session")
def search_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("search", tmp_path_factory.getbasetemp() / "web-sites", corpus)


@pytest.fixture(scope="session")
def full_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("full", tmp_path_factory.getbasetemp() / "web-sites", corpus)


TEMPLATE = "discovery_template"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        with psycopg.connect(server.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {TEMPLATE}")
        migrate(server.url(TEMPLATE))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_replica(postgres: PostgresServer) -> Iterator[PostgresReplica]:
    """A streaming replica of the session's server, started when a test first asks for it."""
    replica = PostgresReplica(postgres)
    try:
        yield replica
    finally:
        replica.stop()


@pytest.fixture
def empty_database(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new database without a catalogue (what a user brings to `migrate`)."""
    yield from _database(postgres, "")


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a new database holding an empty catalogue at the current schema."""
    yield from _database(postgres, f" TEMPLATE {TEMPLATE}")


def _database(server: PostgresServer, template: str) -> Iterator[str]:
    name = f"test_{next(_numbers)}"
    with psycopg.connect(server.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}{template}")
    try:
        yield server.url(name)
    finally:
        with psycopg.connect(server.url(), autocommit=True) as db:
            db.execute(f"DROP DATABASE {name} WITH (FORCE)")
