"""A PostgreSQL target that cannot be used fails in one line that names it (never with its
password) and says what to do: a URL libpq cannot read, a server that is down, a database that
does not exist."""

from __future__ import annotations

import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.postgres_connection import is_database_url, shown
from discovery.errors import CatalogueError
from tests.postgres_server import free_port


def failure(url: str) -> str:
    with pytest.raises(CatalogueError) as caught:
        open_catalogue(url)
    line = caught.value.one_line()
    assert "\n" not in line and "secret" not in line
    return line


def test_a_url_libpq_cannot_read_is_named_with_the_form_to_write():
    line = failure("postgresql://me:secret@[::1/catalogue")
    assert line.startswith("postgresql://...: not a usable PostgreSQL URL")
    assert "postgresql://USER:PASSWORD@HOST:PORT/DATABASE" in line
    assert "not a usable PostgreSQL URL: invalid URI query parameter" in failure(
        "postgresql://me:secret@127.0.0.1/catalogue?colour=blue")


def test_a_server_that_is_down_is_named_with_what_to_check():
    port = free_port()  # nothing listens there
    line = failure(f"postgresql://me:secret@127.0.0.1:{port}/catalogue")
    assert line.startswith(f"postgresql://me@127.0.0.1:{port}/catalogue: cannot connect to PostgreSQL")
    assert "Connection refused" in line and "check that the server is running" in line


def test_a_database_that_does_not_exist_is_named(postgres):
    line = failure(postgres.url("no_such_catalogue"))
    assert 'database "no_such_catalogue" does not exist' in line


def test_only_postgresql_urls_are_databases_and_passwords_are_never_shown():
    assert is_database_url("postgresql://h/db") and is_database_url("postgres://h/db")
    assert not is_database_url("data") and not is_database_url("postgresql-exports")
    assert shown("postgresql://me:secret@db.example.org:6543/cat?sslmode=require") == \
        "postgresql://me@db.example.org:6543/cat"
