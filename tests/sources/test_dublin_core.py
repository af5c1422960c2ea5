"""Dublin Core: the ICPSR dcterms record, oai_dc as the OAI parser hands it over, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from discovery.errors import ParseError, UnsafeInputError
from discovery.model import Kind
from discovery.sources import dublin_core
from discovery.sources.base import Document
from discovery.sources.registry import head_text
from tests.conftest import load

ICPSR = "schemaorg_dcat_ckan/dcterms_icpsr05512_un_roll_call_data_1946_1985.xml"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"


def sniffs(doc: Document) -> bool:
    return dublin_core.sniff(doc, head_text(doc))


def test_sniff_claims_dcterms_record_and_leaves_formats_that_also_declare_dc(corpus: Path) -> None:
    assert sniffs(load(corpus / ICPSR))
    for other in ("ddi/ddi32_gesis_ZA2800_allbus_1996.xml",  # declares purl.org/dc/terms
                  "oai_pmh/oai_listrecords_cessda_datacatalogue_oai_ddi25.xml",
                  "catalogue_pages/harvard_dataverse_doi_10.7910_DVN_NJ7XSO_ankylosing_"
                  "spondylitis_gwas.html",
                  "schemaorg_dcat_ckan/dcat_ap_datos_gob_es_madrid_school_sport_satisfaction_"
                  "survey.ttl"):
        assert not sniffs(load(corpus / other)), other


def test_icpsr_record(corpus: Path) -> None:
    result = dublin_core.parse(load(corpus / ICPSR))
    assert result.problems == []
    [study] = result.records
    assert study.id == "united-nations-roll-call-data-1946-1985"
    assert study.kind == Kind.DATASET and study.resource_type == "Dataset"
    assert study.title == "United Nations Roll Call Data, 1946-1985"
    assert study.titles[0].lang == "en"
    assert study.description.startswith("This collection consists of roll calls voted upon in the "
                                         "United Nations. It includes")  # line breaks collapsed
    assert len(study.keywords) == 12
    assert {"roll call data", "post-World War II", "world politics"} <= set(study.keywords)
    [creator] = study.creators
    assert creator.name == "Inter-university Consortium for Political and Social Research"
    assert creator.type == "Organization"
    assert [(i.scheme, i.value) for i in study.identifiers] == [("doi", "10.3886/icpsr05512.v1")]
    assert study.url == "https://doi.org/10.3886/ICPSR05512.v1"
    assert study.temporal_coverage == "1946/1985"
    assert study.spatial_coverage == ["Global"]
    assert study.license == "https://www.icpsr.umich.edu/web/ICPSR/studies/05512/terms"
    assert study.date_published == "1984-05-03"
    assert study.extra["modified"] == ["1992-02-16"]
    assert study.extra["citation"][0].startswith("Inter-university Consortium")
    assert "2018-02-15 The citation" in study.extra["provenance"][0]
    assert study.provenance.source == "dublin-core"


def _as_oai_metadata(corpus: Path) -> etree._Element:
    """The ICPSR elements inside `metadata/oai_dc:dc`, as an OAI-PMH record carries them."""
    source = etree.fromstring((corpus / ICPSR).read_bytes())
    metadata = etree.Element("{http://www.openarchives.org/OAI/2.0/}metadata")
    record = etree.SubElement(metadata, f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC})
    record.extend(child for child in source if isinstance(child.tag, str))
    return metadata


def test_parse_dc_element_reads_the_metadata_of_an_oai_record(corpus: Path) -> None:
    doc = Document(location="https://example.org/oai?verb=GetRecord", content=b"<OAI-PMH/>")
    result = dublin_core.parse_dc_element(_as_oai_metadata(corpus), doc,
                                          record_key="oai:icpsr:05512")
    [study] = result.records
    assert study.title == "United Nations Roll Call Data, 1946-1985"
    assert study.provenance.record_key == "oai:icpsr:05512"
    assert len(study.keywords) == 12


def test_record_without_title_is_a_problem_and_the_others_survive(corpus: Path) -> None:
    text = (corpus / ICPSR).read_text()
    body = text[text.index(">") + 1:text.rindex("</metadata>")]
    content = (f'<records xmlns:dcterms="http://purl.org/dc/terms/"><metadata>{body}</metadata>'
               '<metadata><dcterms:subject>orphan</dcterms:subject></metadata></records>')
    result = dublin_core.parse(Document(location="two.xml", content=content.encode()))
    assert [s.id for s in result.records] == ["united-nations-roll-call-data-1946-1985"]
    [problem] = result.problems
    assert problem.record == "record 2" and "no dc:title" in problem.reason
    assert "orphan" in problem.raw


def test_truncated_xml_names_the_file(corpus: Path) -> None:
    content = (corpus / ICPSR).read_bytes()[:1500]
    with pytest.raises(ParseError) as error:
        dublin_core.parse(Document(location="icpsr-truncated.xml", content=content))
    assert error.value.file == "icpsr-truncated.xml"
    assert "malformed XML" in error.value.reason


def test_entity_declaration_is_refused(corpus: Path) -> None:
    content = ('<!DOCTYPE metadata [<!ENTITY name "United Nations">]>'
               + (corpus / ICPSR).read_text().replace("United Nations Roll", "&name; Roll"))
    with pytest.raises(UnsafeInputError):
        dublin_core.parse(Document(location="entity.xml", content=content.encode()))


@pytest.mark.parametrize("text, expected", [
    ("1946/1985", "1946/1985"), ("1946-1985", "1946/1985"),
    ("1976-01 - 1977-12", "1976-01/1977-12"),
    ("name=Post-war; start=1946; end=1985", "1946/1985"), ("1946", "1946"), ("Global", None),
])
def test_iso_period(text: str, expected: str | None) -> None:
    assert dublin_core.iso_period(text) == expected


def test_guess_agent_tells_people_from_organisations() -> None:
    hood = dublin_core.guess_agent(
        "Hood, C.C., University of York. Institute of Social and Economic Research")
    assert (hood.type, hood.name, hood.affiliation) == (
        "Person", "Hood, C.C.", "University of York. Institute of Social and Economic Research")
    assert dublin_core.guess_agent("Dunsire, A.").type == "Person"
    assert dublin_core.guess_agent("Department for Children, Schools and Families").type == \
        "Organization"
