"""Results a researcher can trust, on a bank of real questionnaires with many versions of the same
scales: exact names first, misspellings and other languages understood, versions folded, totals
bounded by relevance, facet counts that equal the results a click gives, and "nothing fits"."""

from __future__ import annotations

import re

import pytest

from discovery.search.models import FACETS, SearchRequest
from discovery.search.service import NEAREST, SearchService
from tests.search.built_index import question_bank


@pytest.fixture(scope="module")
def bank(tmp_path_factory, corpus) -> SearchService:
    return SearchService(question_bank(tmp_path_factory, corpus))


def search(service: SearchService, q: str, **options):
    return service.search(SearchRequest(q=q, **options))


def test_an_abbreviation_finds_the_questionnaire_of_that_name_first(bank):
    first = search(bank, "PHQ-9").hits[0]
    assert first.kind == "instrument" and "PHQ-9" in first.title
    assert first.explanation.named and "named by the query" in first.explanation.summary.lower()


def test_a_misspelt_query_is_searched_as_corrected_and_says_so(bank):
    typed = search(bank, "anxeity in chidlren")
    meant = search(bank, "anxiety in children")
    assert typed.searched_for == "anxiety in children" and meant.searched_for is None
    assert [h.id for h in typed.hits[:3]] == [h.id for h in meant.hits[:3]]
    as_typed = search(bank, "anxeity in chidlren", spellcheck=False)
    assert as_typed.searched_for is None


def test_a_german_query_finds_an_english_child_anxiety_scale(bank):
    results = search(bank, "Angst bei Kindern", collapse=False)
    assert results.searched_for is None  # German words are not English misspellings
    hits = results.hits
    english_child_scales = [h for h in hits if re.search(r"child", h.title, re.I)
                            and re.search(r"anxi", h.title, re.I)]
    assert english_child_scales, [h.title for h in hits]


def test_british_and_american_spellings_find_each_other(bank):
    results = search(bank, "anxiety related behaviors", mode="lexical")
    assert results.searched_for is None  # another spelling is not a misspelling
    american = results.hits
    arbq = next(h for h in american if "Behaviours" in h.title)
    title = next(f for f in arbq.explanation.fields if f.field == "title")
    assert "behaviors" in title.terms


def test_versions_of_one_scale_fold_into_one_hit(bank):
    results = search(bank, "GAD-7")
    first = results.hits[0]
    assert first.versions >= 10 and len(first.other_versions) == 10
    # an English query is answered by an English version, whatever scored a hair higher
    assert not re.search(r"(Kannada|Afrikaans|Hebrew|Cebuano|Chinese|Russian|Portuguese|French|German|"
                         r"Spanish|Norwegian)$", first.title), first.title
    assert first.id not in {v.id for v in first.other_versions}
    flat = search(bank, "GAD-7", collapse=False)
    assert flat.total >= results.total + first.versions - 1
    assert not {v.id for v in first.other_versions} & {h.id for h in results.hits}


def test_the_total_is_bounded_by_relevance(bank):
    everything = search(bank, "", size=1, collapse=False).total
    results = search(bank, "sleep", collapse=False)
    assert 0 < results.total < everything / 2 and results.total_exact
    for hit in results.hits:
        why = hit.explanation
        assert why.lexical_rank or why.semantic_rank or why.named or why.matched_variables


def test_nothing_fits_is_said_and_the_nearest_records_are_offered_as_such(bank):
    results = search(bank, "qwxzv kkrtq")
    assert results.nothing_fits and results.total == 0 and not results.facets
    assert 0 < len(results.hits) <= NEAREST


@pytest.mark.parametrize("group", [True, False])
@pytest.mark.parametrize("q", ["anxiety", "feeling down or hopeless", "money"])
def test_facet_counts_equal_the_results_a_click_gives(bank, q, group):
    results = search(bank, q, group=group)
    clicked = 0
    for facet in ("kind", *FACETS):
        for value in results.facets.get(facet, [])[:6]:
            narrowed = search(bank, q, filters={facet: [value.value]}, facets=False, size=1,
                              group=group)
            assert narrowed.total == value.count, (facet, value.value)
            clicked += 1
    assert clicked >= 3


def test_sorting_by_year_reorders_the_relevant_hits_only(bank):
    relevant = search(bank, "money", size=100)
    recent = search(bank, "money", size=100, sort="recent")
    assert recent.total == relevant.total
    assert {h.id for h in recent.hits} == {h.id for h in relevant.hits}
