"""The semantic side from two encoders (e5 and MiniLM) on the question bank, whose default index
keeps both: which rows fit, which queries it answers, and filters that only narrow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discovery.catalogue.store import Catalogue
from discovery.index.build import update_index
from discovery.search.dense_pair import PairQuery, reads_english
from discovery.search.local import LocalEngine
from discovery.search.models import SearchRequest
from discovery.search.pipeline import DEPTH
from discovery.search.service import SearchService
from tests.search.built_index import private_copy, question_bank


@pytest.fixture(scope="module")
def bank(tmp_path_factory, corpus) -> Path:
    return question_bank(tmp_path_factory, corpus)


@pytest.fixture(scope="module")
def engine(bank) -> LocalEngine:
    return LocalEngine(bank)


def own_cut(side, q: str) -> set[int]:
    """The rows one encoder alone lets in for `q`."""
    rows, scores = side.semantic_search(side.embed_query(q), DEPTH)
    return set(rows[scores >= side.cut.threshold(float(scores[0]))].tolist())


@pytest.mark.parametrize("q", ["feeling nervous and worried", "child behaviour problems at school",
                               "little interest or pleasure in doing things"])
def test_a_row_fits_when_either_encoder_lets_it_in(engine, q):
    sides = engine.english_pair()
    assert sides is not None
    found, _ = PairQuery(sides, q, DEPTH).semantic(engine.allows, None)
    e5, minilm = own_cut(sides[0], q), own_cut(sides[1], q)
    assert set(found.rows.tolist()) == e5 | minilm
    assert list(found.scores) == sorted(found.scores, reverse=True)
    assert 0.5 <= found.best <= 1.0  # each cosine scaled to 1 at its own encoder's best row


def test_the_english_encoder_finds_rows_e5_alone_does_not(engine):
    sides = engine.english_pair()
    q = "feeling nervous and worried"
    assert own_cut(sides[1], q) - own_cut(sides[0], q)


def test_queries_read_as_english_go_to_the_pair_and_others_to_e5_alone():
    assert reads_english("anxiety in children")
    assert not reads_english("Angst bei Kindern")
    assert not reads_english("ansiedade em crianças")


def test_a_query_in_another_language_is_answered_as_by_e5_alone(bank, tmp_path):
    alone = private_copy(bank, tmp_path / "e5")
    with Catalogue(alone) as catalogue:
        assert update_index(catalogue, alone, model="e5").encoded == 0
    assert LocalEngine(alone).english_pair() is None
    pair, single = SearchService(bank), SearchService(alone)
    for q in ["Angst bei Kindern", "sentiment de nervosité"]:
        request = SearchRequest(q=q, size=20, mode="semantic")
        assert [(h.id, h.score) for h in pair.search(request).hits] == \
            [(h.id, h.score) for h in single.search(request).hits]
    english = SearchRequest(q="feeling nervous and worried", size=20, mode="semantic")
    assert [h.id for h in pair.search(english).hits] != [h.id for h in single.search(english).hits]


def test_results_name_the_encoders_that_read_the_query(bank):
    service = SearchService(bank)
    both = "multilingual-e5-small-q4 + minilm-l6-int8"
    assert service.search(SearchRequest(q="feeling nervous and worried")).model == both
    assert service.search(SearchRequest(q="feeling nervous and worried", mode="semantic")).model == both
    assert service.search(SearchRequest(q="Angst bei Kindern")).model == "multilingual-e5-small-q4"


def test_a_filter_only_narrows_the_pair_even_past_its_depth(bank):
    """With 30 rows a side, every list ends inside its cut: the filtered query reads each side
    again within the filter and keeps every row of that kind the unfiltered query found."""
    service = SearchService(bank, depth=30)
    q, kind = "feeling nervous and worried", "question"
    wide = service.search(SearchRequest(q=q, size=100, group=False, mode="semantic"))
    assert not wide.total_exact
    narrow = service.search(SearchRequest(q=q, size=100, group=False, mode="semantic",
                                          filters={"kind": [kind]}))
    kept = {h.id for h in wide.hits if h.kind == kind}
    assert kept and kept <= {h.id for h in narrow.hits}
    assert {h.kind for h in narrow.hits} == {kind}
    assert narrow.total > len(kept)  # rows past the unfiltered depth that fit
    assert np.all(np.diff([h.score for h in narrow.hits]) <= 1e-12)
