"""Every catalogue test runs on both backends: a SQLite catalogue in a temporary folder, and a
database of its own on one real PostgreSQL server started for the session. Each test's database
is copied from a template that `migrate` made once, so a test costs a CREATE DATABASE, not a
server or a migration."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.postgres_schema import migrate
from discovery.catalogue.protocol import CatalogueStore
from tests.postgres_server import PostgresServer

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


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a catalogue lives, on each backend in turn: a folder, or a database URL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("database"))
    return str(tmp_path / "data")


@pytest.fixture
def catalogue(target: str) -> Iterator[CatalogueStore]:
    with open_catalogue(target) as opened:
        yield opened
