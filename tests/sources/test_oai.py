"""OAI-PMH envelopes: records dispatched by metadata format, deletions, errors, paging fields."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from discovery.errors import ParseError
from discovery.model import Identifier, Kind, ParseResult, Study
from discovery.sources import oai
from discovery.sources.base import Document, parse_xml
from discovery.sources.registry import detect, head_text
from tests.conftest import load

LIST_RECORDS = "oai_pmh/oai_listrecords_cessda_datacatalogue_oai_ddi25.xml"
NESSTAR = "ddi/ddi122_nesstar_ess_switzerland_2004.xml"
MILAN = "53b3946ddb431037aa99e4fccd86fe280a18b25e8ff9612e0f963ba0f2691e4e"
SN993 = "fbf98ec92c3e23f85bf9c9eb14aef49c4187a2179fdea5642015ff8f9fecf9be"
DELETED = ("29f289b10b43dd51e0faaaed36a7d0873c1a0445de704cdb9049c7d3e0eb0126",
           "2dde6da4463d9635cca4f6ad90c99b2bd317fe1ba12d90c2a921b9fe160c210f",
           "967f0eca3a881658fa05632156e4168b5c54db568f97d531d7d4ff638ea62e08")


def envelope(body: str) -> Document:
    """A minimal OAI-PMH response around `body`, for the cases the corpus has no file for."""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{oai.NS}">'
           f"<responseDate>2025-04-04T12:38:29Z</responseDate>"
           f'<request verb="ListRecords">https://example.org/oai</request>{body}</OAI-PMH>')
    return Document(location="https://example.org/oai?verb=ListRecords", content=xml.encode())


def studies(result: ParseResult) -> dict[str, Study]:
    return {record.provenance.record_key: record for record in result.records
            if record.kind in (Kind.STUDY, Kind.DATASET)}


@pytest.mark.parametrize("name, expected", [
    (LIST_RECORDS, True),
    (NESSTAR, True),
    ("ddi/ddi25_ukds_SN6684_childcare_early_years_parents_2009.xml", True),  # stylesheet PI first
    ("ddi/ddi25_gesis_ZA2800_allbus_1996.xml", False),
    ("ddi/ddi32_gesis_ZA2800_allbus_1996.xml", False),
])
def test_sniff_claims_only_oai_envelopes(corpus: Path, name: str, expected: bool) -> None:
    doc = load(corpus / name)
    assert oai.sniff(doc, head_text(doc)) is expected


def test_registry_picks_oai_for_the_envelope(corpus: Path) -> None:
    assert detect(load(corpus / LIST_RECORDS)) is oai


def test_list_records_page_gives_studies_and_deletions(corpus: Path) -> None:
    doc = load(corpus / LIST_RECORDS)
    result = oai.parse(doc)

    assert result.problems == []
    assert sorted(d.alias for d in result.deletions) == sorted(f"oai:{i}" for i in DELETED)
    assert all(d.location == doc.location for d in result.deletions)
    found = studies(result)
    assert set(found) == {MILAN, SN993, "e97d29a96d0e4943d757efa95101a2904826065d947740f1fb05fe6e2a0930d5"}
    milan = found[MILAN]
    assert milan.title == ("Global Risks and Uncertainty. Interviews with Young People in the "
                           "City of Milan (2022-2023)")
    assert Identifier(scheme="oai", value=MILAN) in milan.identifiers
    assert milan.extra["oai_datestamp"] == "2024-12-11T03:21:42Z"
    assert milan.extra["oai_sets"] == ["language:en", "openaire_data"]
    assert f"oai:{SN993}" in found[SN993].aliases()
    assert "doi:10.5255/ukda-sn-993-1" in found[SN993].aliases()


def test_a_deletion_names_the_alias_the_study_carried(corpus: Path) -> None:
    """Harvest a record, then see it deleted: the deletion's alias is one of the study's."""
    live = oai.parse(load(corpus / LIST_RECORDS))
    root = parse_xml(load(corpus / LIST_RECORDS))
    header = root.find(f".//{{{oai.NS}}}header[{{{oai.NS}}}identifier='{MILAN}']")
    header.set("status", "deleted")
    header.getparent().remove(header.getparent().find(f"{{{oai.NS}}}metadata"))
    gone = oai.parse(Document("later.xml", etree.tostring(root)))

    milan_deletion = {d.alias for d in gone.deletions} - {d.alias for d in live.deletions}
    assert milan_deletion == {f"oai:{MILAN}"}
    assert milan_deletion <= set(studies(live)[MILAN].aliases())


def test_nesstar_get_record_yields_all_variables(corpus: Path) -> None:
    result = oai.parse(load(corpus / NESSTAR))

    identifier = "http://fors-getdata.unil.ch:80/obj/fStudy/ch.sidos.ddi.468.7773"
    variables = [r for r in result.records if r.kind == Kind.VARIABLE]
    assert len(variables) == 573
    (study,) = studies(result).values()
    assert study.provenance.record_key == identifier
    assert Identifier(scheme="oai", value=identifier) in study.identifiers
    assert all(v.study_id == study.id for v in variables)


def test_one_bad_record_becomes_a_problem_and_the_rest_survive(corpus: Path) -> None:
    root = parse_xml(load(corpus / LIST_RECORDS))
    (metadata,) = root.xpath(f"//o:record[o:header/o:identifier='{SN993}']/o:metadata",
                             namespaces={"o": oai.NS})
    metadata.replace(metadata[0], etree.Element("{http://www.loc.gov/mods/v3}mods"))
    result = oai.parse(Document("mixed.xml", etree.tostring(root)))

    (problem,) = result.problems
    assert problem.record == SN993
    assert "mods" in problem.reason
    assert problem.raw.startswith("<record") and SN993 in problem.raw and MILAN not in problem.raw
    assert set(studies(result)) == {MILAN, "e97d29a96d0e4943d757efa95101a2904826065d947740f1fb05fe6e2a0930d5"}
    assert len(result.deletions) == 3


def test_oai_dc_records_go_to_the_dublin_core_parser() -> None:
    doc = envelope(
        "<GetRecord><record><header><identifier>oai:example.org:993</identifier>"
        "<datestamp>2024-12-11</datestamp></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:title>Political Literacy Survey : Hansard Society Schools Survey, 1975</dc:title>"
        "<dc:identifier>https://doi.org/10.5255/UKDA-SN-993-1</dc:identifier>"
        "</oai_dc:dc></metadata></record></GetRecord>")
    (study,) = studies(oai.parse(doc)).values()

    assert study.title == "Political Literacy Survey : Hansard Society Schools Survey, 1975"
    assert {"oai:oai:example.org:993", "doi:10.5255/ukda-sn-993-1"} <= set(study.aliases())


def test_an_oai_error_fails_the_document() -> None:
    doc = envelope('<error code="badArgument">Illegal argument: frm</error>')
    with pytest.raises(ParseError) as caught:
        oai.parse(doc)
    assert caught.value.reason == "OAI-PMH error badArgument: Illegal argument: frm"
    assert caught.value.file == doc.location


def test_no_records_match_is_an_empty_result() -> None:
    result = oai.parse(envelope('<error code="noRecordsMatch">No matching records.</error>'))
    assert result == ParseResult()


def test_a_record_without_an_identifier_is_a_problem() -> None:
    result = oai.parse(envelope("<ListRecords><record><header><datestamp>2024-12-11</datestamp>"
                                "</header></record></ListRecords>"))
    (problem,) = result.problems
    assert problem.record is None and "identifier" in problem.reason


def test_envelope_fields_for_the_harvester(corpus: Path) -> None:
    root = parse_xml(load(corpus / LIST_RECORDS))
    assert oai.response_date(root) == "2025-04-04T12:38:29Z"
    assert oai.fatal_errors(root) == []
    assert oai.resumption_token(root) == (
        "cursor%3A0%26from%3ANone%26until%3A2025-04-04T12%3A38%3A29Z%26set%3ANone"
        "%26completeListSize%3A31984%26metadataPrefix%3Aoai_ddi25")
    assert oai.resumption_token(parse_xml(load(corpus / NESSTAR))) is None
    last_page = envelope('<ListRecords><resumptionToken completeListSize="6" cursor="4"/>'
                         "</ListRecords>")
    assert oai.resumption_token(parse_xml(last_page)) is None


def test_identify_is_read() -> None:
    doc = envelope("<Identify><repositoryName>CESSDA Data Catalogue</repositoryName>"
                   "<baseURL>https://datacatalogue.cessda.eu/oai-pmh/v0/oai</baseURL>"
                   "<protocolVersion>2.0</protocolVersion>"
                   "<earliestDatestamp>2019-01-01T00:00:00Z</earliestDatestamp>"
                   "<deletedRecord>persistent</deletedRecord>"
                   "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>")
    repository = oai.read_identify(parse_xml(doc))
    assert repository == oai.Repository(
        name="CESSDA Data Catalogue", base_url="https://datacatalogue.cessda.eu/oai-pmh/v0/oai",
        granularity=oai.SECONDS_GRANULARITY, earliest_datestamp="2019-01-01T00:00:00Z",
        deleted_record="persistent")


def test_not_oai_is_refused(corpus: Path) -> None:
    with pytest.raises(ParseError, match="not an OAI-PMH response"):
        oai.parse(load(corpus / "ddi/ddi25_gesis_ZA2800_allbus_1996.xml"))


@pytest.mark.parametrize("value, granularity, expected", [
    ("2015-05-04T22:55:30+0000", oai.SECONDS_GRANULARITY, "2015-05-04T22:55:30Z"),
    ("2015-05-04T23:55:30+0100", oai.DAY_GRANULARITY, "2015-05-04"),
    ("2024-12-11", oai.SECONDS_GRANULARITY, "2024-12-11"),
    (date(2024, 12, 11), oai.DAY_GRANULARITY, "2024-12-11"),
    (datetime(2024, 12, 11, 3, 21, 42), oai.SECONDS_GRANULARITY, "2024-12-11T03:21:42Z"),
    (datetime(2024, 12, 11, 1, 0, tzinfo=timezone(timedelta(hours=2))), oai.DAY_GRANULARITY,
     "2024-12-10"),
])
def test_datestamps_fit_the_granularity(value: str | date, granularity: str, expected: str) -> None:
    assert oai.format_datestamp(value, granularity) == expected
