"""The PostgreSQL catalogue's versioned schema on a real server: `migrate` creates and upgrades it
in one transaction, opening refuses any other version in one line, and a server without pgvector
or a role that may not create it is told what to do; nothing is half-written."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from discovery.catalogue import postgres_schema
from discovery.catalogue.backends import catalogue_exists, open_catalogue
from discovery.catalogue.ingest import ingest
from discovery.catalogue.postgres_schema import SCHEMA_VERSION, migrate
from discovery.errors import CatalogueError
from discovery.harvest.files import documents

# what a newer Discovery would add: a step past today's schema
NEXT_STEP = "CREATE TABLE next_step_table (id TEXT PRIMARY KEY);"


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as db:
        return {name for (name,) in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def refusal(url: str) -> str:
    with pytest.raises(CatalogueError) as caught:
        open_catalogue(url)
    line = caught.value.one_line()
    assert "\n" not in line
    return line


def test_migrate_creates_the_catalogue_once_and_then_changes_nothing(empty_database):
    assert not catalogue_exists(empty_database)
    line = refusal(empty_database)
    assert "holds no Discovery catalogue" in line and "discovery migrate --data" in line
    assert migrate(empty_database) == (0, SCHEMA_VERSION)
    assert catalogue_exists(empty_database)
    assert {"records", "history", "quarantine", "discovery_schema"} <= tables(empty_database)
    assert migrate(empty_database) == (SCHEMA_VERSION, SCHEMA_VERSION)
    with open_catalogue(empty_database) as catalogue:
        assert catalogue.totals()["records"] == 0
    with psycopg.connect(empty_database) as db:
        assert db.execute("SELECT extname FROM pg_extension WHERE extname = 'vector'").fetchone()


def test_an_older_schema_is_refused_until_migrate_upgrades_it(database, monkeypatch):
    monkeypatch.setattr(postgres_schema, "MIGRATIONS", (*postgres_schema.MIGRATIONS, NEXT_STEP))
    monkeypatch.setattr(postgres_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    line = refusal(database)
    assert f"version {SCHEMA_VERSION}, older than this Discovery's {SCHEMA_VERSION + 1}" in line
    assert "run `discovery migrate --data postgresql://" in line
    assert migrate(database) == (SCHEMA_VERSION, SCHEMA_VERSION + 1)  # only the new step ran
    assert "next_step_table" in tables(database)
    open_catalogue(database).close()


def test_a_failing_step_leaves_the_database_as_it_was(database, monkeypatch):
    broken = "CREATE TABLE half_written (id TEXT); SELECT 1 / 0;"
    monkeypatch.setattr(postgres_schema, "MIGRATIONS", (*postgres_schema.MIGRATIONS, broken))
    monkeypatch.setattr(postgres_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(CatalogueError) as caught:
        migrate(database)
    line = caught.value.one_line()
    assert "division by zero" in line and "the database is unchanged" in line and "\n" not in line
    assert "half_written" not in tables(database)
    with psycopg.connect(database) as db:
        assert db.execute("SELECT version FROM discovery_schema").fetchall() == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused_by_open_and_by_migrate(database):
    with psycopg.connect(database) as db:
        db.execute("UPDATE discovery_schema SET version = %s", (SCHEMA_VERSION + 1,))
    assert f"newer than this Discovery's {SCHEMA_VERSION}" in refusal(database)
    with pytest.raises(CatalogueError) as caught:
        migrate(database)
    assert "upgrade Discovery" in caught.value.one_line()


def test_a_server_without_pgvector_is_told_how_to_install_it(empty_database):
    # the server looks for extensions only in an empty folder: as if pgvector were not installed
    without = empty_database + "?options=-c%20extension_control_path%3D/nonexistent"
    with pytest.raises(CatalogueError) as caught:
        migrate(without)
    line = caught.value.one_line()
    assert "no pgvector extension" in line and "install pgvector" in line and "\n" not in line
    assert tables(empty_database) == set()


@pytest.fixture
def owner(postgres, empty_database) -> Iterator[str]:
    """The URL of `empty_database` for a role that owns it and is not a superuser: what a
    hosted PostgreSQL gives a user."""
    role = f"owner_{empty_database.rsplit('/', 1)[1]}"
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
        db.execute(f"ALTER DATABASE {empty_database.rsplit('/', 1)[1]} OWNER TO {role}")
    yield empty_database.replace("postgresql://postgres@", f"postgresql://{role}@")
    with psycopg.connect(empty_database, autocommit=True) as db:
        db.execute(f"DROP OWNED BY {role}")
        db.execute(f"ALTER DATABASE {empty_database.rsplit('/', 1)[1]} OWNER TO postgres")
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"DROP ROLE {role}")


def test_a_role_that_may_not_create_the_extension_is_told_who_must(owner, empty_database):
    with pytest.raises(CatalogueError) as caught:
        migrate(owner)
    line = caught.value.one_line()
    assert "may not create the vector extension" in line and "CREATE EXTENSION vector;" in line
    assert tables(empty_database) == set()
    with psycopg.connect(empty_database, autocommit=True) as db:  # a superuser, once
        db.execute("CREATE EXTENSION vector")
    assert migrate(owner) == (0, SCHEMA_VERSION)
    with open_catalogue(owner) as catalogue:
        assert catalogue.counts_by_kind() == {}


def test_a_role_with_only_table_privileges_reads_and_writes_the_catalogue(postgres, database, corpus):
    """What the README asks for the role of everyday commands: SELECT, INSERT, UPDATE, DELETE."""
    role = f"writer_{database.rsplit('/', 1)[1]}"
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
    try:
        with psycopg.connect(database, autocommit=True) as db:
            db.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        with open_catalogue(database.replace("postgresql://postgres@", f"postgresql://{role}@")
                            ) as catalogue:
            report = ingest(catalogue, documents([str(corpus / "ddi/ddi25_gesis_ZA2800_allbus_1996.xml")]))
            catalogue.quarantine("bad.xml", "malformed XML", raw=b"<")
            assert report.ok and catalogue.counts_by_kind()["study"] == 1
            assert len(catalogue.quarantined()) == 1
    finally:
        with psycopg.connect(database, autocommit=True) as db:
            db.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(postgres.url(), autocommit=True) as db:
            db.execute(f"DROP ROLE {role}")
