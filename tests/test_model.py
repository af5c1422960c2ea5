"""Records to schema.org and back: `record_from_schema_org` undoes `to_schema_org`."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from discovery.model import (
    Agent, Category, Identifier, Instrument, Kind, Link, Organisation, Output, Person, Project,
    Provenance, Question, Record, Study, Text, Variable, record_from_schema_org, schema_org_kind,
)

PROVENANCE = Provenance(source="test", location="memory", content_hash="0" * 64,
                        fetched_at=datetime(2025, 1, 1, tzinfo=timezone.utc))


def round_trip(record: Record) -> Record:
    data = json.loads(json.dumps(record.to_schema_org()))  # as a page would serve it
    return record_from_schema_org(data, id=record.id, provenance=record.provenance)


def test_study_round_trip() -> None:
    study = Study(
        id="relations-study-data-2021-2022", kind=Kind.DATASET,
        title="The Relations Study Data, 2021-2022",
        titles=[Text(value="The Relations Study Data, 2021-2022"), Text(value="Relations Study")],
        description="Ethnographic data on parents who use drugs.\n\nTwo data sets.",
        descriptions=[Text(value="Ethnographic data on parents who use drugs.\n\nTwo data sets.")],
        identifiers=[Identifier(scheme="doi", value="10.5255/ukda-sn-857133"),
                     Identifier(scheme="url", value="https://example.org/relations"),
                     Identifier(scheme="ukds", value="857133")],
        keywords=["PARENTS", "DRUG USE"], url="https://example.org/relations", language=["en"],
        provenance=PROVENANCE,
        creators=[Agent(type="Person", name="Jane Doe", affiliation="University of Stirling",
                        identifier="https://orcid.org/0000-0002-1825-0097"),
                  Agent(name="University of Stirling")],
        publisher=Agent(name="UK Data Service"),
        funders=[Agent(name="Economic and Social Research Council")],
        temporal_coverage="2021-04-01/2022-12-01", spatial_coverage=["GB"],
        topics=["PARENTS"], license="https://creativecommons.org/licenses/by/4.0/",
        date_published="2023-05-01", version="1",
        data_catalogs=[Link(url="https://ukdataservice.ac.uk", name="UK Data Service")],
        links=[Link(url="https://reshare.ukdataservice.ac.uk/857133")],
        distributions=[Link(url="https://example.org/data.zip", name="application/zip")],
        methods={"collection_mode": ["Interview"]},
    )
    assert round_trip(study) == study


def test_project_output_question_variable_instrument_round_trip() -> None:
    records: list[Record] = [
        Project(id="es-t005912-1", title="Governing parental opioid use",
                titles=[Text(value="Governing parental opioid use")],
                identifiers=[Identifier(scheme="grant", value="ES/T005912/1")],
                grant_reference="ES/T005912/1", provenance=PROVENANCE,
                funder="ESRC", lead_organisation="University of Stirling", start="2020-04-01",
                end="2023-03-31", amount=634712.0, currency="GBP"),
        Project(id="p", title="Unfunded", titles=[Text(value="Unfunded")], provenance=PROVENANCE),
        Output(id="es-t005912-1.talk", title="Talk to practitioners",
               titles=[Text(value="Talk to practitioners")], provenance=PROVENANCE,
               output_type="engagement activity", years=["2021", "2022"]),
        Output(id="es-t005912-1.paper", title="Parenting and opioids",
               titles=[Text(value="Parenting and opioids")], provenance=PROVENANCE,
               output_type="publication", years=["2023"]),
        Question(id="gad-7.q1", title="Feeling nervous, anxious or on edge",
                 titles=[Text(value="Feeling nervous, anxious or on edge")], provenance=PROVENANCE,
                 options=[Category(label="Not at all"), Category(label="Several days")]),
        Variable(id="s.agegroup", title="Age group", titles=[Text(value="Age group")],
                 description="Age of respondent in groups",
                 descriptions=[Text(value="Age of respondent in groups")],
                 name="agegroup", provenance=PROVENANCE),
        Instrument(id="gad-7", title="GAD-7", titles=[Text(value="GAD-7")], provenance=PROVENANCE),
        Organisation(id="stirling", title="University of Stirling",
                     titles=[Text(value="University of Stirling")], provenance=PROVENANCE),
        Person(id="jane-doe", title="Jane Doe", titles=[Text(value="Jane Doe")],
               provenance=PROVENANCE),
    ]
    for record in records:
        assert round_trip(record) == record, record.kind


def test_rich_nodes_from_a_real_file(corpus: Path) -> None:
    """An author node of the SSCZO JSON-LD as a Person record, and nodes the model lacks."""
    path = corpus / "schemaorg_dcat_ckan/schemaorg_ssczo_providence_creek_met_soil.json"
    data = json.loads(path.read_text())
    person = record_from_schema_org(data["author"][2], provenance=PROVENANCE)
    assert isinstance(person, Person)
    assert (person.id, person.given_name, person.family_name, person.orcid) == (
        "erin-stacy", "Erin", "Stacy", "0000-0002-8862-1404")
    organisation = record_from_schema_org(
        {**data["publisher"], "address": {"@type": "PostalAddress", "addressLocality": "Merced",
                                          "addressCountry": "US"}}, provenance=PROVENANCE)
    assert isinstance(organisation, Organisation)
    assert (organisation.title, organisation.address, organisation.country) == (
        "UC Merced", "Merced, US", "US")


def test_language_tagged_texts_keep_their_language() -> None:
    study = record_from_schema_org(
        {"@type": "schema:Dataset",
         "name": [{"@value": "Talouslukutaito", "@language": "fi"},
                  {"@value": "Financial literacy", "@language": "en"}]},
        provenance=PROVENANCE)
    assert study.title == "Financial literacy"
    assert [t.lang for t in study.titles] == ["fi", "en"]
    assert study.id == "financial-literacy"


def test_kinds_and_refusals() -> None:
    assert schema_org_kind({"@type": ["Thing", "ScholarlyArticle"]}) == Kind.OUTPUT
    assert schema_org_kind({"@type": "http://schema.org/ResearchProject"}) == Kind.PROJECT
    assert schema_org_kind({"@type": "WebSite"}) is None
    with pytest.raises(ValueError, match="not a kind of record"):
        record_from_schema_org({"@type": "BreadcrumbList", "name": "x"}, provenance=PROVENANCE)
    with pytest.raises(ValueError, match="has no name"):
        record_from_schema_org({"@type": "Dataset", "description": "x"}, provenance=PROVENANCE)


def test_aliases_put_study_numbers_and_grant_references_in_one_form() -> None:
    def alias(scheme: str, value: str) -> str:
        return Identifier(scheme=scheme, value=value).alias()

    assert alias("gesis", "ZA02800") == alias("gesis", "2800") == "gesis:za2800"
    assert alias("fsd", "FSD3271") == alias("fsd", "3271") == "fsd:fsd3271"
    assert alias("ukds", "0857133") == "ukds:857133"
    assert alias("grant", " ES/T005912/1") == alias("grant", "es/t005912/1\n") == "grant:es/t005912/1"
    assert alias("doi", "https://doi.org/10.5255/UKDA-SN-857133") == "doi:10.5255/ukda-sn-857133"
