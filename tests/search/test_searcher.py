"""The search contract and the local searcher: the index's columns cover every facet, range and
kind a request may name, and the local search service answers as a `Searcher`."""

from __future__ import annotations

from typing import get_args

from discovery.index import columns
from discovery.search import models
from discovery.search.searcher import Searcher
from discovery.search.service import SearchService


def test_the_local_index_implements_the_whole_contract():
    assert set(columns.FACETS) == set(models.VALUE_FACETS)
    assert set(columns.RANGES) == set(models.RANGES)
    assert set(columns.KINDS) == set(models.KINDS)
    assert set(columns.SORT_COLUMNS) == set(get_args(models.Sort)) - {"relevance"}


def test_the_search_service_is_a_searcher_counting_every_facet_of_the_contract(service):
    searcher: Searcher = service  # checked by the type checker; the rest by running it
    assert isinstance(service, SearchService)
    results = searcher.search(models.SearchRequest(q="anxiety"))
    assert results.model == searcher.model
    assert set(results.facets) == set(models.FACETS)  # each counted, some maybe with no values
    assert searcher.generation
