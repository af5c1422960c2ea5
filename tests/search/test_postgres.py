"""Search inside PostgreSQL (`search/postgres.py`, over `index/postgres_build.py`): the same
answers as the local index where both read the same vectors (one model's, or e5's and MiniLM's
together for English queries), an index kept up to date as records arrive and change (and equal
to one rebuilt from nothing, its two encoders' vectors in step), a running searcher that moves to
the newly published index, and one clear line where there is no index yet."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.ingest import ingest
from discovery.harvest.files import documents, expand
from discovery.index.build import IndexBuildError, index_paths
from discovery.index.postgres_build import EMBEDDING_CACHE, update_postgres_index
from discovery.search.backends import open_searcher
from discovery.search.deadline import SearchTimeout
from discovery.search.models import SearchRequest
from discovery.search.pipeline import Settings
from discovery.search.postgres import PostgresSearcher
from discovery.search.service import SearchService
from tests.conftest import TEMPLATE
from tests.search.built_index import MODEL, ingest_bank, question_bank

QUERIES = ["nervous anxious on edge", "household income", "savings retirement money",
           "parental drug use child protection", "Einkommen"]
PILOT = ("survey_name,year,item_name,item_text\n"
         "Sleep Pilot,2020,S1,How often do you wake up too early and cannot sleep again?\n"
         "Sleep Pilot,2020,S2,Do you feel tired and drowsy during the day?\n")
FSD = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"
FSD_ID = "financial-awareness-of-finnish-people-2014"


def hits(searcher, q: str, **options) -> list[tuple[str, float]]:
    results = searcher.search(SearchRequest(q=q, size=50, **options))
    return [(hit.id, hit.score) for hit in results.hits]


def ranks_alike(local, postgres, q: str) -> None:
    """Meaning alone gives the same hits on both backends, grouped or not, scores equal to
    float32's precision; the PostgreSQL searcher is closed after."""
    try:
        for group in (True, False):
            mine, theirs = (hits(s, q, mode="semantic", group=group) for s in (local, postgres))
            assert [rid for rid, _ in mine] == [rid for rid, _ in theirs]
            assert [score for _, score in mine] == pytest.approx([score for _, score in theirs], abs=1e-4)
    finally:
        postgres.close()


@pytest.mark.parametrize("q", QUERIES)
def test_meaning_alone_ranks_exactly_as_the_local_index_does(index_data, search_database, q):
    """The same vectors in faiss and pgvector: the same hits, scores equal to float32's precision."""
    ranks_alike(open_searcher(index_data), open_searcher(search_database), q)


@pytest.mark.parametrize("q", QUERIES)
def test_keywords_find_the_records_the_local_index_finds(index_data, search_database, q):
    """BM25 in SQL over full-text matches, against tantivy's: the same records fit the query."""
    local, postgres = open_searcher(index_data), open_searcher(search_database)
    try:
        for mode in ("lexical", "hybrid"):
            mine, theirs = (dict(hits(s, q, mode=mode)) for s in (local, postgres))
            assert set(mine) == set(theirs)
    finally:
        postgres.close()


# English queries (e5 and MiniLM answer them together), then queries e5 answers alone
PAIR_QUERIES = ["feeling nervous and worried", "child behaviour problems at school",
                "little interest or pleasure in doing things", "Angst bei Kindern",
                "sentiment de nervosité"]


@pytest.fixture(scope="module")
def bank(tmp_path_factory, corpus) -> Path:
    return question_bank(tmp_path_factory, corpus)


@pytest.fixture(scope="module")
def bank_database(postgres, bank, tmp_path_factory, corpus) -> str:
    """The question bank in a database of its own, indexed with the default models (e5+minilm,
    as the local bank) from the local bank's embedding cache."""
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE search_bank TEMPLATE {TEMPLATE}")
    url = postgres.url("search_bank")
    cache = tmp_path_factory.mktemp("bank-database")
    shutil.copyfile(index_paths(bank).cache, cache / EMBEDDING_CACHE)
    with open_catalogue(url) as catalogue:
        ingest_bank(catalogue, bank, corpus)
        report = update_postgres_index(catalogue, url, cache)
    assert report.full and report.encoded == 0  # both encoders' vectors came from the cache
    return url


@pytest.mark.parametrize("q", PAIR_QUERIES)
def test_both_encoders_rank_as_they_do_in_the_local_index(bank, bank_database, q):
    """MiniLM's vectors join e5's for an English query on both backends alike: the same hits,
    scores equal to float32's precision (the local bank's pair ranks "feeling nervous and
    worried" unlike e5 alone, `tests/search/test_dense_pair.py`)."""
    ranks_alike(SearchService(bank), open_searcher(bank_database), q)


def test_a_filter_narrows_both_encoders_past_their_depth_as_in_the_local_index(bank, bank_database):
    """30 rows a side: every list ends inside its cut, so the filtered query reads each encoder's
    table again within the filter (`dense_pair.PairQuery.semantic`)."""
    local, postgres = SearchService(bank, depth=30), PostgresSearcher(bank_database, Settings(depth=30))
    try:
        request = SearchRequest(q="feeling nervous and worried", size=100, group=False,
                                mode="semantic", filters={"kind": ["question"]})
        mine, theirs = local.search(request), postgres.search(request)
        assert [h.id for h in mine.hits] == [h.id for h in theirs.hits] and len(mine.hits) > 30
        assert [h.score for h in mine.hits] == pytest.approx([h.score for h in theirs.hits], abs=1e-4)
        assert mine.total == theirs.total
        assert mine.model == theirs.model == "multilingual-e5-small-q4 + minilm-l6-int8"
    finally:
        postgres.close()


@pytest.fixture
def small_database(database: str, index_data: Path, tmp_path: Path) -> tuple[str, Path]:
    """A database of its own and a cache folder holding the shared index's vectors."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(index_paths(index_data).cache, cache / EMBEDDING_CACHE)
    return database, cache


def ingested(url: str, *paths: Path) -> None:
    with open_catalogue(url) as catalogue:
        report = ingest(catalogue, documents(expand([str(p) for p in paths])))
        assert report.ok, report.failures


def indexed(url: str, cache: Path, rebuild: bool = False):
    with open_catalogue(url) as catalogue:
        return update_postgres_index(catalogue, url, cache, model=MODEL, rebuild=rebuild)


def test_an_index_follows_new_and_changed_records_and_equals_one_rebuilt(small_database, corpus,
                                                                          tmp_path):
    url, cache = small_database
    ingested(url, corpus / FSD)
    first = indexed(url, cache)
    assert first.full and first.documents == first.indexed > 200
    with psycopg.connect(url) as db:  # the planner has statistics of what was written
        unanalysed = db.execute("SELECT relname FROM pg_stat_user_tables WHERE relname LIKE "
                                "'search_%' AND relname <> 'search_meta' AND last_analyze IS NULL"
                                ).fetchall()
    assert unanalysed == []
    searcher = open_searcher(url)
    try:
        generation = searcher.generation
        assert searcher.search(SearchRequest(q="sleep drowsy")).nothing_fits
        pilot = tmp_path / "pilot.csv"
        pilot.write_text(PILOT, encoding="utf-8")
        ingested(url, pilot)
        update = indexed(url, cache)
        assert not update.full and update.indexed == 3 and update.documents == first.documents + 3
        assert searcher.generation != generation  # the running searcher moved to the new index
        found = searcher.search(SearchRequest(q="tired drowsy during the day"))
        assert found.hits[0].id == "sleep-pilot" and found.hits[0].variables[0].id.endswith("s2")
        pilot.write_text(PILOT.replace("tired and drowsy", "sleepy"), encoding="utf-8")
        ingested(url, pilot)
        changed = indexed(url, cache)
        assert not changed.full and changed.documents == update.documents
        assert searcher.search(SearchRequest(q="drowsy", mode="lexical", spellcheck=False)).nothing_fits
        assert searcher.search(SearchRequest(q="sleepy", mode="lexical")).hits[0].id == "sleep-pilot"
        nothing = indexed(url, cache)
        assert nothing.generation is None and nothing.indexed == 0
        before = {q: hits(searcher, q, filters={"kind": ["variable"]}) for q in QUERIES + ["sleep"]}
        facets = searcher.search(SearchRequest(q="sleep")).facets
        assert indexed(url, cache, rebuild=True).full
        assert {q: hits(searcher, q, filters={"kind": ["variable"]}) for q in before} == before
        assert searcher.search(SearchRequest(q="sleep")).facets == facets
    finally:
        searcher.close()


def vector_rows(url: str) -> dict[str, list[list[int]]]:
    """The rows each vector table holds a vector and a title vector of."""
    with psycopg.connect(url) as db:
        return {table: [[row for (row,) in db.execute(
                    f"SELECT row FROM {table} WHERE {column} IS NOT NULL ORDER BY row")]
                        for column in ("embedding", "title_embedding")]
                for table in ("search_vectors", "search_english_vectors")}


def test_an_index_with_an_english_encoder_keeps_its_vectors_in_step(database, bank, corpus, tmp_path):
    """The default index (e5+minilm, as a local one) keeps MiniLM vectors of the same rows as
    e5's through an update; `--model e5` drops them, from the cache alone."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(index_paths(bank).cache, cache / EMBEDDING_CACHE)  # the study is in the bank
    ingested(database, corpus / FSD)
    with open_catalogue(database) as catalogue:
        first = update_postgres_index(catalogue, database, cache)
    assert first.full and first.encoded == 0 and first.model == "multilingual-e5-small-q4 + minilm-l6-int8"
    before = vector_rows(database)
    assert before["search_english_vectors"] == before["search_vectors"]
    assert len(before["search_vectors"][0]) == first.documents and before["search_vectors"][1]
    pilot = tmp_path / "pilot.csv"
    pilot.write_text(PILOT, encoding="utf-8")
    ingested(database, pilot)
    with open_catalogue(database) as catalogue:
        update = update_postgres_index(catalogue, database, cache)
    assert not update.full and update.encoded == 2 * 4  # 3 records and the study's title, twice
    after = vector_rows(database)
    assert after["search_english_vectors"] == after["search_vectors"] != before["search_vectors"]
    with open_catalogue(database) as catalogue:
        alone = update_postgres_index(catalogue, database, cache, model="e5")
    assert alone.full and alone.encoded == 0
    assert vector_rows(database)["search_english_vectors"] == [[], []]
    with psycopg.connect(database) as db:
        assert db.execute("SELECT model_key, english_key FROM search_meta").fetchall() == [("e5", None)]


def test_a_role_with_only_table_privileges_indexes_and_searches(postgres, small_database, corpus):
    """What the README asks for the role of everyday commands (SELECT, INSERT, UPDATE, DELETE)
    is enough for `discovery index`: the vector indexes come with the schema."""
    url, cache = small_database
    role = f"indexer_{url.rsplit('/', 1)[1]}"
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
    try:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        everyday = url.replace("postgresql://postgres@", f"postgresql://{role}@")
        ingested(everyday, corpus / FSD)
        assert indexed(everyday, cache).documents > 200
        searcher = open_searcher(everyday)
        try:
            assert searcher.search(SearchRequest(q="household income")).hits[0].id == FSD_ID
        finally:
            searcher.close()
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(postgres.url(), autocommit=True) as db:
            db.execute(f"DROP ROLE {role}")


def test_a_search_past_its_time_limit_stops_with_a_timeout(search_database):
    """PostgreSQL cancels a statement running past the search's limit; the searcher says why."""
    hurried = open_searcher(search_database, seconds=0.001)
    try:
        with pytest.raises(SearchTimeout, match="limit"):
            for _ in range(20):  # a fast statement may finish inside even one millisecond
                hurried.search(SearchRequest(q="household income savings retirement"))
    finally:
        hurried.close()
    calm = open_searcher(search_database)
    try:
        assert calm.search(SearchRequest(q="savings")).hits  # other searchers are unharmed
    finally:
        calm.close()


def test_a_database_without_a_search_index_says_so_in_one_line(database):
    with pytest.raises(IndexBuildError) as caught:
        open_searcher(database)
    line = caught.value.one_line()
    assert "no search index in this database yet" in line and "run `discovery index --data" in line
    assert "password" not in line
