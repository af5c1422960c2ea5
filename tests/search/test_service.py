"""Search over the shared small catalogue, on both backends (`searcher`: the local index and
PostgreSQL): the issue's two example queries, grouping, filters, ranges, facets, sorting, cursor
paging, similar-to and explanations."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.errors import NotFoundError
from discovery.index.columns import FilterError, RowFilter
from discovery.search.cursor import CursorError
from discovery.search.models import SearchRequest

RELATIONS = "relations-study-data-2021-2022"
FSD = "financial-awareness-of-finnish-people-2014"
ALLBUS = "allbus-ggss-1996-allgemeine-bevolkerungsumfrage-der-sozialwissenschaften-german"


def search(searcher, q: str = "", **options):
    return searcher.search(SearchRequest(q=q, **options))


def walk(searcher, **options) -> list[str]:
    """Every hit id, page by page through the cursor."""
    ids: list[str] = []
    cursor = None
    while True:
        results = search(searcher, cursor=cursor, **options)
        assert results.offset == len(ids)  # what a page shows as its position, "4-6 of 20"
        ids += [hit.id for hit in results.hits]
        cursor = results.next_cursor
        if cursor is None:
            return ids


def test_parental_drug_use_finds_the_relations_study_first_and_says_why(searcher):
    results = search(searcher, "parental drug use child protection")
    first = results.hits[0]
    assert first.id == RELATIONS
    why = first.explanation
    keywords = next(f for f in why.fields if f.field == "keywords")
    assert {"parental", "drug", "child", "protection"} <= set(keywords.terms)
    assert why.lexical_rank == 1 and why.semantic_score is not None and why.semantic_rank
    assert "'drug'" in why.summary and "cosine" in why.summary
    assert first.start_year == 2021 and first.end_year == 2022


def test_nervous_anxious_on_edge_groups_anxiety_items_under_their_study_and_instrument(searcher):
    hits = {hit.id: hit for hit in search(searcher, "nervous anxious on edge").hits[:2]}
    assert set(hits) == {"advance", "gad-7-english"}
    assert hits["advance"].kind == "study" and hits["gad-7-english"].kind == "instrument"
    assert hits["advance"].variables[0].id == "advance.q12"
    assert hits["gad-7-english"].variables[0].id == "gad-7-english.1"
    assert hits["advance"].variables[0].kind == "variable"  # so a page links each to its own page
    assert hits["gad-7-english"].variables[0].kind == "question"
    for hit in hits.values():
        scores = [v.score for v in hit.variables]
        assert scores == sorted(scores, reverse=True)
        assert hit.explanation.matched_variables >= len(hit.variables)
        assert {"nervous", "anxious", "edge"} <= set(hit.variables[0].explanation.fields[0].terms)


def test_without_grouping_items_are_hits_of_their_own(searcher):
    ids = [hit.id for hit in search(searcher, "nervous anxious on edge", group=False, size=3).hits]
    assert {"advance.q12", "gad-7-english.1"} <= set(ids)


def test_a_kind_filter_keeps_matching_items_grouped_under_their_parents(searcher):
    results = search(searcher, "nervous anxious on edge", filters={"kind": ["question"]})
    assert [hit.id for hit in results.hits] == ["gad-7-english"]
    assert all(v.id.startswith("gad-7-english.") for v in results.hits[0].variables)


def test_variables_inherit_their_studys_facets(searcher):
    results = search(searcher, "savings retirement", filters={"country": ["Finland"],
                                                               "kind": ["variable"]})
    assert [hit.id for hit in results.hits] == [FSD]
    assert results.hits[0].variables and all(v.id.startswith(FSD + ".") for v in results.hits[0].variables)


def test_filters_across_facets_all_apply_and_values_within_one_facet_any(searcher):
    one = {hit.id for hit in search(searcher, filters={"country": ["Germany", "Finland"]}).hits}
    assert one == {FSD, ALLBUS}
    both = {hit.id for hit in search(searcher, filters={"country": ["Germany", "Finland"],
                                                         "language": ["fi"]}).hits}
    assert both == {FSD}


def test_ranges_match_overlapping_years_and_bounded_counts(searcher):
    assert {h.id for h in search(searcher, ranges={"year": (2014, 2014)}).hits} == {FSD}
    recent = {h.id for h in search(searcher, ranges={"year": (2022, None)},
                                   filters={"kind": ["dataset"]}).hits}
    assert recent == {RELATIONS}
    assert {h.id for h in search(searcher, ranges={"year": (1990, 1999)}).hits} == {ALLBUS}
    sized = {h.id for h in search(searcher, ranges={"variables": (200, 300)}).hits}
    assert sized == {FSD}


def test_unknown_facets_and_kinds_are_refused_by_name(searcher):
    with pytest.raises(FilterError, match="unknown facet 'colour'"):
        search(searcher, "x", filters={"colour": ["red"]})
    with pytest.raises(FilterError, match="unknown kind 'spaceship'"):
        search(searcher, "x", filters={"kind": ["spaceship"]})


def test_facet_counts_describe_the_current_results(searcher):
    results = search(searcher, "parental drug use child protection", size=100)
    assert results.total == len(results.hits)
    kinds = {f.value: f.count for f in results.facets["kind"]}
    assert kinds["output"] == sum(1 for h in results.hits if h.kind == "output")
    countries = {f.value: f.count for f in results.facets["country"]}
    assert countries["United Kingdom"] >= 1
    filtered = search(searcher, "parental drug use child protection", filters={"country": ["Finland"]})
    assert {f.value: f.count for f in filtered.facets["country"]} == {"Finland": filtered.total}


@pytest.mark.parametrize("q", ["", "household income", "nervous anxious on edge"])
def test_every_facet_value_counts_the_hits_a_click_on_it_gives(searcher, q):
    results = search(searcher, q, size=100)
    assert results.facets and not results.facets_uncounted
    for name, values in results.facets.items():
        for value in values:
            clicked = search(searcher, q, filters={name: [value.value]}, size=1, facets=False)
            assert clicked.total == value.count, (name, value.value)


def test_a_query_that_fits_nothing_says_so_and_offers_the_nearest_records(searcher):
    results = search(searcher, "xqzvy blorft")
    assert results.nothing_fits and results.total == 0 and not results.facets
    assert 0 < len(results.hits) <= 10  # the nearest, offered as such
    assert all(hit.explanation.lexical_rank is None for hit in results.hits)
    assert all(hit.explanation.semantic_score is not None for hit in results.hits
               if not hit.variables)


@pytest.mark.parametrize("options", [
    {"q": "nervous anxious on edge"},
    {"q": "money savings", "sort": "recent"},
    {"q": "", "sort": "variables"},
    {"q": "", "group": False},
])
def test_the_cursor_walks_every_hit_exactly_once(searcher, options):
    everything = search(searcher, size=100, **options)
    walked = walk(searcher, size=3, **options)
    assert len(walked) == len(set(walked)) == everything.total
    assert walked == [hit.id for hit in everything.hits][:len(walked)] or everything.total > 100


def test_sorting_by_recency_and_by_size(searcher):
    years = [h.end_year for h in search(searcher, sort="recent", filters={"kind": ["study", "dataset"]}).hits]
    assert years == sorted(years, reverse=True)
    counts = [h.variable_count or 0 for h in search(searcher, sort="variables", size=5).hits]
    assert counts == sorted(counts, reverse=True) and counts[0] == 234


def test_a_cursor_cannot_be_reused_for_another_query(searcher):
    cursor = search(searcher, "nervous", size=1).next_cursor
    with pytest.raises(CursorError, match="different query"):
        search(searcher, "anxious", size=1, cursor=cursor)
    with pytest.raises(CursorError, match="malformed"):
        search(searcher, "nervous", size=1, cursor="not-a-cursor")


def test_similar_to_an_item_finds_the_same_item_elsewhere(searcher):
    results = search(searcher, similar_to="advance.q12", group=False, size=3)
    assert "advance.q12" not in [h.id for h in results.hits]
    assert results.hits[0].id == "gad-7-english.1"
    assert "Close to advance.q12" in results.hits[0].explanation.summary
    with pytest.raises(NotFoundError):
        search(searcher, similar_to="no-such-record")


def test_within_a_record_only_its_own_items_fit_ranked_as_the_whole_search_ranks_them(searcher):
    query = {"q": "nervous anxious on edge", "group": False, "size": 100,
             "filters": {"kind": ["variable"]}}
    inside = search(searcher, within="advance", **query)
    assert inside.hits and inside.hits[0].id == "advance.q12"
    assert all(hit.id.startswith("advance.") for hit in inside.hits)
    everywhere = [hit.id for hit in search(searcher, **query).hits if hit.id.startswith("advance.")]
    assert [hit.id for hit in inside.hits][:len(everywhere)] == everywhere
    every = search(searcher, "", within="advance", group=False, size=1)  # every item of the study
    assert every.total == next(h for h in search(searcher, "advance", size=5).hits
                               if h.id == "advance").variable_count
    with pytest.raises(NotFoundError):
        search(searcher, "anxious", within="no-such-record")


def test_the_model_and_timing_are_reported(searcher):
    results = search(searcher, "household income")
    assert results.model == "minilm-l6-int8" and results.took_ms > 0


@pytest.mark.parametrize("filters", [{"kind": ["variable"]}, {"country": ["Finland", "Germany"]},
                                     {"kind": ["variable"], "topic": ["Savings", "drug use"]}])
@pytest.mark.parametrize("q", ["anxiety worry", "savings retirement money", "parental drug use"])
def test_a_filtered_lexical_search_lists_the_unfiltered_hits_that_pass_in_their_order(service, q,
                                                                                      filters):
    """The filters run inside tantivy; what they list is what filtering the unfiltered list gives."""
    options = {"mode": "lexical", "group": False, "size": 100, "facets": False}
    unfiltered = search(service, q, **options)
    index = service.index
    rows = index.docs.rows_of([h.id for h in unfiltered.hits])
    allowed = RowFilter(index.columns, filters, {})
    passing = allowed.allows(np.asarray([rows[h.id] for h in unfiltered.hits], np.int64))
    expected = [(h.id, h.score) for h, ok in zip(unfiltered.hits, passing, strict=True) if ok]
    filtered = search(service, q, filters=filters, **options)
    assert unfiltered.total < 100 and unfiltered.total_exact  # every unfiltered hit was compared
    assert [(h.id, h.score) for h in filtered.hits] == expected
    assert filtered.total == len(expected)
