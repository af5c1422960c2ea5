"""DDI-Codebook and DDI-Lifecycle parsing, on the real exports in the shared corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.errors import ParseError
from discovery.model import Instrument, ParseResult, Predicate, Question, Study, Variable
from discovery.sources import ddi
from discovery.sources.base import Document, parse_xml
from discovery.sources.registry import head_text
from tests.conftest import load

ALLBUS_25 = "ddi/ddi25_gesis_ZA2800_allbus_1996.xml"
ALLBUS_32 = "ddi/ddi32_gesis_ZA2800_allbus_1996.xml"
GLES_25 = "ddi/ddi25_gesis_ZA5300_gles_2009_preelection.xml"
GLES_32 = "ddi/ddi32_gesis_ZA5300_gles_2009_preelection.xml"
FSD = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"
ETHIOPIA = "ddi/ddi122_ihsn_ethiopia_agss_2003_utf16.xml"
ESS_OAI = "ddi/ddi122_nesstar_ess_switzerland_2004.xml"
UKDS_6684_OAI = "ddi/ddi25_ukds_SN6684_childcare_early_years_parents_2009.xml"
UKDS_1683 = "ddi/ddi25_ukds_SN1683_machinery_of_government_1976.xml"
UKDS_2000 = "ddi/ddi25_ukds_SN2000_family_life_work_before_1918.xml"
EHIS = "ddi/ddi33_insee_ehis2025_test_questionnaire_fr.xml"
ESEM = "ddi/ddi33_insee_esem2020_enterprises_mayotte_fr.xml"


@pytest.fixture(scope="module")
def parsed(corpus: Path) -> dict[str, ParseResult]:
    """Each DDI file parsed once; OAI-PMH envelopes through their inner codeBook, as the oai
    parser will do."""
    results = {}
    for name in (ALLBUS_25, ALLBUS_32, GLES_25, GLES_32, FSD, ETHIOPIA, UKDS_1683, UKDS_2000, EHIS, ESEM):
        results[name] = ddi.parse(load(corpus / name))
    for name in (ESS_OAI, UKDS_6684_OAI):
        results[name] = _parse_inside_oai(load(corpus / name))
    return results


def _parse_inside_oai(doc: Document) -> ParseResult:
    record = next(parse_xml(doc).iter("{http://www.openarchives.org/OAI/2.0/}record"))
    key = record.findtext("{http://www.openarchives.org/OAI/2.0/}header/"
                          "{http://www.openarchives.org/OAI/2.0/}identifier").strip()
    codebook = next(record.iter("{*}codeBook"))
    return ddi.parse_codebook_element(codebook, doc, record_key=key)


def _study(result: ParseResult) -> Study:
    studies = [record for record in result.records if isinstance(record, Study)]
    assert len(studies) == 1
    return studies[0]


def _variables(result: ParseResult) -> dict[str, Variable]:
    return {record.name: record for record in result.records if isinstance(record, Variable)}


def _edges(result: ParseResult, predicate: Predicate) -> set[tuple[str, str]]:
    return {(r.subject, r.object) for r in result.relations if r.predicate == predicate}


# --- recognition ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [ALLBUS_25, ALLBUS_32, FSD, ETHIOPIA, EHIS])
def test_sniff_claims_ddi_roots(corpus: Path, name: str) -> None:
    doc = load(corpus / name)
    assert ddi.sniff(doc, head_text(doc))


@pytest.mark.parametrize("name", [ESS_OAI, UKDS_6684_OAI,
                                  "oai_pmh/oai_listrecords_cessda_datacatalogue_oai_ddi25.xml",
                                  "cessda_cmm_json/cmm_ukds_SN6684_childcare_early_years_parents_2009.json"])
def test_sniff_leaves_oai_envelopes_and_other_formats_alone(corpus: Path, name: str) -> None:
    doc = load(corpus / name)
    assert not ddi.sniff(doc, head_text(doc))


def test_parse_refuses_an_oai_envelope_with_a_pointer_to_the_oai_parser(corpus: Path) -> None:
    with pytest.raises(ParseError, match="root element is <OAI-PMH>") as error:
        ddi.parse(load(corpus / ESS_OAI))
    assert "oai parser" in (error.value.hint or "")


# --- DDI-Codebook study level ----------------------------------------------------------------------

def test_allbus_codebook_study(parsed: dict[str, ParseResult]) -> None:
    study = _study(parsed[ALLBUS_25])
    assert study.title == ("ALLBUS/GGSS 1996 (Allgemeine Bevölkerungsumfrage der Sozialwissenschaften/"
                           "German General Social Survey 1996)")
    assert study.id == "allbus-ggss-1996-allgemeine-bevolkerungsumfrage-der-sozialwissenschaften-german"
    assert ("Allgemeine Bevölkerungsumfrage der Sozialwissenschaften ALLBUS 1996", "de") in \
        {(t.value, t.lang) for t in study.titles}
    assert {"gesis:za2800", "doi:10.4232/1.11888"} <= set(study.aliases())
    assert [(a.name, a.type, a.affiliation) for a in study.creators][0] == \
        ("Allerbeck, Klaus R.", "Person", "Universität Frankfurt")
    assert len(study.creators) == 7  # each author is listed once per language in the file
    assert study.publisher is not None
    assert study.publisher.name == "GESIS Data Archive for the Social Sciences"
    assert study.date_published == "2014-04-14"
    assert study.temporal_coverage == "1996-03/1996-06"
    assert study.spatial_coverage == ["Germany"]
    assert {t.lang for t in study.descriptions} == {"en", "de"}
    assert study.description.startswith("Social monitoring of trends in attitudes")
    assert "Migration" in study.topics
    assert study.url == "https://dbk.gesis.org/dbksearch/sdesc2.asp?no=2800&db=e"
    assert study.license == "A - Data and documents are released for academic research and teaching."
    assert study.methods["sampling_procedure"][0].startswith("Sample of individuals: Two stage")
    assert study.provenance.source == "ddi-codebook-2.5"
    assert study.provenance.record_key == "ZA2800"


def test_gles_codebook_study(parsed: dict[str, ParseResult]) -> None:
    study = _study(parsed[GLES_25])
    assert study.title == "Pre-election Cross Section (GLES 2009)"
    assert {"gesis:za5300", "doi:10.4232/1.13228"} <= set(study.aliases())
    assert study.temporal_coverage == "2009-08-10/2009-09-26"
    assert [a.name for a in study.creators] == ["Rattinger, Hans", "Roßteutscher, Sigrid",
                                                "Schmitt-Beck, Rüdiger", "Weßels, Bernhard"]
    german = next(t.value for t in study.descriptions if t.lang == "de")
    assert german.startswith("Politische Fragen (Issues).")
    assert "Elections" in study.topics


def test_ukds_6684_keywords_and_abstract_from_inside_oai(parsed: dict[str, ParseResult]) -> None:
    study = _study(parsed[UKDS_6684_OAI])
    assert study.title == "Childcare and Early Years Provision: Parents' Survey, 2009"
    assert {"ukds:6684", "doi:10.5255/ukda-sn-6684-1"} <= set(study.aliases())
    assert {"CHILD DAY CARE", "WORKING MOTHERS", "MATERNITY LEAVE"} <= set(study.keywords)
    assert len(study.keywords) == 49
    assert study.description.startswith("Abstract copyright UK Data Service and data collection copyright")
    assert "The Parents' Survey provides data on parents' take-up" in study.description
    assert "<" not in study.description  # the escaped HTML of the export is gone
    assert [a.type for a in study.creators] == ["Organization", "Organization"]
    assert [a.name for a in study.funders] == ["Department for Children, Schools and Families"]
    assert study.provenance.record_key == "6684"
    assert study.provenance.catalogue == "UK Data Service"


def test_ukds_1683(parsed: dict[str, ParseResult]) -> None:
    study = _study(parsed[UKDS_1683])
    assert study.title == "Machinery of Government, 1976-1977"
    assert {"ukds:1683", "doi:10.5255/ukda-sn-1683-1"} <= set(study.aliases())
    hood = study.creators[0]
    assert (hood.name, hood.type, hood.affiliation) == \
        ("Hood, C.C.", "Person", "University of York. Institute of Social and Economic Research")
    assert study.temporal_coverage == "1976/1977"
    assert study.extra["collection_period"] == "1976-02-01/1977"
    assert study.license == "http://creativecommons.org/licenses/by/4.0/"
    assert study.sample_size == 69
    assert [a.name for a in study.funders] == ["Economic and Social Research Council"]
    # the record's abstract describes another study (the Cornwall 1851 census): kept as found
    assert "Cornwall returns of the census of 1851" in study.description


def test_ukds_2000(parsed: dict[str, ParseResult]) -> None:
    study = _study(parsed[UKDS_2000])
    assert study.title == "Family Life and Work Experience Before 1918, 1870-1973"
    assert ("The Edwardians", "en") in {(t.value, t.lang) for t in study.titles}
    assert study.temporal_coverage == "1870/1973"
    assert study.license == "https://creativecommons.org/licenses/by/4.0/"  # named in the text only
    assert study.version == "7h"
    assert study.date_published == "1984"
    assert [a.name for a in study.creators] == ["Thompson, P.", "Lummis, T."]
    assert study.distributions[0].name == "ZIP"


def test_grant_number_with_agency_becomes_grant_and_funder(corpus: Path) -> None:
    """No corpus file carries a grantNo, so one is added to the real ALLBUS export."""
    content = (corpus / ALLBUS_25).read_bytes()
    study_part = content.index(b"<stdyDscr>")
    grant = b'<prodStmt><grantNo agency="Deutsche Forschungsgemeinschaft">DFG-AL 1996/2</grantNo></prodStmt>'
    content = content[:study_part] + content[study_part:].replace(b"<prodStmt/>", grant, 1)
    study = _study(ddi.parse(Document(location="allbus-with-grant.xml", content=content)))
    assert study.grant_numbers == ["DFG-AL 1996/2"]
    assert [(f.name, f.role) for f in study.funders] == [("Deutsche Forschungsgemeinschaft", "funder")]
    assert "grant:dfg-al 1996/2" in study.aliases()


# --- DDI-Codebook variables ------------------------------------------------------------------------

def test_fsd_bilingual_variables(parsed: dict[str, ParseResult]) -> None:
    result = parsed[FSD]
    study = _study(result)
    variables = _variables(result)
    assert len(variables) == 234 == study.variable_count
    assert study.title == "Financial Awareness of Finnish People 2014"
    assert "fsd:fsd3271" in study.aliases()
    assert study.spatial_coverage == ["Finland"]
    employment = variables["T9"]
    assert employment.id == "financial-awareness-of-finnish-people-2014.t9"
    assert employment.study_id == study.id
    assert employment.title == "[t9] What is your employment status?"
    assert {(t.lang, t.value) for t in employment.question_texts} == {
        ("fi", "Mikä on työtilanteesi? Valitse kortilta omaa tilannettasi kaikkein parhaiten "
               "kuvaava vaihtoehto."),
        ("en", "What is your employment status?"),
    }
    labels = [(c.label, c.lang) for c in employment.categories]
    assert labels[:4] == [("Kokopäivätyössä", "fi"), ("Employed full-time", "en"),
                          ("Osapäivätyössä", "fi"), ("Employed part-time", "en")]
    assert len(labels) == 24
    assert (study.id, employment.id) in _edges(result, Predicate.HAS_VARIABLE)


def test_utf16_nesstar_export(parsed: dict[str, ParseResult]) -> None:
    result = parsed[ETHIOPIA]
    study = _study(result)
    variables = _variables(result)
    assert len(variables) == 57
    assert study.title == "Annual Agricultural Sample Survey-2003/2004 (1996 E.C)"
    assert study.provenance.source == "ddi-codebook-1.2.2"
    assert study.sample_size == 509050
    assert [f.name for f in study.funders] == ["Government of Ethiopia"]
    sex = variables["v10"]
    assert sex.question_text == "Sex"
    assert [(c.value, c.label, c.frequency) for c in sex.categories] == \
        [("1", "Male", 430158), ("2", "Female", 78871)]
    assert sex.data_type == "numeric"
    assert sex.extra["groups"] == ["Demographic Characterstics"]
    assert variables["reg"].question_text == "Region"


def test_ess_codebook_inside_oai(parsed: dict[str, ParseResult]) -> None:
    result = parsed[ESS_OAI]
    study = _study(result)
    variables = _variables(result)
    assert len(variables) == 573
    assert study.title == "European Social Survey in Switzerland - 2004"
    assert study.provenance.record_key == "http://fors-getdata.unil.ch:80/obj/fStudy/ch.sidos.ddi.468.7773"
    assert study.sample_size == 2141
    assert study.extra["collection_period"] == "2004-09-16/2005-02-28"
    television = variables["tvtot"]
    assert television.question_text.startswith("Combien de temps passez-vous à regarder la télévision")
    assert [t.value for t in television.instructions] == ["Carte 1."]
    assert television.categories[0].label == "Pas du tout" and television.categories[0].frequency == 155
    dont_know = television.categories[-1]
    assert (dont_know.value, dont_know.label, dont_know.missing) == ("88", "Ne sait pas", True)
    assert variables["cntry"].categories[0].label == "CH"  # no label: named by its value


def test_malformed_var_is_a_problem_and_the_others_still_count(corpus: Path) -> None:
    content = (corpus / FSD).read_bytes().replace(b'<var name="T3">', b"<var>", 1)
    result = ddi.parse(Document(location="fsd-one-bad-var.xml", content=content))
    variables = _variables(result)
    assert len(variables) == 233 and "T3" not in variables and "T4" in variables
    [problem] = result.problems
    assert "neither @name nor @ID" in problem.reason
    assert "[t3] Kieli" in problem.raw


def test_truncated_file_is_a_parse_error_naming_the_file(corpus: Path) -> None:
    content = (corpus / FSD).read_bytes()
    doc = Document(location="/harvest/fsd3271-truncated.xml", content=content[: len(content) // 2])
    with pytest.raises(ParseError) as error:
        ddi.parse(doc)
    assert error.value.file == "/harvest/fsd3271-truncated.xml"
    assert "malformed XML" in error.value.reason


# --- DDI-Lifecycle -------------------------------------------------------------------------------------

def test_allbus_lifecycle_twin_matches_the_codebook(parsed: dict[str, ParseResult]) -> None:
    codebook, lifecycle = _study(parsed[ALLBUS_25]), _study(parsed[ALLBUS_32])
    assert lifecycle.title == codebook.title
    assert lifecycle.id == codebook.id
    assert {"gesis:za2800", "doi:10.4232/1.11888"} <= set(lifecycle.aliases())
    assert lifecycle.provenance.source == "ddi-lifecycle-3.2"
    assert lifecycle.temporal_coverage == codebook.temporal_coverage == "1996-03/1996-06"
    assert lifecycle.spatial_coverage == ["Germany"]
    assert lifecycle.sample_size == 3518
    # creators are references into the OrganizationScheme, affiliations a Relation away
    assert [(a.name, a.affiliation) for a in lifecycle.creators][:2] == \
        [("Allerbeck, Klaus R.", "Universität Frankfurt"), ("Allmendinger, Jutta", "Universität München")]
    assert lifecycle.universe[0].value.startswith("All persons (German and non-German)")
    assert lifecycle.methods["collection_mode"] == ["Face-to-face interview: Paper-and-pencil (PAPI)",
                                                    "Self-administered questionnaire: Paper"]
    # this GESIS export is study level only: it holds no VariableScheme, so no variables
    assert _variables(parsed[ALLBUS_32]) == {}


def test_gles_lifecycle_twin(parsed: dict[str, ParseResult]) -> None:
    codebook, lifecycle = _study(parsed[GLES_25]), _study(parsed[GLES_32])
    assert (lifecycle.id, lifecycle.title) == (codebook.id, codebook.title)
    assert lifecycle.extra["subtitle"] == "German Longitudinal Election Study"
    assert "doi:10.4232/1.13228" in lifecycle.aliases()


def test_insee_questionnaire_becomes_instrument_with_questions(parsed: dict[str, ParseResult]) -> None:
    result = parsed[EHIS]
    [instrument] = [r for r in result.records if isinstance(r, Instrument)]
    questions = [r for r in result.records if isinstance(r, Question)]
    assert instrument.title == "EHIS 2025 - questionnaire test ES0 - séquence 1 questionnaire"
    assert instrument.id == "ehis-2025-questionnaire-test-es0-sequence-1-questionnaire"
    assert instrument.question_count == len(questions) == 36
    assert [q.position for q in questions] == list(range(1, 37))
    health = next(q for q in questions if q.number == "HS1")
    assert health.title == "Comment est votre état de santé général ?"
    assert health.titles[0].lang == "fr-FR"
    assert [o.label for o in health.options][:2] == ["Très bon", "Bon"]
    assert health.instrument_id == instrument.id
    assert health.description == "Montrer la carte code n°5"
    assert (instrument.id, health.id) in _edges(result, Predicate.HAS_QUESTION)
    # question texts are VTL expressions; the readable wording is kept
    texts = {q.number: q.title for q in questions}
    assert texts["HS3"].startswith("Êtes-vous limité, depuis au moins 6 mois")
    assert texts["PL2"] == "Avez-vous des difficultés pour voir ?"
    assert not any(title.startswith('"') for title in texts.values())


def test_insee_variables_point_at_their_questions(parsed: dict[str, ParseResult]) -> None:
    result = parsed[EHIS]
    variables = _variables(result)
    assert len(variables) == 45
    health = variables["HS1"]
    question = next(r for r in result.records if isinstance(r, Question) and r.number == "HS1")
    assert health.id != question.id
    assert health.question_text == question.title
    assert [c.label for c in health.categories][-1] == "Vous ne souhaitez pas répondre"
    assert (health.id, question.id) in _edges(result, Predicate.MEASURED_BY)
    assert len({record.id for record in result.records}) == len(result.records)


@pytest.mark.parametrize(("name", "instrument_id", "id_prefix"), [
    (EHIS, "ehis-2025-questionnaire-test-es0-sequence-1-questionnaire",
     "ehis-2025-questionnaire-test-es0-sequence-1"),
    (ESEM, "enquete-sur-les-entreprises-mahoraises-questionnaire",
     "enquete-sur-les-entreprises-mahoraises")])
def test_insee_variables_belong_to_the_questionnaire(parsed: dict[str, ParseResult], name: str,
                                                     instrument_id: str, id_prefix: str) -> None:
    """The StudyUnit of a Pogues/Eno questionnaire has no title: the instrument holds the
    variables (they were orphans, search hits titled "PL3 label"); their ids do not move."""
    result = parsed[name]
    variables = list(_variables(result).values())
    assert variables and all(variable.study_id == instrument_id for variable in variables)
    assert all(variable.id.startswith(f"{id_prefix}.") for variable in variables)
    assert {(instrument_id, variable.id) for variable in variables} <= \
        _edges(result, Predicate.HAS_VARIABLE)
    assert not [variable.title for variable in variables if variable.title.endswith(" label")]
    assert not [t.value for variable in variables for t in variable.titles
                if t.value.endswith(" label")]


def test_placeholder_labels_give_way_to_the_question_or_the_name(parsed: dict[str, ParseResult]
                                                                 ) -> None:
    ehis = _variables(parsed[EHIS])
    assert ehis["PL3"].title == ehis["PL3"].question_text == "Portez-vous un appareil auditif ?"
    assert ehis["PL3"].titles[0].lang == "fr-FR"
    assert ehis["PHQSCORE"].title == "PHQScore"  # a label in another case still says something
    esem = _variables(parsed[ESEM])
    assert esem["SOMME_COLONNE"].title == "Somme colonne"  # no label, no question: its name
    assert esem["EFF3112"].title.startswith("Combien l'entreprise compte de salariés au 31/12")
    assert esem["CA"].title == "Chiffre d'affaires net de l'exercice"  # a real label stays


def test_every_ddi_item_has_a_parent(parsed: dict[str, ParseResult]) -> None:
    for name, result in parsed.items():
        parents = {record.id for record in result.records
                   if not isinstance(record, (Variable, Question))}
        for record in result.records:
            if isinstance(record, Variable):
                assert record.study_id in parents, (name, record.id)
            elif isinstance(record, Question):
                assert record.instrument_id in parents, (name, record.id)


def test_variables_of_a_bare_variable_scheme_get_a_study() -> None:
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<ddi:FragmentInstance xmlns:ddi="ddi:instance:3_3" xmlns:r="ddi:reusable:3_3"
    xmlns:l="ddi:logicalproduct:3_3">
  <ddi:Fragment><l:VariableScheme><r:Agency>x</r:Agency><r:ID>vs</r:ID><r:Version>1</r:Version>
    <l:Variable><r:Agency>x</r:Agency><r:ID>v1</r:ID><r:Version>1</r:Version>
      <l:VariableName><r:String>AIDE_VOIS2</r:String></l:VariableName>
      <r:Label><r:Content>AIDE_VOIS2 label</r:Content></r:Label></l:Variable>
  </l:VariableScheme></ddi:Fragment></ddi:FragmentInstance>"""
    result = ddi.parse(Document("/data/insee_variables.xml", xml))
    [study] = [record for record in result.records if isinstance(record, Study)]
    [variable] = [record for record in result.records if isinstance(record, Variable)]
    assert (study.id, study.title) == ("insee-variables-xml", "insee variables")
    assert (variable.study_id, variable.title) == (study.id, "Aide vois2")
    assert (study.id, variable.id) in _edges(result, Predicate.HAS_VARIABLE)


def test_insee_business_survey_in_flow_order(parsed: dict[str, ParseResult]) -> None:
    result = parsed[ESEM]
    [instrument] = [r for r in result.records if isinstance(r, Instrument)]
    questions = [r for r in result.records if isinstance(r, Question)]
    assert instrument.title == "Enquête sur les entreprises mahoraises questionnaire"
    assert len(questions) == 38
    assert questions[1].title == "Quelle est l'activité principale de votre entreprise ?"
    grid = next(q for q in questions if q.number == "REPARTITION_CA")
    assert grid.title.startswith("Veuillez répartir votre chiffre d'affaires net")
    assert instrument.provenance.source == "ddi-lifecycle-3.3"
