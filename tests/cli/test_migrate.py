"""`discovery` on a postgresql:// target: `migrate` first, then the catalogue commands; what
needs the search index refuses it in one line (search on PostgreSQL is not built yet); `serve`
runs on it (tests/server/test_app.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from discovery.catalogue.postgres_schema import SCHEMA_VERSION
from discovery.cli import app

runner = CliRunner()
FSD = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"


def test_a_database_is_migrated_then_ingested_and_read_through_the_environment(
        empty_database, corpus, monkeypatch):
    refused = runner.invoke(app, ["stats", "--data", empty_database])
    assert refused.exit_code == 2 and "discovery migrate --data" in refused.stderr
    migrated = runner.invoke(app, ["migrate", "--data", empty_database])
    assert migrated.exit_code == 0 and f"went from version 0 to {SCHEMA_VERSION}" in migrated.stdout
    assert f"already at version {SCHEMA_VERSION}" in runner.invoke(
        app, ["migrate", "--data", empty_database]).stdout
    monkeypatch.setenv("DISCOVERY_DATA", "/nonexistent")  # the database URL comes first
    monkeypatch.setenv("DISCOVERY_DATABASE_URL", empty_database)
    ingested = runner.invoke(app, ["ingest", str(corpus / FSD)])
    assert ingested.exit_code == 0, ingested.stderr
    assert "1 stored" in ingested.stdout and "records compared" in ingested.stdout  # linked too
    assert "study" in runner.invoke(app, ["stats"]).stdout
    listed = runner.invoke(app, ["list", "--kind", "study"]).stdout.splitlines()
    assert len(listed) == 2 and listed[1].endswith(FSD.rsplit("/", 1)[1])
    for command in ("index", "search"):
        args = [command, "anything"] if command == "search" else [command]
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"discovery {command} needs a folder: search on a PostgreSQL catalogue is not built "
            "yet (hint: pass --data FOLDER; ingest, show, list, stats, quarantine, link, links, "
            "export and serve work on a postgresql:// target)")


def test_migrate_on_a_folder_leaves_a_sqlite_catalogue_ready(tmp_path):
    result = runner.invoke(app, ["migrate", "--data", str(tmp_path / "data")])
    assert result.exit_code == 0 and "the SQLite catalogue is up to date" in result.stdout
    assert (tmp_path / "data").is_dir()
