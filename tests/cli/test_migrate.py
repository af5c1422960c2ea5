"""`discovery` on a postgresql:// target: `migrate` first, then the catalogue commands, `index`,
`search`, `eval`, `measured` and `score-pairs`; `serve` runs on it (tests/server/test_app.py);
an index built at an older schema version searches after `migrate`, as it did, until rebuilt."""

from __future__ import annotations

import json
import shutil

import psycopg
from typer.testing import CliRunner

from discovery.catalogue import postgres_schema
from discovery.catalogue.postgres_schema import SCHEMA_VERSION, migrate
from discovery.cli import app
from discovery.index.build import index_paths
from discovery.index.postgres_build import EMBEDDING_CACHE
from tests.search.built_index import question_bank

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


def schema(url: str) -> set[tuple[str, ...]]:
    """Every column (table, name, type, nullable) and index of a database's own tables."""
    with psycopg.connect(url) as db:
        columns = db.execute("SELECT table_name, column_name, udt_name, is_nullable FROM "
                             "information_schema.columns WHERE table_schema = 'public'").fetchall()
        indexes = db.execute("SELECT tablename, indexname, indexdef FROM pg_indexes "
                             "WHERE schemaname = 'public'").fetchall()
    return {tuple(map(str, found)) for found in columns + indexes}


def searched(url: str, q: str) -> list[tuple[str, float]]:
    found = runner.invoke(app, ["search", q, "--json", "--mode", "semantic", "--data", url])
    assert found.exit_code == 0, found.stderr
    return [(hit["id"], hit["score"]) for hit in json.loads(found.stdout)["hits"]]


def test_an_index_of_e5_alone_from_version_6_searches_after_migrate_until_rebuilt_with_both(
        database, empty_database, corpus, tmp_path, tmp_path_factory, monkeypatch):
    """Version 7 adds the English encoder's vectors: a database indexed with e5 alone at version 6
    (made here by taking version 7's additions away again, checked against what the first six
    steps make) is searched as before once migrated, and `discovery index` keeps its model until
    `--model e5+minilm` rebuilds it with both encoders, from the cache alone."""
    cache = tmp_path / "cache"  # the question bank's vectors of both models, the study's among them
    cache.mkdir()
    shutil.copyfile(index_paths(question_bank(tmp_path_factory, corpus)).cache, cache / EMBEDDING_CACHE)
    assert runner.invoke(app, ["ingest", str(corpus / FSD), "--data", database]).exit_code == 0
    built = runner.invoke(app, ["index", "--model", "e5", "--cache-dir", str(cache), "--data", database])
    assert built.exit_code == 0 and "0 texts encoded" in " ".join(built.stdout.split()), built.stderr
    queries = ["household income", "money saved for retirement"]
    before = {q: searched(database, q) for q in queries}
    assert all(before.values())
    with psycopg.connect(database) as db:
        db.execute("DROP TABLE search_english_vectors")
        db.execute("ALTER TABLE search_meta DROP COLUMN english_model, DROP COLUMN english_key")
        db.execute("UPDATE discovery_schema SET version = 6")
    with monkeypatch.context() as patched:
        patched.setattr(postgres_schema, "MIGRATIONS", postgres_schema.MIGRATIONS[:6])
        patched.setattr(postgres_schema, "SCHEMA_VERSION", 6)
        assert migrate(empty_database) == (0, 6)
    assert schema(database) == schema(empty_database)
    refused = runner.invoke(app, ["search", "household income", "--data", database])
    assert refused.exit_code == 2 and "version 6, older" in refused.stderr
    migrated = runner.invoke(app, ["migrate", "--data", database])
    assert migrated.exit_code == 0 and f"went from version 6 to {SCHEMA_VERSION}" in migrated.stdout
    assert {q: searched(database, q) for q in queries} == before
    kept = runner.invoke(app, ["index", "--cache-dir", str(cache), "--data", database])
    assert kept.exit_code == 0 and "nothing to publish" in " ".join(kept.stdout.split()), kept.stderr
    with psycopg.connect(database) as db:
        assert db.execute("SELECT model_key, english_key FROM search_meta").fetchall() == [("e5", None)]
    both = runner.invoke(app, ["index", "--model", "e5+minilm", "--cache-dir", str(cache),
                               "--data", database])
    said = " ".join(both.stdout.split())
    assert both.exit_code == 0 and "built from scratch" in said and "0 texts encoded" in said, both.stderr
    with psycopg.connect(database) as db:
        assert db.execute("SELECT model_key, english_key FROM search_meta").fetchall() == [("e5", "minilm")]
        assert db.execute("SELECT count(*) FROM search_english_vectors").fetchone() == \
            db.execute("SELECT count(*) FROM search_vectors").fetchone()
    assert searched(database, "money saved for retirement") != before["money saved for retirement"]
