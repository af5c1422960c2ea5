"""`discovery` on a postgresql:// target: `migrate` first, then the catalogue commands, `index`,
`search`, `eval`, `measured` and `score-pairs`; `serve` runs on it (tests/server/test_app.py)."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from discovery.catalogue.postgres_schema import SCHEMA_VERSION
from discovery.cli import app
from discovery.index.build import index_paths
from discovery.index.postgres_build import EMBEDDING_CACHE

runner = CliRunner()
FSD = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"
GAD = "instruments/harmony_original_csv/GAD-7_English.csv"


def test_a_database_is_migrated_ingested_indexed_and_searched_through_the_environment(
        empty_database, corpus, monkeypatch, tmp_path, index_data):
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
    cache = tmp_path / "cache"  # the database's embedding cache: the shared index's (no encoding)
    cache.mkdir()
    shutil.copyfile(index_paths(index_data).cache, cache / EMBEDDING_CACHE)
    monkeypatch.setenv("DISCOVERY_CACHE_DIR", str(cache))
    indexed = runner.invoke(app, ["index", "--model", "minilm"])
    said = " ".join(indexed.stdout.split())
    assert indexed.exit_code == 0 and "235 documents" in said and "0 texts encoded" in said, indexed.stderr
    found = runner.invoke(app, ["search", "household income", "--json"])
    assert found.exit_code == 0, found.stderr
    assert json.loads(found.stdout)["hits"][0]["id"] == "financial-awareness-of-finnish-people-2014"
    again = runner.invoke(app, ["ingest", str(corpus / GAD)])  # updates the index it finds
    assert again.exit_code == 0 and "Index updated" in again.stdout, again.stderr
    found = runner.invoke(app, ["search", "feeling nervous anxious or on edge", "--json"])
    assert "gad-7-english" in [hit["id"] for hit in json.loads(found.stdout)["hits"]]
    judged = tmp_path / "judged.tsv"
    judged.write_text("query\tid\tgrade\nfeeling nervous anxious or on edge\tgad-7-english\t2\n",
                      encoding="utf-8")
    scored = runner.invoke(app, ["eval", str(judged), "--mode", "semantic", "--json"])
    assert scored.exit_code == 0, scored.stderr
    assert json.loads(scored.stdout)[str(judged)]["semantic"]["ndcg"]["mean"] > 0
    measured = runner.invoke(app, ["measured", "I feel nervous and anxious", "--json"])
    assert measured.exit_code == 0, measured.stderr
    groups = {group["id"]: group for group in json.loads(measured.stdout)}
    assert groups["gad-7-english"]["items"][0]["text"] == "Feeling nervous, anxious, or on edge"
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("text_1\ttext_2\nI feel nervous\tFeeling nervous, anxious, or on edge\n",
                     encoding="utf-8")
    scored_pairs = runner.invoke(app, ["score-pairs", str(pairs)])
    assert scored_pairs.exit_code == 0, scored_pairs.stderr
    header, row = scored_pairs.stdout.splitlines()
    assert dict(zip(header.split("\t"), row.split("\t"), strict=True))["polarity"] == "1"


def test_migrate_on_a_folder_leaves_a_sqlite_catalogue_ready(tmp_path):
    result = runner.invoke(app, ["migrate", "--data", str(tmp_path / "data")])
    assert result.exit_code == 0 and "the SQLite catalogue is up to date" in result.stdout
    assert (tmp_path / "data").is_dir()
