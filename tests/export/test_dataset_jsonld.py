from __future__ import annotations

import json

from discovery.export.dataset_jsonld import dataset_description, dataset_jsonld
from discovery.model import Link, Project
from tests.export.records import PROVENANCE, study, variable

URL = "https://example.org/items/test-study"


def build(**fields: object) -> dict:
    return dataset_jsonld(study(**fields), url=URL, catalogue_name="Discovery",
                          catalogue_url="https://example.org/", variables=[variable("Q1", "Age")],
                          grants=[], variable_url=lambda vid: f"https://example.org/variables/{vid}")


def test_short_descriptions_are_composed_from_the_records_facts() -> None:
    short = study(description="Tiny.", spatial_coverage=["Wales"], temporal_coverage="2001/2002")
    text = dataset_description(short, 12)
    assert 50 <= len(text) <= 5000
    assert text.startswith("Tiny. Test Study") and "Wales" in text and "12 variables" in text
    assert len(dataset_description(study(description=None, title="X"))) >= 50


def test_long_descriptions_are_cut_at_a_word() -> None:
    text = dataset_description(study(description="word " * 2000))
    assert len(text) <= 5000 and text.endswith("…")


def test_required_and_recommended_properties() -> None:
    data = build(temporal_coverage="1990 to 1995", license="https://creativecommons.org/licenses/by/4.0/")
    assert data["url"] == data["@id"] == URL
    assert data["identifier"] == ["https://doi.org/10.1234/abc-1"]
    assert "temporalCoverage" not in data  # not ISO 8601: left out, not guessed
    assert data["creator"][0] == {"@type": "Person", "name": "Doe, Jane"}
    assert data["includedInDataCatalog"][-1] == {"@type": "DataCatalog", "name": "Discovery",
                                                 "url": "https://example.org/"}
    assert data["variableMeasured"] == [{"@type": "PropertyValue", "name": "Q1",
                                         "description": "Age",
                                         "url": "https://example.org/variables/test-study.q1"}]


def test_grants_become_funding_and_funders() -> None:
    grant = Project(id="g1", title="A grant", funder="Wellcome Trust", grant_reference="WT-1",
                    provenance=PROVENANCE)
    data = dataset_jsonld(study(identifiers=[]), url=URL, catalogue_name="D", catalogue_url="u",
                          variables=[], grants=[(grant, "https://example.org/projects/g1")])
    assert data["identifier"] == [URL]
    assert data["funder"] == [{"@type": "Organization", "name": "Wellcome Trust"}]
    assert data["funding"] == [{"@type": "Grant", "name": "A grant", "url": "https://example.org/projects/g1",
                                "identifier": "WT-1",
                                "funder": {"@type": "Organization", "name": "Wellcome Trust"}}]


def test_script_links_from_a_source_are_left_out() -> None:
    data = build(url="javascript:alert(1)", links=[Link(url=" JavaScript:alert(2)"),
                                                   Link(url="https://example.org/same")],
                 distributions=[Link(url="vbscript:x", name="CSV")],
                 data_catalogs=[Link(url="data:text/html,<script>alert(3)</script>", name="Evil")],
                 license="vbscript:alert(4)")
    text = json.dumps(data).lower()
    assert "script:" not in text and "data:text" not in text
    assert data["url"] == URL and data["sameAs"] == ["https://example.org/same"]
    assert data["distribution"] == [{"@type": "DataDownload", "encodingFormat": "CSV"}]
    assert "license" not in data
    assert build(license="Open Government Licence: v3.0")["license"] == "Open Government Licence: v3.0"
