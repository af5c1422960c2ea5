"""Exact names of records: abbreviations read out of real titles, study numbers, and the families
that versions of one instrument share."""

from __future__ import annotations

import pytest

from discovery.index.aliases import (alias_key, family_key, query_phrases, questionnaire_name,
                                      record_aliases)


@pytest.mark.parametrize("typed, key", [("PHQ-9", "phq9"), ("phq 9", "phq9"), ("GHQ 12", "ghq12"),
                                        ("Bevölkerungsumfrage", "bevolkerungsumfrage")])
def test_a_key_ignores_case_spacing_punctuation_and_accents(typed, key):
    assert alias_key(typed) == key


@pytest.mark.parametrize("title, codes", [
    ("Patient Health Questionnaire (9-item) (PHQ-9) + Impact Question", {"phq9"}),
    ("Short General Health Questionnaire (GHQ 12)", {"ghq12", "ghq"}),
    ("Hare Psychopathy Checklist: Screening Version (12-item) (PCL:SV)", {"pclsv"}),
    ("GAD-7 English", {"gad7"}),
    ("SCARED English", {"scared"}),
    # a heading set in capitals: its words are not abbreviations, its coded name is
    ("PATIENT HEALTH QUESTIONNAIRE (PHQ-9)", {"phq9"}),
    ("Strengths & Difficulties Questionnaire (25-item + 6-item Impact Supplement) (SDQ)", {"sdq"}),
])
def test_abbreviations_in_real_titles_become_codes(title, codes):
    keys = record_aliases("instrument", [title], [])
    assert {key for key, code in keys.items() if code} == codes
    assert keys[alias_key(title)] is False  # the whole title is a name too


def test_study_numbers_and_dois_are_codes_as_people_type_them():
    keys = record_aliases("study", [], [{"scheme": "ukds", "value": "3535"},
                                        {"scheme": "gesis", "value": "ZA02800"},
                                        {"scheme": "fsd", "value": "FSD3271"},
                                        {"scheme": "doi", "value": "10.5255/UKDA-SN-3535-6"},
                                        {"scheme": "url", "value": "https://example.org/x"}])
    assert set(keys) == {"3535", "sn3535", "za2800", "fsd3271", "105255ukdasn35356"}


def test_items_have_no_names_of_their_own():
    assert record_aliases("question", ["Feeling nervous (GAD-7 item 1)"], []) == {}
    assert family_key("variable", "Q1") is None


def test_the_query_and_its_phrases_are_looked_up():
    whole, phrases = query_phrases("GAD-7 anxiety items")
    assert whole == "gad7anxietyitems"
    assert "gad7" in phrases and "anxiety" in phrases and whole not in phrases


@pytest.mark.parametrize("a, b", [
    ("GAD-7 English", "GAD-7 Portuguese"),
    ("SCARED English", "Screen for Child Anxiety Related Disorders (SCARED)"),
    ("Satisfaction With Life Scale (SWLS)", "Satisfaction With Life Scale (5-item) (SWLS)"),
    ("gold Beck Depression Inventory English", "gold Beck Depression Inventory Portuguese"),
])
def test_versions_of_one_instrument_share_a_family(a, b):
    assert family_key("instrument", a) == family_key("instrument", b)


@pytest.mark.parametrize("a, b", [
    ("Patient Health Questionnaire (9-item) (PHQ-9)", "Patient Health Questionnaire (8-item) (PHQ-8)"),
    ("Child Behavior Checklist", "Adult Behavior Checklist"),
    ("Alcohol Use Disorders Identification Test (AUDIT)", "AUDIT-C"),
])
def test_different_instruments_do_not(a, b):
    assert family_key("instrument", a) != family_key("instrument", b)


@pytest.mark.parametrize("title, name", [
    ("Strengths and Difficulties Questionnaire (25-item) (SDQ)", "SDQ"),
    ("GAD-7 Portuguese", "GAD-7"),
    ("Pain Catastrophizing Scale (13-item)", "Pain Catastrophizing Scale"),
    ("De Jong Gierveld Loneliness Scale English", "De Jong Gierveld Loneliness Scale"),
])
def test_a_questionnaire_is_named_by_its_code_or_its_bare_title(title, name):
    assert questionnaire_name(title) == name
    assert family_key("instrument", title) == alias_key(name)  # the facet value is the family
