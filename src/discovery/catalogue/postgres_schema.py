"""The PostgreSQL catalogue's versioned schema: the steps that build it, `migrate`, which brings a
database up to the current version in one transaction, and the check every opening makes.

A server is shared and its roles may not allow creating tables, so opening never changes the
schema: a database without the current version is refused with a hint to run
`discovery migrate`. Text keys use the "C" collation so that ids sort by code point, as they do
in the SQLite catalogue and in Python.
"""

from __future__ import annotations

from typing import Any

import psycopg

from discovery.catalogue.postgres_connection import connect, one_line, shown
from discovery.errors import CatalogueError

VERSION_TABLE = "discovery_schema"
# Taken by migrations and by every catalogue write: writers queue one after another, as SQLite's
# IMMEDIATE transactions make them, so history numbers commit in order and ids are kept by rules
# that read before they write. The number is arbitrary; it only has to be Discovery's own.
WRITE_LOCK = 0x44697363  # "Disc"

_T = 'TEXT COLLATE "C"'
# What the page caches of every server process key on: one number, bumped by a statement trigger
# in the same transaction as any write to a catalogue table, whichever process or role wrote it,
# so it commits (and reaches a streaming replica) with the data. Bumped once per transaction
# (a transaction-local setting remembers it): an ingest's thousands of statements cost one update.
DATA_VERSION_TABLE = "discovery_data_version"
DATA_CHANGED = "discovery_data_changed"
_BUMPED = "discovery.data_changed"
_CATALOGUE_TABLES = ("documents", "records", "record_sources", "aliases", "relations", "history",
                     "quarantine", "clusters", "harvests")


def counts_as_change(table: str) -> str:
    """The SQL that makes every write to `table` move the data version: a migration that adds a
    table whose contents pages show (a search table, say) runs it for that table."""
    return (f"CREATE TRIGGER {table}_changes_data AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {DATA_CHANGED}();\n")

# MIGRATIONS[n] takes a database from version n to n + 1; the schema's version is their count.
MIGRATIONS: tuple[str, ...] = (
    f"""
CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL);
CREATE TABLE documents (
    hash {_T} PRIMARY KEY, location {_T} NOT NULL, size BIGINT NOT NULL,
    fetched_at {_T} NOT NULL, raw BYTEA NOT NULL);
CREATE TABLE records (
    id {_T} PRIMARY KEY, kind {_T} NOT NULL, title {_T} NOT NULL, parent {_T},
    data TEXT NOT NULL, data_hash {_T} NOT NULL, created_at {_T} NOT NULL, updated_at {_T} NOT NULL,
    stored_order BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE INDEX records_kind ON records(kind);
CREATE INDEX records_parent ON records(parent, stored_order);
CREATE TABLE record_sources (
    record_id {_T} NOT NULL, location {_T} NOT NULL, source {_T} NOT NULL, record_key {_T},
    catalogue {_T}, document_hash {_T} NOT NULL, fetched_at {_T} NOT NULL,
    data TEXT NOT NULL, data_hash {_T} NOT NULL, PRIMARY KEY (record_id, location));
CREATE INDEX record_sources_location ON record_sources(location);
CREATE TABLE aliases (
    alias {_T} NOT NULL, value {_T} NOT NULL, record_id {_T} NOT NULL, location {_T} NOT NULL,
    PRIMARY KEY (alias, record_id, location));
CREATE INDEX aliases_value ON aliases(value);
CREATE INDEX aliases_record ON aliases(record_id);
CREATE TABLE relations (
    subject {_T} NOT NULL, predicate {_T} NOT NULL, object {_T} NOT NULL, evidence {_T},
    confidence DOUBLE PRECISION NOT NULL, location {_T} NOT NULL,
    PRIMARY KEY (subject, predicate, object, location));
CREATE INDEX relations_object ON relations(object);
CREATE INDEX relations_location ON relations(location);
CREATE TABLE history (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, record_id {_T} NOT NULL,
    at {_T} NOT NULL, action {_T} NOT NULL, data_hash {_T}, location {_T});
CREATE INDEX history_record ON history(record_id);
CREATE TABLE quarantine (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at {_T} NOT NULL, location {_T} NOT NULL,
    record {_T}, reason {_T} NOT NULL, hint {_T}, raw BYTEA, digest {_T} NOT NULL UNIQUE);
CREATE INDEX quarantine_location ON quarantine(location);
CREATE TABLE clusters (
    record_id {_T} PRIMARY KEY, cluster_id {_T} NOT NULL, confidence DOUBLE PRECISION NOT NULL,
    evidence {_T});
CREATE INDEX clusters_cluster ON clusters(cluster_id);
CREATE TABLE harvests (
    endpoint {_T} NOT NULL, metadata_prefix {_T} NOT NULL, set_spec {_T} NOT NULL,
    started_at {_T} NOT NULL, PRIMARY KEY (endpoint, metadata_prefix, set_spec));
""",
    # 1 -> 2: the data version, which every transaction that writes a catalogue table moves by one
    f"""
CREATE TABLE {DATA_VERSION_TABLE} (version BIGINT NOT NULL);
INSERT INTO {DATA_VERSION_TABLE} VALUES (1);
CREATE FUNCTION {DATA_CHANGED}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{_BUMPED}', true) IS DISTINCT FROM 'yes' THEN
        UPDATE {DATA_VERSION_TABLE} SET version = version + 1;
        PERFORM set_config('{_BUMPED}', 'yes', true);
    END IF;
    RETURN NULL;
END $$;
""" + "".join(counts_as_change(table) for table in _CATALOGUE_TABLES),
    # 2 -> 3: the search index inside the database (`index/postgres_build.py`); a build rewrites
    # search_meta, so a published index moves the data version as a catalogue write does
    f"""
CREATE TABLE search_meta (
    model {_T} NOT NULL, model_key {_T} NOT NULL, dim INTEGER NOT NULL, seq BIGINT NOT NULL,
    next_row BIGINT NOT NULL, generation BIGINT NOT NULL, built_at {_T} NOT NULL);
CREATE TABLE search_documents (
    row BIGINT PRIMARY KEY, id {_T} NOT NULL UNIQUE, kind {_T} NOT NULL, parent {_T},
    top BIGINT NOT NULL, ord BIGINT NOT NULL DEFAULT 0, side SMALLINT NOT NULL,
    title {_T} NOT NULL, family {_T}, facet_keys TEXT[] NOT NULL, facets JSONB NOT NULL,
    ranges JSONB NOT NULL, year_start DOUBLE PRECISION, year_end DOUBLE PRECISION,
    age_min DOUBLE PRECISION, age_max DOUBLE PRECISION, sample_size DOUBLE PRECISION,
    variables DOUBLE PRECISION, words INTEGER NOT NULL, title_words INTEGER NOT NULL,
    tsv TSVECTOR NOT NULL, body JSONB NOT NULL, embedding vector NOT NULL, title_embedding vector);
CREATE INDEX search_documents_tsv ON search_documents USING gin (tsv);
CREATE INDEX search_documents_facets ON search_documents USING gin (facet_keys);
CREATE INDEX search_documents_top ON search_documents (top);
CREATE INDEX search_documents_parent ON search_documents (parent);
CREATE TABLE search_aliases (
    key {_T} NOT NULL, row BIGINT NOT NULL, code BOOLEAN NOT NULL, PRIMARY KEY (key, row));
CREATE INDEX search_aliases_row ON search_aliases (row);
CREATE TABLE search_vocabulary (word {_T} PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE search_terms (
    side SMALLINT NOT NULL, lexeme {_T} NOT NULL, df INTEGER NOT NULL, PRIMARY KEY (side, lexeme));
CREATE TABLE search_sides (
    side SMALLINT PRIMARY KEY, documents INTEGER NOT NULL, words DOUBLE PRECISION NOT NULL,
    title_words DOUBLE PRECISION NOT NULL);
CREATE TABLE search_facet_values (
    key {_T} PRIMARY KEY, facet {_T} NOT NULL, value {_T} NOT NULL);
CREATE FUNCTION search_native_tsvector(configs regconfig[], body text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    found tsvector := '';
    config regconfig;
BEGIN
    FOREACH config IN ARRAY configs LOOP
        found := found || setweight(to_tsvector(config, body), 'C');
    END LOOP;
    RETURN found;
END $$;
""" + counts_as_change("search_meta"),
    # 3 -> 4: vectors in a narrow table of their own, stored inline: beside the documents' text
    # they were compressed out of line, and an exact scan of the corpus's 16,300 read 55,000 pages
    """
CREATE TABLE search_vectors (row BIGINT PRIMARY KEY, embedding vector NOT NULL, title_embedding vector);
ALTER TABLE search_vectors ALTER COLUMN embedding SET STORAGE PLAIN,
    ALTER COLUMN title_embedding SET STORAGE PLAIN;
INSERT INTO search_vectors SELECT row, embedding, title_embedding FROM search_documents;
ALTER TABLE search_documents DROP COLUMN embedding, DROP COLUMN title_embedding;
""",
    # 4 -> 5: the vector indexes of the models' dimension (both have 384), made here rather than by
    # the first `discovery index`, which would need to own the table; a model of another dimension
    # gets its own when its index is first built
    """
CREATE INDEX IF NOT EXISTS search_vectors_embedding_384 ON search_vectors
    USING hnsw ((embedding::vector(384)) vector_cosine_ops);
CREATE INDEX IF NOT EXISTS search_vectors_title_embedding_384 ON search_vectors
    USING hnsw ((title_embedding::vector(384)) vector_cosine_ops);
""",
    # 5 -> 6: document frequencies per weight (title, text, own language), as tantivy keeps one
    # per field, counted here from an index already built (`index/postgres_build.py` keeps them)
    """
DELETE FROM search_terms;
ALTER TABLE search_terms ADD COLUMN title_df INTEGER NOT NULL, ADD COLUMN native_df INTEGER NOT NULL;
INSERT INTO search_terms
SELECT side, word, COALESCE(max(ndoc) FILTER (WHERE weight = 'B'), 0),
       COALESCE(max(ndoc) FILTER (WHERE weight = 'A'), 0),
       COALESCE(max(ndoc) FILTER (WHERE weight = 'C'), 0)
FROM (VALUES (0), (1)) AS sides(side), unnest(ARRAY['A', 'B', 'C']) AS weight,
     LATERAL ts_stat(format('SELECT tsv FROM search_documents WHERE side = %s', side), weight)
GROUP BY side, word;
""",
    # 6 -> 7: an English encoder's vectors beside the index model's (`index/build.py`,
    # `e5+minilm`), in a narrow table of their own so an exact scan of one model's vectors reads
    # only its pages; an index built before keeps its model alone (no English encoder named) and
    # is searched as before until `discovery index --model e5+minilm` rebuilds it
    f"""
CREATE TABLE search_english_vectors (
    row BIGINT PRIMARY KEY, embedding vector NOT NULL, title_embedding vector);
ALTER TABLE search_english_vectors ALTER COLUMN embedding SET STORAGE PLAIN,
    ALTER COLUMN title_embedding SET STORAGE PLAIN;
CREATE INDEX search_english_vectors_embedding_384 ON search_english_vectors
    USING hnsw ((embedding::vector(384)) vector_cosine_ops);
CREATE INDEX search_english_vectors_title_embedding_384 ON search_english_vectors
    USING hnsw ((title_embedding::vector(384)) vector_cosine_ops);
ALTER TABLE search_meta ADD COLUMN english_model {_T}, ADD COLUMN english_key {_T};
""",
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(url: str) -> tuple[int, int]:
    """Bring the database at `url` to the current schema; returns (version before, after).
    The vector extension (search will need it) is checked and created first; every step runs in
    one transaction, so a failure leaves the database as it was."""
    where = shown(url)
    with connect(url) as db:
        _create_vector(db, where)
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            before = version(db)
            if before > SCHEMA_VERSION:
                raise _newer(before, where)
            try:
                for step in MIGRATIONS[before:]:
                    db.execute(step)
                db.execute(f"DELETE FROM {VERSION_TABLE}")
                db.execute(f"INSERT INTO {VERSION_TABLE} VALUES (%s)", (SCHEMA_VERSION,))
            except psycopg.errors.InsufficientPrivilege as error:
                raise CatalogueError(f"not allowed to change the schema: {one_line(error)}",
                                     file=where, hint="run `discovery migrate` as a role that owns "
                                     "the database, or grant this one CREATE on its schema") from None
            except psycopg.Error as error:
                raise CatalogueError(f"migrating from version {before} to {SCHEMA_VERSION} failed: "
                                     f"{one_line(error)}", file=where,
                                     hint="the database is unchanged; fix the cause and run "
                                          "`discovery migrate` again") from None
    return before, SCHEMA_VERSION


def version(db: psycopg.Connection[Any]) -> int:
    """The schema version a database holds: 0 when it holds no catalogue."""
    row = db.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,)).fetchone()
    if not row or not row[0]:
        return 0
    found = db.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def connect_current(url: str) -> psycopg.Connection[Any]:
    """A connection to `url` whose schema is this Discovery's (`require_current`); closed again
    when it is not."""
    db = connect(url)
    try:
        require_current(db, url)
    except BaseException:
        db.close()
        raise
    return db


def require_current(db: psycopg.Connection[Any], url: str) -> None:
    """Refuse a database whose schema is missing, older or newer than this Discovery's."""
    held = version(db)
    if held == SCHEMA_VERSION:
        return
    if held > SCHEMA_VERSION:
        raise _newer(held, shown(url))
    reason = ("the database holds no Discovery catalogue yet" if held == 0 else
              f"the catalogue's schema is version {held}, older than this Discovery's {SCHEMA_VERSION}")
    raise CatalogueError(reason, file=shown(url),
                         hint=f"run `discovery migrate --data {shown(url)}` first")


def _create_vector(db: psycopg.Connection[Any], where: str) -> None:
    """pgvector must be installed on the server; creating it in the database needs a superuser
    unless someone already has (its control file does not mark it trusted)."""
    if db.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    if not db.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
        raise CatalogueError(
            "the PostgreSQL server has no pgvector extension", file=where,
            hint="install pgvector on the server (e.g. `apt-get install postgresql-18-pgvector`, "
                 "or see github.com/pgvector/pgvector), then run `discovery migrate` again")
    try:
        db.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege:
        raise CatalogueError(
            "this role may not create the vector extension", file=where,
            hint="have a superuser run `CREATE EXTENSION vector;` in this database once, then "
                 "run `discovery migrate` again") from None


def _newer(held: int, where: str) -> CatalogueError:
    return CatalogueError(f"the catalogue's schema is version {held}, newer than this "
                          f"Discovery's {SCHEMA_VERSION}", file=where,
                          hint="upgrade Discovery to the version that migrated this database")
