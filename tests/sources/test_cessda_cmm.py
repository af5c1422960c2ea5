"""CESSDA CMM: the UKDS SN1683 and SN6684 study records, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.errors import ParseError
from discovery.model import Kind, Study
from discovery.sources import cessda_cmm
from discovery.sources.base import Document
from discovery.sources.registry import head_text
from tests.conftest import load

SN1683 = "cessda_cmm_json/cmm_ukds_SN1683_machinery_of_government_1976.json"
SN6684 = "cessda_cmm_json/cmm_ukds_SN6684_childcare_early_years_parents_2009.json"


def only_study(doc: Document) -> Study:
    result = cessda_cmm.parse(doc)
    assert result.problems == []
    [study] = result.records
    return study


def test_sniff(corpus: Path) -> None:
    for path in (SN1683, SN6684):
        assert cessda_cmm.sniff(load(corpus / path), head_text(load(corpus / path)))
    for other in ("schemaorg_dcat_ckan/ckan_solr_datagovuk_price_paid_data.json",
                  "schemaorg_dcat_ckan/schemaorg_gtex_expression_matrices.json"):
        doc = load(corpus / other)
        assert not cessda_cmm.sniff(doc, head_text(doc)), other


def test_sn1683_keeps_odd_language_tags(corpus: Path) -> None:
    study = only_study(load(corpus / SN1683))
    assert study.kind == Kind.STUDY
    assert [(t.value, t.lang) for t in study.titles] == [
        ("Machinery of Government, 1976-1977", "zz"),
        ("Et Machinery of Government2, 1976-1977", "no")]
    assert study.title == "Machinery of Government, 1976-1977"
    assert study.id == "machinery-of-government-1976-1977"
    assert study.descriptions[0].lang == "zz"
    assert "<p>" not in study.description and "Main Topics:" in study.description
    assert len(study.keywords) == 14 and "CIVIL SERVICE" in study.keywords
    assert study.topics == ["Government and political systems - Politics",
                            "Management and organisation - Industry and management"]
    assert study.temporal_coverage == "1976-01-01/.."  # no end date in the record
    assert study.date_published == "1982-01-01"
    assert study.publisher.name == "UK Data Service"
    assert study.provenance.catalogue == "UK Data Service"
    hood = study.creators[0]
    assert (hood.type, hood.name, hood.affiliation) == (
        "Person", "Hood, C.C.", "University of York. Institute of Social and Economic Research")
    assert [c.name for c in study.creators[1:]] == ["Dunsire, A.", "Thomson, K.S."]
    assert study.methods["sampling_procedure"] == ["No sampling (total universe)",
                                         "No sampling (total universe) TEST"]
    assert study.methods["analysis_unit"] == ["Institutions/organisations"]
    assert study.study_design == study.methods["time_method"] == \
        ["Cross-sectional (one-time) study"]
    assert study.extra["data_access"] == "Restricted"


def test_sn1683_identifiers_match_the_ddi_record(corpus: Path) -> None:
    """DDI gives IDNo agency=UKDA 1683 and datacite 10.5255/UKDA-SN-1683-1: same aliases."""
    study = only_study(load(corpus / SN1683))
    assert study.aliases() == ["doi:10.5255/ukda-sn-1683-1", "ukds:1683"]


def test_sn6684(corpus: Path) -> None:
    study = only_study(load(corpus / SN6684))
    assert study.id == "childcare-and-early-years-provision-parents-survey-2009"
    assert study.titles[0].lang == "en"
    assert len(study.keywords) == 49
    assert {"CHILD DAY CARE", "WORKING MOTHERS"} <= set(study.keywords)
    assert len(study.topics) == 4
    assert study.spatial_coverage == ["England"]
    assert study.url == "http://doi.org/10.5255/UKDA-SN-6684-1"
    assert study.aliases() == ["doi:10.5255/ukda-sn-6684-1", "ukds:6684"]
    assert [(c.type, c.name) for c in study.creators] == [
        ("Organization", "Department for Children, Schools and Families"),
        ("Organization", "National Centre for Social Research")]
    assert study.methods["collection_mode"] == ["Face-to-face interview"]
    assert study.methods["sampling_procedure"] == ["Multi-stage stratified random sample"]
    assert study.date_published == "2011-02-04"
    assert study.temporal_coverage is None
    assert "<i>" not in study.description
    assert "the Parents' Survey and the Providers' Survey." in study.description
    [note] = study.extra["data_collection_notes"]
    assert note["value"].startswith("There were two periods of fieldwork")


def test_truncated_json_names_the_file(corpus: Path) -> None:
    content = (corpus / SN6684).read_bytes()[:4000]
    with pytest.raises(ParseError) as error:
        cessda_cmm.parse(Document(location="sn6684-truncated.json", content=content))
    assert error.value.file == "sn6684-truncated.json"
    assert "malformed JSON" in error.value.reason
