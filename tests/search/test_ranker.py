"""The learned order of a hybrid query's first hits: its shipped weights, the refusal of weights
that do not fit, what it reads of a hit, and where the pipeline applies it (the question bank,
indexed with both encoders) and where it keeps the hand rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import psycopg
import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.index.build import index_paths
from discovery.index.postgres_build import EMBEDDING_CACHE, update_postgres_index
from discovery.search.local import LocalEngine
from discovery.search.models import SearchRequest
from discovery.search.pipeline import Settings, run_search
from discovery.search.ranker import (FEATURES, RERANKED, TEXT, WEIGHTS, RankerError,
                                     packaged_ranker, read_ranker, text_features)
from discovery.search.postgres import PostgresSearcher
from discovery.search.service import SearchService
from tests.conftest import TEMPLATE
from tests.search.built_index import ingest_bank, question_bank

BROAD = "anxiety"  # more than RERANKED hits in the bank, versions not collapsed


@pytest.fixture(scope="module")
def engine(tmp_path_factory, corpus) -> LocalEngine:
    return LocalEngine(question_bank(tmp_path_factory, corpus))


def search(engine: LocalEngine, learned: bool = True, **options):
    request = SearchRequest(**{"size": 100, "facets": False, "collapse": False, **options})
    return run_search(engine, request, Settings(learned=learned))


def test_the_shipped_weights_cover_every_feature():
    ranker = packaged_ranker()
    assert len(ranker.weight) == len(ranker.mean) == len(ranker.spread) == len(FEATURES)
    assert np.isfinite(ranker.weight).all() and (ranker.spread > 0).all()


def test_weights_for_other_features_are_refused_naming_the_file_and_line(tmp_path):
    lines = WEIGHTS.read_text(encoding="utf-8").splitlines()
    renamed = tmp_path / "renamed.tsv"
    renamed.write_text("\n".join([lines[0], lines[1].replace("kept", "hand"), *lines[2:]]) + "\n",
                       encoding="utf-8")
    with pytest.raises(RankerError, match="line 2: expected feature 'kept'") as error:
        read_ranker(renamed)
    assert error.value.one_line().startswith(f"{renamed}: line 2")
    short = tmp_path / "short.tsv"
    short.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(RankerError, match=f"{len(FEATURES) - 1} features, expected {len(FEATURES)}"):
        read_ranker(short)
    garbled = tmp_path / "garbled.tsv"
    garbled.write_text("\n".join([lines[0], "kept\tone\ttwo\tthree", *lines[2:]]) + "\n",
                       encoding="utf-8")
    with pytest.raises(RankerError, match="line 2: .* are not numbers"):
        read_ranker(garbled)
    with pytest.raises(RankerError, match="cannot read"):
        read_ranker(tmp_path / "missing.tsv")


def test_a_hit_whose_title_is_the_query_holds_all_its_words(engine):
    top = search(engine, q=BROAD, size=1).hits[0]
    row = engine.row_of(top.id)
    words = {"anxieti"}  # the index's English stem of the query word
    features = text_features(engine, top.title, words, True, np.array([row], np.int64))[0]
    assert BROAD in top.title.lower()
    assert features[TEXT.index("title_words")] == features[TEXT.index("any_words")] == 1.0
    kinds = [name for name in TEXT if name.startswith("kind_")]
    assert [features[TEXT.index(name)] for name in kinds].count(1.0) == 1
    assert features[TEXT.index(f"kind_{top.kind}")] == 1.0
    assert 0 < features[TEXT.index("e5_cosine")] <= 1 and 0 < features[TEXT.index("minilm_cosine")] <= 1


def test_the_hand_rules_first_hits_are_reordered_and_the_rest_keep_its_order(engine):
    hand = search(engine, learned=False, q=BROAD).hits
    learned = search(engine, q=BROAD).hits
    assert len(hand) == len(learned) > RERANKED
    assert {h.id for h in learned[:RERANKED]} == {h.id for h in hand[:RERANKED]}
    assert [h.id for h in learned[:RERANKED]] != [h.id for h in hand[:RERANKED]]
    assert [h.id for h in learned[RERANKED:]] == [h.id for h in hand[RERANKED:]]
    placed = [h.explanation.learned_score for h in learned[:RERANKED]]
    assert placed == sorted(placed, reverse=True) and None not in placed
    scores = [h.score for h in learned]
    assert scores == sorted(scores, reverse=True)  # one score orders the page
    assert all(h.explanation.learned_score is None for h in learned[RERANKED:])
    fused = {h.id: h.explanation.fused_score for h in hand}
    assert all(h.explanation.fused_score == fused[h.id] for h in learned)  # still the hand rule's
    assert all("placed by the learned ranker" in h.explanation.summary for h in learned[:RERANKED])
    assert not any("learned" in h.explanation.summary for h in learned[RERANKED:])


def test_another_sort_breaks_its_ties_by_the_learned_order(engine):
    """Hits that tie on the number of variables keep the relevance order, learned as it is
    (and so which version stands for a family of them)."""
    by_relevance = search(engine, q=BROAD).hits
    by_size = search(engine, q=BROAD, sort="variables").hits
    assert {h.id for h in by_size} == {h.id for h in by_relevance}
    rank = {h.id: i for i, h in enumerate(by_relevance)}
    assert by_size[0].explanation.learned_score is not None or by_size[0].id not in \
        {h.id for h in by_relevance[:RERANKED]}
    for before, after in zip(by_size, by_size[1:], strict=False):
        if before.variable_count == after.variable_count:
            assert rank[before.id] < rank[after.id]


def test_pages_follow_one_another_across_the_reordered_hits(engine):
    whole = [h.id for h in search(engine, q=BROAD).hits]
    paged, cursor = [], None
    while len(paged) < len(whole):
        results = search(engine, q=BROAD, size=30, cursor=cursor)
        paged += [h.id for h in results.hits]
        cursor = results.next_cursor
    assert paged[:len(whole)] == whole


@pytest.mark.parametrize("options", [{"mode": "lexical"}, {"mode": "semantic"}, {"semantic_weight": 0.3},
                                     {"group": False}])
def test_other_requests_keep_the_hand_rule(engine, options):
    hand = search(engine, learned=False, q=BROAD, **options).hits
    learned = search(engine, q=BROAD, **options).hits
    assert [(h.id, h.score) for h in learned] == [(h.id, h.score) for h in hand]
    assert all(h.explanation.learned_score is None for h in learned)


def test_an_index_with_one_encoder_keeps_the_hand_rule(index_data: Path):
    """The small shared index is built with MiniLM alone: the ranker was fitted with both
    encoders' cosines, so it is not asked."""
    service = SearchService(index_data)
    try:
        results = service.search(SearchRequest(q="anxiety worry", size=20))
    finally:
        service.close()
    assert results.hits and all(h.explanation.learned_score is None for h in results.hits)


def test_a_database_with_both_encoders_is_reordered_too(postgres, tmp_path_factory, corpus):
    """PostgreSQL keeps MiniLM's vectors beside e5's (schema 7), so the shared pipeline reads
    every feature there and places its first hits as it does locally."""
    bank = question_bank(tmp_path_factory, corpus)
    with psycopg.connect(postgres.url(), autocommit=True) as db:
        db.execute(f"CREATE DATABASE search_bank_ranker TEMPLATE {TEMPLATE}")
    url = postgres.url("search_bank_ranker")
    cache = tmp_path_factory.mktemp("ranker-database")
    shutil.copyfile(index_paths(bank).cache, cache / EMBEDDING_CACHE)
    with open_catalogue(url) as catalogue:
        ingest_bank(catalogue, bank, corpus)
        update_postgres_index(catalogue, url, cache)
    request = SearchRequest(q=BROAD, size=100, facets=False, collapse=False)
    hand_searcher, learned_searcher = PostgresSearcher(url, Settings(learned=False)), PostgresSearcher(url)
    try:
        hand, learned = hand_searcher.search(request).hits, learned_searcher.search(request).hits
    finally:
        hand_searcher.close()
        learned_searcher.close()
    assert len(learned) > RERANKED
    assert {h.id for h in learned[:RERANKED]} == {h.id for h in hand[:RERANKED]}
    assert [h.id for h in learned[:RERANKED]] != [h.id for h in hand[:RERANKED]]
    assert all(h.explanation.learned_score is not None for h in learned[:RERANKED])
    assert [h.id for h in learned[RERANKED:]] == [h.id for h in hand[RERANKED:]]
