"""The catalogue facet: stated catalogues first, otherwise those a record's own identifiers and
addresses name."""

from __future__ import annotations

from discovery.index.catalogues import GTR, HARMONY, record_catalogues
from discovery.sources import gtr, jsonld


def test_stated_and_listed_catalogues_come_first_and_nothing_is_guessed_beside_them():
    data = {"data_catalogs": [{"name": "UK  Data Service"}],
            "identifiers": [{"scheme": "doi", "value": "10.4232/1.1"}]}
    assert record_catalogues(["Harmony Discovery"], data, []) == ["Harmony Discovery", "UK Data Service"]


def test_study_numbers_doi_prefixes_and_hosts_name_the_catalogue():
    def named(data: dict) -> list[str]:
        return record_catalogues([], data, [])
    assert named({"identifiers": [{"scheme": "ukds", "value": "3535"}]}) == ["UK Data Service"]
    assert named({"identifiers": [{"scheme": "doi", "value": "10.3886/ICPSR05512.v1"}]}) == ["ICPSR"]
    assert named({"url": "https://doi.org/10.7910/DVN/NJ7XSO"}) == ["Harvard Dataverse"]
    assert named({"url": "https://datos.gob.es/catalogo/l01280796-estudio"}) == ["datos.gob.es"]


def test_a_harvest_address_names_the_catalogue_and_a_local_file_does_not():
    assert record_catalogues([], {}, ["https://harmonydata.ac.uk/search/items/x"]) == [HARMONY]
    assert record_catalogues([], {}, ["../shared/corpus/instruments/GAD-7.pdf"]) == []
    assert record_catalogues([], {"url": "https://example.org/study/1"}, []) == []


def test_the_names_agree_with_what_the_parsers_state():
    assert GTR == gtr.CATALOGUE and HARMONY == jsonld.HARMONY
