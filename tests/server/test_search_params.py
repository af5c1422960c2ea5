"""The one reader of search parameters (API, search page, CLI): its syntax, its errors, and its
inverse."""

from __future__ import annotations

import pytest

from discovery.search.models import SearchRequest
from discovery.server.search_params import (BadRequest, parse_filters, parse_ranges, query_of,
                                            search_request)


def test_filters_take_one_syntax_and_read_the_older_spelling_the_same() -> None:
    assert parse_filters(["country:Finland", "kind:study", "country=Germany", "country:Finland"]) == {
        "country": ["Finland", "Germany"], "kind": ["study"]}
    # a value may hold either mark: the first mark splits
    assert parse_filters(["topic:a=b", "catalogue=UK: Data"]) == {"topic": ["a=b"], "catalogue": ["UK: Data"]}


@pytest.mark.parametrize("item, words", [
    ("country", ["'country'", "facet:value"]),
    ("country:", ["facet:value"]),
    ("planet:Mars", ["unknown facet 'planet'"]),
])
def test_a_bad_filter_is_named(item: str, words: list[str]) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_filters([item])
    for word in words:
        assert word in raised.value.reason


def test_ranges_from_parameters_older_spelling_and_form_fields() -> None:
    assert parse_ranges(["year:1990:2000", "age::18", "sample_size=1000:"]) == {
        "year": (1990.0, 2000.0), "age": (None, 18.0), "sample_size": (1000.0, None)}
    assert parse_ranges([], {"year_min": "2001", "year_max": " "}) == {"year": (2001.0, None)}


@pytest.mark.parametrize("item, words", [
    ("year:1990", ["name:min:max"]),
    ("year:1:2:3", ["name:min:max"]),
    ("height:1:2", ["unknown range 'height'"]),
    ("year:abc:", ["'abc' is not a number"]),
    ("year:2020:2000", ["minimum 2020 is above maximum 2000"]),
])
def test_a_bad_range_is_named(item: str, words: list[str]) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_ranges([item])
    for word in words:
        assert word in raised.value.reason


def test_a_query_string_reads_as_the_api_reads_it() -> None:
    request = search_request([
        ("q", "first"), ("q", "money"), ("filter", "country:Finland"), ("range", "year:2000:"),
        ("mode", "lexical"), ("semantic_weight", "0.3"), ("sort", "recent"), ("size", "20"),
        ("cursor", ""), ("group", "0"), ("collapse", "no"), ("spellcheck", "False"),
        ("facets", "off"), ("variables_per_hit", "2"), ("vpage", "3")])  # a page's own: left alone
    assert request == SearchRequest(
        q="money", filters={"country": ["Finland"]}, ranges={"year": (2000.0, None)}, mode="lexical",
        semantic_weight=0.3, sort="recent", size=20, cursor=None, group=False, collapse=False,
        spellcheck=False, facets=False, variables_per_hit=2)
    assert search_request([]) == SearchRequest()


@pytest.mark.parametrize("params, words", [
    ([("size", "1000")], ["size", "100"]),
    ([("group", "maybe")], ["group"]),
    ([("mode", "psychic")], ["mode"]),
    ([("semantic_weight", "heavy")], ["semantic_weight"]),
])
def test_a_bad_field_is_named(params: list[tuple[str, str]], words: list[str]) -> None:
    with pytest.raises(BadRequest) as raised:
        search_request(params)
    for word in words:
        assert word in raised.value.reason


def test_a_request_written_as_a_query_string_reads_back_the_same() -> None:
    request = SearchRequest(q="anxiety & sleep", mode="semantic", semantic_weight=0.7,
                            filters={"country": ["United Kingdom", "GB"], "kind": ["study"]},
                            ranges={"year": (1990.0, None), "age": (12.5, 18.0)}, sort="sample_size",
                            size=50, cursor="abc", similar_to="x", within="y", group=False,
                            collapse=False, spellcheck=False, variables_per_hit=0, facets=False)
    assert search_request(query_of(request)) == request
    assert query_of(SearchRequest()) == []
    assert query_of(SearchRequest(q="x", filters={"kind": ["study"]})) == [("q", "x"),
                                                                            ("filter", "kind:study")]
