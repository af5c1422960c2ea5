"""Facet columns answer a filter in any spelling with what the facet lists, on the session's
built index (two seeds, a Finnish and a German study, GAD-7, ADVANCE items)."""

from __future__ import annotations

import pytest

from discovery.search.models import SearchRequest
from discovery.search.service import SearchService


def ids(service: SearchService, facet: str, value: str) -> set[str]:
    results = service.search(SearchRequest(filters={facet: [value]}, size=100, facets=False))
    assert results.total == len(results.hits)
    return {hit.id for hit in results.hits}


@pytest.mark.parametrize("facet, spellings", [
    ("country", ["Germany", "DE", "DEU", "deu", "Deutschland", "germany"]),
    ("country", ["United Kingdom", "GB", "GBR", "UK", "Great Britain"]),
    ("country", ["Finland", "FI", "Suomi"]),
    ("language", ["en", "eng", "EN", "en-GB"]),
    ("questionnaire", ["GAD-7", "gad7", "GAD 7"]),
])
def test_a_filter_in_any_spelling_finds_the_same_records(service, facet, spellings):
    found = [ids(service, facet, spelling) for spelling in spellings]
    assert found[0], f"{facet}:{spellings[0]} finds nothing in the fixture"
    assert all(one == found[0] for one in found)


def test_topic_filters_ignore_case_and_the_listed_value_is_folded(service):
    facets = service.search(SearchRequest(size=1)).facets
    topic = facets["topic"][0]
    assert topic.value == topic.value.casefold()
    found = ids(service, "topic", topic.value)
    assert len(found) == topic.count
    assert ids(service, "topic", topic.value.upper()) == found
    assert ids(service, "topic", topic.value.title() + ".") == found


def test_listed_countries_are_iso_names_and_a_place_that_is_none_finds_nothing(service):
    countries = {v.value for v in service.search(SearchRequest(size=1)).facets["country"]}
    assert {"Germany", "Finland", "United Kingdom"} <= countries
    assert "GB" not in countries and "Deutschland" not in countries
    assert ids(service, "country", "Atlantis") == set()
