"""Facet columns answer a filter in any spelling with what the facet lists, on the session's
built index (two seeds, a Finnish and a German study, GAD-7, ADVANCE items)."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.index.columns import KINDS, FilterError, RowFilter
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


def _passes(columns, row: int, filters: dict[str, list[str]], year: tuple[int, int] | None,
            within: int | None) -> bool:
    """One row against the filters, read value by value: what `RowFilter` computes in bulk."""
    top = int(columns.top[row])
    if not columns.alive[row] or (within is not None and (top != within or row == within)):
        return False
    for name, wanted in filters.items():
        if name == "kind":
            if KINDS[columns.kind[row]] not in wanted:
                return False
            continue
        facet = columns.facets[name]
        held = set(facet.codes[facet.offsets[top]:facet.offsets[top + 1]].tolist())
        if not held & set(columns.value_codes(name, wanted).tolist()):
            return False
    if year is not None:
        start, end = columns.numbers["year_start"][top], columns.numbers["year_end"][top]
        if not (max(end, start) >= year[0] and min(start, end) <= year[1]):  # NaN: False
            return False
    return True


def test_a_row_filter_checks_rows_lists_them_and_masks_them_alike(service):
    columns = service.index.columns
    country = columns.facets["country"].vocab[0]
    topic = columns.facets["topic"].vocab[0]
    study = int(np.flatnonzero(columns.top != np.arange(columns.size))[0])
    cases = [({"country": [country]}, None, None), ({"kind": ["variable", "question"]}, None, None),
             ({"topic": [topic], "kind": ["study"]}, None, None), ({}, (1990, 2005), None),
             ({"country": [country, "Atlantis"]}, (1900, 2100), None),
             ({"topic": columns.facets["topic"].vocab[:3]}, None, None),
             ({}, None, int(columns.top[study])), ({"country": ["Atlantis"]}, None, None),
             (_values_of_one_record(columns, ("country", "topic", "language")), None, None),
             ({**_values_of_one_record(columns, ("topic", "language"), with_items=True),
               "kind": ["variable", "question"]}, None, None)]
    every = np.arange(columns.size)
    for filters, year, within in cases:
        expected = np.array([_passes(columns, row, filters, year, within) for row in every.tolist()])
        assert expected.any() or filters.get("country") == ["Atlantis"], (filters, year, within)
        chosen = RowFilter(columns, filters, {"year": year} if year else {}, within)
        assert (chosen.allows(every) == expected).all()
        assert chosen.rows().tolist() == np.flatnonzero(expected).tolist()
        assert (chosen.mask() == expected).all()
        assert set(columns.top[expected].tolist()) <= set(chosen.tops().tolist())
        assert chosen.size_bound() >= expected.sum()


def test_a_filter_on_an_unknown_facet_kind_or_range_is_refused_by_name(service):
    columns = service.index.columns
    for filters, ranges, named in (({"colour": ["red"]}, {}, "colour"), ({"kind": ["cat"]}, {}, "cat"),
                                   ({}, {"height": (1, 2)}, "height")):
        with pytest.raises(FilterError, match=named):
            RowFilter(columns, filters, ranges)


def test_hits_in_groups_of_one_count_as_the_hits_themselves(service):
    """What lets a search skip grouping the facet counts when no two hits are versions of one."""
    columns = service.index.columns
    tops = np.flatnonzero(columns.alive & (columns.top == np.arange(columns.size)))
    assert len(tops) > 10
    for name in columns.facets:
        assert columns.counts(name, tops, 50, tops * 3 + 1) == columns.counts(name, tops, 50)


def _values_of_one_record(columns, names: tuple[str, ...], with_items: bool = False
                          ) -> dict[str, list[str]]:
    """One value of each facet in `names`, all carried by one record (`with_items`: one with items
    grouped under it): a filter on several facets that some rows pass (the rarest facet's rows
    are the filter's starting point)."""
    every = np.arange(columns.size)
    records = np.unique(columns.top[columns.top != every]) if with_items \
        else np.flatnonzero(columns.alive & (columns.top == every))
    for row in records.tolist():
        found = {name: columns.facets[name].entries(np.array([row]))[0] for name in names}
        if all(len(codes) for codes in found.values()):
            return {name: [columns.facets[name].vocab[int(codes[-1])]] for name, codes in found.items()}
    raise AssertionError(f"no record carries all of {names}")
