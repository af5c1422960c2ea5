"""schema.org JSON-LD: plain files, HTML pages, Next.js flight payloads and Harmony item JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from discovery.errors import ParseError
from discovery.model import (
    Identifier, Kind, Link, ParseResult, Predicate, Relation, Study, Variable,
)
from discovery.sources import jsonld
from discovery.sources.base import Document
from discovery.sources.registry import head_text
from tests.conftest import load

SEED = "seeds/000_0feec249131aae36.txt"
DATAVERSE = "harvard_dataverse_doi_10.7910_DVN_NJ7XSO_ankylosing_spondylitis_gwas"
DATAVERSE_PAGE = f"catalogue_pages/{DATAVERSE}.html"
DATAVERSE_JSONLD = f"schemaorg_dcat_ckan/schemaorg_{DATAVERSE}.jsonld"
GTEX = "schemaorg_dcat_ckan/schemaorg_gtex_expression_matrices.json"
SSCZO = "schemaorg_dcat_ckan/schemaorg_ssczo_providence_creek_met_soil.json"
TOPMED = "schemaorg_dcat_ckan/schemaorg_topmed_cram_file.json"
BCS70 = "catalogue_pages/harmony_item_000013c37b1c039c064ed9bb509cbc63.json"
OMNIBUS = "catalogue_pages/harmony_item_0001c9cbb20c4cdd240b0c006a9a4022.json"
STUB = "catalogue_pages/harmony_item_00070a95ad0197e678d87cb6b227ea60_stub.json"
RELATIONS = "relations-study-data-2021-2022"


def read(corpus: Path, name: str) -> ParseResult:
    doc = load(corpus / name)
    assert jsonld.sniff(doc, head_text(doc)), name
    return jsonld.parse(doc)


def only_study(result: ParseResult) -> Study:
    assert len(result.records) == 1 and not result.problems
    study = result.records[0]
    assert isinstance(study, Study)
    return study


def studies(result: ParseResult) -> dict[str, Study]:
    return {record.id: record for record in result.records if isinstance(record, Study)}


def html_page(*scripts: str) -> Document:
    body = "".join(f'<script type="application/ld+json">{script}</script>' for script in scripts)
    page = f"<!DOCTYPE html><html><head><title>t</title>{body}</head><body></body></html>"
    return Document(location="https://example.org/dataset.html", content=page.encode())


# --- the Harmony Discovery seed (Next.js flight payload) ------------------------------------

def test_seed_merges_json_ld_and_page_dataset_into_one_record(corpus: Path) -> None:
    study = only_study(read(corpus, SEED))
    assert study.id == RELATIONS
    assert study.kind == Kind.DATASET
    assert study.title == "The Relations Study Data, 2021-2022"
    assert study.temporal_coverage == "2021-04-01/2022-12-01"
    assert study.spatial_coverage == ["GB"]
    assert study.data_catalogs == [Link(
        url="https://beta.ukdataservice.ac.uk/datacatalogue/studies/study?id=857133",
        name="UK Data Service")]
    assert study.url == f"https://harmonydata.ac.uk/search/items/{RELATIONS}"
    assert study.resource_type == "dataset"
    assert study.provenance.source == "schema.org-nextjs"
    assert study.provenance.catalogue == "Harmony Discovery"


def test_seed_identifiers_keywords_topics_and_links(corpus: Path) -> None:
    study = only_study(read(corpus, SEED))
    assert Identifier(scheme="doi", value="10.5255/ukda-sn-857133") in study.identifiers
    assert Identifier(scheme="ukds", value="857133") in study.identifiers
    assert "doi:10.5255/ukda-sn-857133" in study.aliases()
    keywords = ["PARENTS", "CHILD PROTECTION", "DRUG USE", "DRUG ADDICTION", "HEALTH PROFESSIONALS",
                "SOCIAL SERVICES", "ETHNOGRAPHY", "INTERVIEWS (DATA COLLECTION)", "FAMILIES",
                "CHILDREN"]
    assert study.keywords == keywords
    assert study.topics == keywords
    assert [link.url for link in study.links] == [  # the page lists the DOI link twice
        "https://beta.ukdataservice.ac.uk/datacatalogue/studies/study?id=857133",
        "https://reshare.ukdataservice.ac.uk/857133",
        "http://dx.doi.org/10.5255/UKDA-SN-857133"]
    assert study.creators == [] and study.publisher is None and study.funders == []


def test_seed_description_is_whole_with_its_paragraphs(corpus: Path) -> None:
    description = only_study(read(corpus, SEED)).description
    assert description is not None
    assert description.startswith("These data were generated as part of a three-year ESRC-funded")
    assert description.endswith("However, there is wide variation in these policies and practices.")
    assert "\n\nPARENT/FAMILY DATA SET: This set of 122 text files" in description
    assert "‘workday debrief’ and interview schedules.WHY DID WE CONDUCT THIS STUDY? Children" \
        in description
    assert len(description.split("\n\n")) == 5  # paragraphs, as the source separates them


def test_page_variables_and_child_datasets_become_records(corpus: Path) -> None:
    """The seed lists none; the same page with some, as Harmony pages for UKDS studies have."""
    payload = (corpus / SEED).read_bytes()
    child = json.loads((corpus / OMNIBUS).read_text())["initialData"]["child_datasets"][0]
    payload = payload.replace(b'"allVariables":[]', json.dumps(
        {"allVariables": [{"name": "age", "description": "Age of respondent"}, "sex", "age"]}
    )[1:-1].encode()).replace(b'"child_datasets":[]', json.dumps(
        {"child_datasets": [child]})[1:-1].encode())
    result = jsonld.parse(Document(location="relations.txt", content=payload))
    variables = [r for r in result.records if isinstance(r, Variable)]
    assert [(v.id, v.name, v.description) for v in variables] == [
        (f"{RELATIONS}.age", "age", "Age of respondent"), (f"{RELATIONS}.sex", "sex", None)]
    assert all(v.study_id == RELATIONS for v in variables)
    assert Relation(subject=RELATIONS, predicate=Predicate.HAS_VARIABLE,
                    object=f"{RELATIONS}.sex") in result.relations
    assert studies(result)["4451-a0006210"].variable_count == 474
    assert studies(result)["4451-a0006210"].title == "4451_a0006210"  # not this study's file
    assert Relation(subject=RELATIONS, predicate=Predicate.HAS_PART,
                    object="4451-a0006210") in result.relations


def test_flight_payload_with_initial_data_reads_like_the_item_json(corpus: Path) -> None:
    item = json.loads((corpus / BCS70).read_text())
    payload = ('1:"$Sreact.fragment"\n'
               '0:{"P":null,"c":["","items","000013c37b1c039c064ed9bb509cbc63"]}\n'
               f'a:["$","$L14",null,{{"initialData":{json.dumps(item["initialData"])}}}]\n')
    doc = Document(location="bcs70.txt", content=payload.encode())
    assert jsonld.sniff(doc, head_text(doc))
    from_payload = jsonld.parse(doc)
    from_json = read(corpus, BCS70)
    assert [r.id for r in from_payload.records] == [r.id for r in from_json.records]
    assert from_payload.relations == from_json.relations


def test_text_row_with_a_bad_length_is_a_problem_not_a_crash() -> None:
    payload = '0:{"P":null,"c":["","items","x"]}\n13:Tzz,{}\n'
    with pytest.raises(ParseError) as error:
        jsonld.parse(Document(location="broken.txt", content=payload.encode()))
    assert error.value.file == "broken.txt"
    assert error.value.record == "row 13"


# --- HTML pages and plain JSON-LD -----------------------------------------------------------

def test_dataverse_page(corpus: Path) -> None:
    study = only_study(read(corpus, DATAVERSE_PAGE))
    assert study.id == "summary-data-ankylosing-spondylitis-gwas"
    assert study.title == "Summary data ankylosing spondylitis GWAS"
    assert study.description == ('Summary of association tests for Nature Genetics publication '
                                 '"Identification of multiple risk variants for ankylosing '
                                 'spondylitis through high-density genotyping of immune-related '
                                 'loci".')
    assert study.identifiers == [Identifier(scheme="doi", value="10.7910/dvn/nj7xso")]
    assert [a.name for a in study.creators] == [  # creator and author name the same consortium
        "International Genetics of Ankylosing Spondylitis Consortium (IGAS)"]
    assert study.publisher is not None and study.publisher.name == "Harvard Dataverse"
    assert study.keywords == ["Medicine, Health and Life Sciences",
                              "Genome-Wide Association Studies", "Ankylosing spondylitis"]
    assert study.license == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert (study.date_published, study.version) == ("2017-09-30", "1")
    assert [d.name for d in study.distributions] == [
        "Asian_Case_Control_Results.txt", "European_Asian_Case_Control_Results.txt",
        "European_Case_Control_Results.txt"]
    assert study.data_catalogs == [Link(url="https://dataverse.harvard.edu",
                                        name="Harvard Dataverse")]
    assert study.extra["citation"] == [{"@type": "CreativeWork", "text": "10.1038/ng.2667"}]
    assert (study.provenance.source, study.provenance.catalogue) == ("schema.org-html",
                                                                     "Harvard Dataverse")


def test_dataverse_page_and_its_extracted_json_ld_agree(corpus: Path) -> None:
    page = only_study(read(corpus, DATAVERSE_PAGE))
    plain = only_study(read(corpus, DATAVERSE_JSONLD))
    assert page.model_dump(exclude={"provenance"}) == plain.model_dump(exclude={"provenance"})
    assert plain.provenance.source == "schema.org"


def test_gtex(corpus: Path) -> None:
    study = only_study(read(corpus, GTEX))
    assert study.title.startswith("Fully processed, filtered and normalized gene expression")
    assert study.keywords == ["gtex", "annotation", "phenotype", "gene regulation",
                              "transcriptomics"]
    assert "doi:10.25491/d50j-3083" in study.aliases()
    assert len(study.funders) == 7
    assert study.funders[1].name == "National Cancer Institute (NCI)"
    assert study.funders[1].identifier == "https://doi.org/10.13039/100000054"
    assert study.creators[0].name == "The GTEx Consortium"
    assert (study.version, study.resource_type) == ("v7", "Gene expression matrices")
    assert study.extra["data_catalogs"] == ["GTEx"]  # a catalogue named without a URL
    assert study.distributions[0].url.endswith("GTEx_Analysis_v7_eQTL_expression_matrices.tar.gz")


def test_ssczo(corpus: Path) -> None:
    study = only_study(read(corpus, SSCZO))
    assert study.identifiers == [Identifier(scheme="doi", value="10.6071/z7wc73")]
    assert [a.type for a in study.creators] == ["Person"] * 6
    stacy = study.creators[2]
    assert (stacy.name, stacy.identifier) == ("Erin Stacy", "https://orcid.org/0000-0002-8862-1404")
    assert study.spatial_coverage == ["Providence Creek (Lower, Upper and P301)"]
    assert study.extra["geo"][0]["latitude"] == "37.047756"
    assert study.language == ["en"]
    assert study.license == "https://creativecommons.org/licenses/by/4.0"
    assert len(study.keywords) == 8 and study.keywords[-1] == "Sierra (mountain range)"
    assert study.funders[0].name.startswith("National Science Foundation")


def test_topmed_has_no_description_and_still_parses(corpus: Path) -> None:
    study = only_study(read(corpus, TOPMED))
    assert study.title == "NWD165827.recab.cram"
    assert study.id == "nwd165827-recab-cram"
    assert study.description is None and study.descriptions == []
    assert [(i.scheme, i.value) for i in study.identifiers] == [
        ("md5", "3b33f6b9338fccab0901b7d317577ea3"), ("minid", "ark:/99999/fk41CrU4eszeLUDe"),
        ("dataguid", "dg.4503/c3d66dc9-58da-411c-83c4-dd656aa3c4b7"),
        ("doi", "10.23725/8na3-9s47")]
    assert [d.url.split(":")[0] for d in study.distributions] == ["s3", "gs"]


def test_graph_and_unknown_types(corpus: Path) -> None:
    """An @graph holds the dataset beside page furniture (WebSite), which is skipped."""
    dataset = json.loads((corpus / SSCZO).read_text())
    graph = {"@context": "https://schema.org/",
             "@graph": [{"@type": "WebSite", "name": "Example"}, dataset]}
    result = jsonld.parse(html_page(json.dumps(graph)))
    assert len(result.records) == 1
    assert result.records[0].title.startswith("Southern Sierra Critical Zone Observatory (SSCZO)")


def test_variable_measured_becomes_variables(corpus: Path) -> None:
    dataset = json.loads((corpus / TOPMED).read_text())
    dataset["variableMeasured"] = [
        {"@type": "PropertyValue", "name": "Read depth", "propertyID": "depth"}, "coverage"]
    result = jsonld.parse(Document(location="topmed.json", content=json.dumps(dataset).encode()))
    study, *variables = result.records
    assert study.variable_count == 2
    assert [(v.id, v.name, v.title) for v in variables] == [
        ("nwd165827-recab-cram.depth", "depth", "Read depth"),
        ("nwd165827-recab-cram.coverage", "coverage", "coverage")]


# --- Harmony item JSON ----------------------------------------------------------------------

def test_harmony_bcs70_item(corpus: Path) -> None:
    result = read(corpus, BCS70)
    assert not result.problems
    study = result.records[0]
    assert isinstance(study, Study)
    assert study.id == "1970-british-cohort-study-age-16-sweep-4-1986"
    assert study.title == "1970 British Cohort Study: Age 16, Sweep 4, 1986"
    assert len(study.keywords) == 351
    assert study.temporal_coverage == "1986-01-01/1987-01-01"
    assert study.spatial_coverage == ["GB"] and study.language == ["en"]
    assert len(study.funders) == 15 and {f.role for f in study.funders} == {"sponsor"}
    assert {"doi:10.5255/ukda-sn-3535-6", "ukds:3535", "harmony:000013c37b1c039c064ed9bb509cbc63",
            "url:https://harmonydata.ac.uk/search/items/000013c37b1c039c064ed9bb509cbc63",
            } <= set(study.aliases())
    assert study.extra["genetic_data_collected"] is True
    assert study.provenance.catalogue == "Harmony Discovery"


def test_harmony_child_datasets_with_variable_counts(corpus: Path) -> None:
    result = read(corpus, BCS70)
    parent, *children = result.records
    assert [(c.id, c.variable_count) for c in children] == [
        ("3535-jiig-cal-occupational-interests", 195), ("3535-bcs4derived", 17),
        ("3535-bcs7016x", 4691), ("3535-bcs70-age16-school-type", 2)]
    assert result.relations == [Relation(subject=parent.id, predicate=Predicate.HAS_PART,
                                         object=child.id) for child in children]
    for child in children:  # the study DOI and number stay with the study, or aliases collide
        assert not set(child.aliases()) & set(parent.aliases())
        assert len(child.keywords) == 351
    assert children[3].title == f"{parent.title}: data file 3535_bcs70_age16_school_type"


def test_harmony_omnibus_item(corpus: Path) -> None:
    result = read(corpus, OMNIBUS)
    parent, child = result.records
    assert parent.title == "ONS Omnibus Survey, June 2000"
    assert len(parent.keywords) == 77
    assert parent.temporal_coverage == "2000-06-19/2000-07-07"
    assert "ukds:4451" in parent.aliases()
    assert isinstance(child, Study) and child.variable_count == 474
    assert child.title == "ONS Omnibus Survey, June 2000: data file 4451_a0006210"
    assert child.to_schema_org()["alternateName"] == ["4451_a0006210"]
    assert [t.value for t in child.titles] == [child.title, "4451_a0006210"]  # exports list both


def test_harmony_redirect_stub(corpus: Path) -> None:
    study = only_study(read(corpus, STUB))
    assert study.id == ("health-communication-and-the-internet-an-analysis-of-adolescent-language-"
                        "use-on-the-teenage-health-freak-website")
    assert study.title.startswith("Health communication and the internet: An analysis")
    assert study.description is not None
    assert study.description.startswith("This study explores the integration of corpus")
    assert "harmony:00070a95ad0197e678d87cb6b227ea60" in study.aliases()


# --- failures and hostile input -------------------------------------------------------------

def test_malformed_json_ld_only_script_names_the_file() -> None:
    doc = html_page('{"@type": "Dataset", "name": "x",')
    with pytest.raises(ParseError) as error:
        jsonld.parse(doc)
    assert error.value.file == doc.location
    assert "ld+json script 1" in error.value.reason


def test_malformed_script_is_a_problem_beside_a_good_one(corpus: Path) -> None:
    good = (corpus / TOPMED).read_text()
    result = jsonld.parse(html_page('{"@type": "Dataset", "name": }', good))
    assert [r.title for r in result.records] == ["NWD165827.recab.cram"]
    assert [p.record for p in result.problems] == ["ld+json script 1"]
    assert result.problems[0].raw == '{"@type": "Dataset", "name": }'


def test_markup_in_a_title_is_inert_text(corpus: Path) -> None:
    dataset = json.loads((corpus / TOPMED).read_text())
    dataset["name"] = "Cohort <script>alert(1)</script> <b>2020</b>"
    for doc in (Document(location="x.json", content=json.dumps(dataset).encode()),
                html_page(json.dumps(dataset).replace("</", "<\\/"))):
        study = only_study(jsonld.parse(doc))
        assert study.title == "Cohort alert(1) 2020"
        assert study.id == "cohort-alert-1-2020"


def test_a_harmony_item_without_a_name_names_the_file(corpus: Path) -> None:
    item = json.loads((corpus / OMNIBUS).read_text())
    del item["initialData"]["dataset_schema"]["name"]
    with pytest.raises(ParseError) as error:
        jsonld.parse(Document(location="omnibus.json", content=json.dumps(item).encode()))
    assert error.value.file == "omnibus.json" and "has no name" in error.value.reason


def test_a_record_without_a_name_is_a_problem(corpus: Path) -> None:
    good = json.loads((corpus / TOPMED).read_text())
    result = jsonld.parse(html_page(json.dumps([{"@type": "Dataset", "@id": "urn:x"}, good])))
    assert len(result.records) == 1
    assert result.problems[0].record == "urn:x"


@pytest.mark.parametrize("name", [
    "schemaorg_dcat_ckan/ckan_solr_datagovuk_price_paid_data.json",
    "schemaorg_dcat_ckan/dcat_ap_datos_gob_es_madrid_school_sport_satisfaction_survey.ttl",
    "schemaorg_dcat_ckan/dcterms_icpsr05512_un_roll_call_data_1946_1985.xml",
    "cessda_cmm_json/cmm_ukds_SN6684_childcare_early_years_parents_2009.json",
    "seeds/002_c114f96cc0523e31.txt",
    "ddi/ddi25_gesis_ZA2800_allbus_1996.xml",
    "instruments/harmony_example_questionnaires.jsonl",
])
def test_sniff_leaves_other_formats_alone(corpus: Path, name: str) -> None:
    doc = load(corpus / name)
    assert not jsonld.sniff(doc, head_text(doc))


def test_top_level_variables_and_questions_join_their_parent() -> None:
    """A PropertyValue beside its Dataset is a variable of it (named by isPartOf, or the only
    dataset); a Question with no survey to belong to is reported, not made an orphan hit."""
    graph = {"@context": "https://schema.org/", "@graph": [
        {"@type": "Dataset", "@id": "https://example.org/sleep", "name": "Sleep Study 2020"},
        {"@type": "PropertyValue", "name": "Hours of sleep", "propertyID": "SLEEP_H",
         "isPartOf": {"@id": "https://example.org/sleep"}},
        {"@type": "PropertyValue", "name": "Naps", "propertyID": "NAPS"},
        {"@type": "Question", "name": "How well do you sleep?"}]}
    result = jsonld.parse(Document("sleep.jsonld", json.dumps(graph).encode()))
    variables = [record for record in result.records if isinstance(record, Variable)]
    assert [(v.id, v.study_id) for v in variables] == [
        ("sleep-study-2020.sleep-h", "sleep-study-2020"), ("sleep-study-2020.naps", "sleep-study-2020")]
    assert {(r.subject, r.predicate, r.object) for r in result.relations} == {
        ("sleep-study-2020", Predicate.HAS_VARIABLE, v.id) for v in variables}
    assert [problem.reason.split(":")[0] for problem in result.problems] == [
        "a question outside any dataset or questionnaire"]
