"""Places as catalogues write them -> ISO 3166 countries, with the UK's nations beneath."""

from __future__ import annotations

import re

import pytest

from discovery.index.iso3166 import COUNTRIES
from discovery.index.places import code_of, facet_places, filter_places, region_country


def test_the_table_holds_every_iso_3166_1_country_once():
    assert len(COUNTRIES) == 249
    for column in range(3):
        assert len({row[column] for row in COUNTRIES}) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", a2) and re.fullmatch(r"[A-Z]{3}", a3) for a2, a3, _ in COUNTRIES)
    assert ("GB", "GBR", "United Kingdom") in COUNTRIES and ("DE", "DEU", "Germany") in COUNTRIES


@pytest.mark.parametrize("written", ["GB", "gb", "GBR", "UK", "U.K.", "United Kingdom",
                                     "Great Britain", "United Kingdom of Great Britain and Northern Ireland"])
def test_every_spelling_of_the_united_kingdom_is_one_country(written):
    assert facet_places(written) == ["United Kingdom"]


@pytest.mark.parametrize("written, values", [
    ("England", ["United Kingdom", "England"]), ("Cymru", ["United Kingdom", "Wales"]),
    ("GB-SCT", ["United Kingdom", "Scotland"]), ("Northern Ireland", ["United Kingdom", "Northern Ireland"]),
    ("England and Wales", ["United Kingdom", "England", "Wales"]),
    ("England & Wales", ["United Kingdom", "England", "Wales"]),
])
def test_uk_nations_are_kept_beneath_the_united_kingdom(written, values):
    assert facet_places(written) == values


@pytest.mark.parametrize("written, country", [
    ("Deutschland", "Germany"), ("DEU", "Germany"), ("DE", "Germany"), ("Suisse (CH)", "Switzerland"),
    ("Schweiz", "Switzerland"), ("Suomi", "Finland"), ("España", "Spain"), ("espana", "Spain"),
    ("The Netherlands", "Netherlands"), ("Czech Republic", "Czechia"), ("Côte d'Ivoire", "Côte d'Ivoire"),
    ("Cote d'Ivoire", "Côte d'Ivoire"), ("South Korea", "Korea, Republic of"), ("USA", "United States"),
    ("Milano, Italy", "Italy"),
])
def test_aliases_codes_and_native_names_map_to_the_iso_name(written, country):
    assert facet_places(written) == [country]


@pytest.mark.parametrize("written", ["Municipality of Milano", "Global", "Europe", "",
                                     "Providence Creek (Lower, Upper and P301)"])
def test_places_that_name_no_country_give_no_value(written):
    assert facet_places(written) == []


def test_a_code_inside_longer_text_counts_only_in_capitals():
    assert facet_places("Oslo; NO") == ["Norway"]
    assert facet_places("yes, no") == []


def test_a_filter_asks_for_the_most_specific_place_it_names():
    assert filter_places("GB") == ["United Kingdom"]
    assert filter_places("England") == ["England"]
    assert filter_places("England and Wales") == ["England", "Wales"]


def test_codes_and_regions_are_known_for_display():
    assert code_of("United Kingdom") == "GB" and code_of("Germany") == "DE" and code_of("Wales") == "GB-WLS"
    assert region_country("Scotland") == "United Kingdom" and region_country("Germany") is None
