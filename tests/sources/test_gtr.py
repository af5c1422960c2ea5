"""Gateway to Research: the seed project page (real), and the GtR-2 API in JSON and XML.

No real API response is in the corpus, so the API fixtures under `fixtures/gtr/` were WRITTEN
from the documented field names (shared/FORMATS.md: GtR-2 resources, `links.link[{href, rel,
start, end}]`, JSON v7 with epoch-millisecond dates, XML in `http://gtr.rcuk.ac.uk/gtr/api`);
they are not captured responses. Their projects, people (ORCID's fictional Josiah Carberry) and
DOIs (Crossref's test prefix 10.5555) are made up; one GUID names one thing across all files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from discovery.errors import ParseError
from discovery.model import (
    Organisation, Output, ParseResult, Person, Predicate, Project, child_id,
)
from discovery.sources import gtr
from discovery.sources.base import Document
from discovery.sources.registry import head_text
from tests.conftest import load

SEED = "seeds/002_c114f96cc0523e31.txt"
SEED_ID = "governing-parental-opioid-use-a-relational-ethnography"
FIXTURES = Path(__file__).parent / "fixtures" / "gtr"
PROJECT_GUID = "5B559475-7868-4CC8-A6F2-59F89B555DB4"
PROJECT_ID = "harmonising-wellbeing-measures-across-uk-birth-cohorts"


def gtr_id(guid: str) -> str:
    return f"gtr-{guid.lower()}"


def fixture(name: str) -> ParseResult:
    result = gtr.parse(load(FIXTURES / name))
    assert result.problems == []
    return result


def parse_json(data: Any, location: str = "bundle.json") -> ParseResult:
    return gtr.parse(Document(location=location, content=json.dumps(data).encode()))


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def edges(result: ParseResult) -> set[tuple[str, str, str]]:
    return {(r.subject, r.predicate.value, r.object) for r in result.relations}


@pytest.fixture(scope="module")
def seed(corpus: Path) -> ParseResult:
    return gtr.parse(load(corpus / SEED))


# --- the project page -------------------------------------------------------------------------

def test_sniff_claims_the_page_and_fixtures_only(corpus: Path) -> None:
    for path in [corpus / SEED, *sorted(FIXTURES.iterdir())]:
        doc = load(path)
        assert gtr.sniff(doc, head_text(doc)), path
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != Path(SEED).name):
        with path.open("rb") as file:
            doc = Document(location=str(path), content=file.read(8192))
        assert not gtr.sniff(doc, head_text(doc)), path


def test_seed_project(seed: ParseResult) -> None:
    project = seed.records[0]
    assert isinstance(project, Project)
    assert project.id == SEED_ID
    assert project.title == "Governing parental opioid use: a relational ethnography"
    assert project.lead_organisation == "University of Stirling"
    assert project.department == "Health Sciences"
    assert project.grant_reference is None and project.identifiers == []
    assert project.provenance.source == "gtr-page"
    paragraphs = project.abstract.split("\n\n")
    assert len(paragraphs) == 11
    assert paragraphs[0].startswith("WHY DO WE NEED THIS STUDY? Children and families affected")
    assert paragraphs[-1].endswith("help parents who use drugs and their families.")
    assert project.description == project.abstract
    assert project.planned_impact.startswith("OUR MAIN BENEFICIARIES INCLUDE:\n\nPARENTS WHO USE")
    assert project.planned_impact.endswith("interactions with policymakers and the public.")
    assert "Publications" not in project.planned_impact and "10 25 50" not in project.planned_impact


def test_seed_lead_organisation(seed: ParseResult) -> None:
    organisation = seed.records[1]
    assert isinstance(organisation, Organisation)
    assert organisation.id == "university-of-stirling"
    assert organisation.title == "University of Stirling"
    assert (SEED_ID, "ledBy", "university-of-stirling") in edges(seed)


def test_seed_engagement_activities(seed: ParseResult) -> None:
    outputs = [r for r in seed.records if isinstance(r, Output)]
    assert len(outputs) == 20
    assert [o.id for o in outputs] == [child_id(SEED_ID, f"engagement-{n}") for n in range(1, 21)]
    assert all(o.output_type == "engagement activity" and o.project_id == SEED_ID for o in outputs)
    assert {(SEED_ID, "hasOutput", o.id) for o in outputs} <= edges(seed)
    first, last = outputs[0], outputs[-1]
    assert first.fields == {
        "description": "Blog: How are we using Learning Alliances in the Relations study?",
        "form": "Engagement focused website, blog or social media channel",
        "part_of_official_scheme": "No",
        "geographic_reach": "National",
        "primary_audience": "Public/other audiences",
        "results_and_impact": "Blog on the topic of our study learning alliance and how it is "
                              "contributing to our public engagement strategy for the project.\n"
                              "Writer: Dr Hannah Carver, Coinvestigator, Relations Study.\n"
                              "Awareness raising of the purpose, role and function of our study "
                              "learning alliance and how members are contributing to the work of "
                              "the project.",
        "years": "2022",
        "url": "https://relations.stir.ac.uk/resources/relations-blog/"
               "how-are-we-using-learning-alliances-in-the-rel...",
    }
    assert first.title == first.description == first.fields["description"]
    assert first.years == ["2022"]
    assert first.url == first.fields["url"] and first.extra == {"url_truncated": True}
    assert last.title == "Webinar, hosted by the Relations Study team, 19 Oct 2022"
    assert last.description == "Webinar, hosted by the Relations Study team, 19 Oct 2022."
    assert last.fields["form"] == "A talk or presentation"
    assert last.fields["primary_audience"] == "Public/other audiences"
    assert last.fields["results_and_impact"].splitlines()[1].startswith("Title: Using/alone:")
    assert last.url == "https://relations.stir.ac.uk/events/esrc-relations-study-seminar-series-2022/"
    assert last.extra == {}


def test_seed_outputs_keep_every_field(seed: ParseResult) -> None:
    outputs = [r for r in seed.records if isinstance(r, Output)]
    alliance = outputs[10]
    assert alliance.title == "Establishment of a Learning Alliance (PPIE group)"
    assert alliance.years == ["2020", "2021", "2022"]
    assert alliance.fields["years"] == "2020,2021,2022"
    assert alliance.url is None and "url" not in alliance.fields
    assert alliance.fields["primary_audience"] == "Professional Practitioners"
    assert alliance.fields["form"] == "A formal working group, expert panel or dialogue"
    essd = outputs[7]
    assert essd.fields["geographic_reach"] == "International"
    assert essd.fields["primary_audience"] == "Other audiences"
    assert essd.fields["results_and_impact"].endswith(
        "Title: Drug testing parents: Findings from UK children's and family social work services\n"
        "Discussion with audience afterwards.")
    assert outputs[14].fields["form"] == "A talk or presentation"  # a podcast filed as a talk
    assert sum(o.extra.get("url_truncated", False) for o in outputs) == 11


def test_page_without_lead_organisation(corpus: Path) -> None:
    content = (corpus / SEED).read_bytes().replace(
        b"Lead Research Organisation: University of Stirling\n", b"")
    doc = Document(location="no-lead.txt", content=content)
    assert gtr.sniff(doc, head_text(doc))
    result = gtr.parse(doc)
    project = result.records[0]
    assert isinstance(project, Project) and project.id == SEED_ID
    assert project.lead_organisation is None and project.department == "Health Sciences"
    assert not any(isinstance(r, Organisation) for r in result.records)
    assert sum(isinstance(r, Output) for r in result.records) == 20
    assert not any(r.predicate is Predicate.LED_BY for r in result.relations)


def test_page_grant_reference_from_header_or_url(corpus: Path) -> None:
    seed_bytes = (corpus / SEED).read_bytes()
    with_reference = seed_bytes.replace(b"Department Name: Health Sciences\n",
                                        b"Department Name: Health Sciences\n"
                                        b"Grant Reference: ES/T005912/1\n")
    project = gtr.parse(Document(location="page.txt", content=with_reference)).records[0]
    assert isinstance(project, Project) and project.grant_reference == "ES/T005912/1"
    assert [(i.scheme, i.value) for i in project.identifiers] == [("grant", "ES/T005912/1")]
    url = "https://gtr.ukri.org/projects?ref=ES%2FT005912%2F1"
    fetched = gtr.parse(Document(location=url, content=seed_bytes)).records[0]
    assert isinstance(fetched, Project) and fetched.grant_reference == "ES/T005912/1"
    assert fetched.url == url and fetched.id == SEED_ID


def test_page_other_outcome_kinds_are_blocks_too(corpus: Path) -> None:
    """A collaboration block (labels as GtR's Collaborations tab names them) after the seed's."""
    content = (corpus / SEED).read_text() + (
        "\nCollaborations\n\n10 25 50\n \u00a0\n"
        "Description Scottish Families Affected by Alcohol and Drugs\n"
        "Organisation Scottish Families Affected by Alcohol and Drugs\n"
        "Country United Kingdom\nSector Charity/Non Profit\n"
        "PI Contribution Study design.\nStaff were trained at both sites.\n"
        "Partner Contribution Recruitment of families.\nImpact Two family events.\n"
        "Start Year 2020\n10 25 50\n")
    result = gtr.parse(Document(location="page.txt", content=content.encode()))
    collaboration = result.records[-1]
    assert isinstance(collaboration, Output)
    assert collaboration.id == child_id(SEED_ID, "collaboration-1")
    assert collaboration.output_type == "collaboration"
    assert collaboration.fields["pi_contribution"] == \
        "Study design.\nStaff were trained at both sites."
    assert collaboration.fields["impact"] == "Two family events."
    assert collaboration.years == ["2020"] and collaboration.fields["start_year"] == "2020"
    assert sum(isinstance(r, Output) for r in result.records) == 21


def test_page_without_title_fails() -> None:
    with pytest.raises(ParseError) as error:
        gtr.parse(Document(location="bad.txt", content=b"Lead Research Organisation: X\n"))
    assert error.value.file == "bad.txt"


# --- the API ----------------------------------------------------------------------------------

PROJECT_EDGES = {
    (PROJECT_ID, "ledBy", gtr_id("1BEDCF75-3A05-451F-A26D-D964A5A7E39C")),
    (PROJECT_ID, "hasInvestigator", gtr_id("1587CB82-29F6-4569-A9B1-4C14F4107C39")),
    (PROJECT_ID, "hasInvestigator", gtr_id("1474169A-2832-4FD2-AA51-E46387B52C8B")),
    (PROJECT_ID, "hasParticipant", gtr_id("74BCDBD9-CCAD-44DA-BE2B-685D5E5EA3FB")),
    (PROJECT_ID, "hasParticipant", gtr_id("FCF82C12-E7AF-4C9D-8D3D-D6774F4DD091")),
    (PROJECT_ID, "hasOutput", gtr_id("372D54AB-7080-428C-AA5C-1D3D0DDD6683")),
    (PROJECT_ID, "hasOutput", gtr_id("E764496A-FAE6-42C7-B8AD-1C124FE819CA")),
    (PROJECT_ID, "hasOutput", gtr_id("962F9145-7702-4CB7-89CC-1129111EAAB8")),
}


def test_api_json_project() -> None:
    result = fixture("project.json")
    [project] = result.records
    assert isinstance(project, Project)
    assert project.id == PROJECT_ID
    assert project.grant_reference == "ES/T005912/1"
    assert [(i.scheme, i.value) for i in project.identifiers] == [
        ("grant", "ES/T005912/1"), ("gtr", PROJECT_GUID),
        ("url", f"https://gtr.ukri.org/project/{PROJECT_GUID}")]
    assert (project.status, project.category, project.funder, project.department) == \
        ("Closed", "Research Grant", "ESRC", "Health Sciences")
    assert project.abstract.split("\n\n")[1].startswith("This project maps those questions")
    assert project.planned_impact.startswith("Researchers, data services and policymakers")
    assert (project.start, project.end) == ("2020-10-01", "2023-09-30")  # BST midnights
    assert project.subjects == ["Sociology", "Social Policy"]
    assert project.keywords == ["Quantitative Methods"]
    assert project.extra["subject_percentages"] == {"Sociology": 60.0, "Social Policy": 40.0}
    assert project.extra["health_categories"] == ["Mental Health"]
    assert project.extra["gtr_links"] == ["FUND 4A78A40A-6968-446C-849C-708D7E46B6E2"]
    assert project.provenance.source == "gtr-api-json"
    assert project.provenance.record_key == PROJECT_GUID
    assert edges(result) == PROJECT_EDGES
    assert {r.evidence for r in result.relations if r.predicate is Predicate.LED_BY} == \
        {"GtR link LEAD_ORG"}


def test_api_xml_project_matches_json() -> None:
    from_xml, from_json = fixture("project.xml"), fixture("project.json")
    assert edges(from_xml) == PROJECT_EDGES
    xml_project, json_project = from_xml.records[0], from_json.records[0]
    assert xml_project.provenance.source == "gtr-api-xml"
    assert xml_project.model_dump(exclude={"provenance"}) == \
        json_project.model_dump(exclude={"provenance"})


@pytest.mark.parametrize("name", ["projects.json", "projects.xml"])
def test_api_page_of_projects(name: str) -> None:
    result = fixture(name)
    assert [(r.id, r.grant_reference) for r in result.records if isinstance(r, Project)] == [
        (PROJECT_ID, "ES/T005912/1"),
        ("linking-administrative-and-survey-data-on-parental-substance-use", "ES/V006827/1")]
    second = result.records[1]
    assert isinstance(second, Project) and second.status == "Active"
    assert (second.start, second.end) == ("2021-01-11", "2024-03-31")  # GMT start, BST end
    assert (second.id, "ledBy", gtr_id("0E3C9B6E-52D4-4C0B-9F0A-6B1D2E7A9C44")) in edges(result)


def test_api_person() -> None:
    result = fixture("person.json")
    [person] = result.records
    assert isinstance(person, Person)
    assert person.id == gtr_id("1587CB82-29F6-4569-A9B1-4C14F4107C39")
    assert (person.title, person.given_name, person.family_name, person.orcid) == \
        ("Josiah Stinkney Carberry", "Josiah", "Carberry", "0000-0002-1825-0097")
    assert [(i.scheme, i.value) for i in person.identifiers] == [
        ("gtr", "1587CB82-29F6-4569-A9B1-4C14F4107C39"), ("orcid", "0000-0002-1825-0097")]
    assert edges(result) == {
        (person.id, "affiliatedWith", gtr_id("1BEDCF75-3A05-451F-A26D-D964A5A7E39C")),
        (gtr_id(PROJECT_GUID), "hasInvestigator", person.id)}


def test_api_organisation_xml() -> None:
    result = fixture("organisation.xml")
    [organisation] = result.records
    assert isinstance(organisation, Organisation)
    assert organisation.id == "university-of-stirling"  # the same id the page gives it
    assert organisation.address == "University of Stirling, Stirling, FK9 4LA"
    assert organisation.country == "United Kingdom" and organisation.extra == {"region": "Scotland"}
    assert [(i.scheme, i.value) for i in organisation.identifiers] == \
        [("gtr", "1BEDCF75-3A05-451F-A26D-D964A5A7E39C")]
    assert edges(result) == {(gtr_id(PROJECT_GUID), "ledBy", "university-of-stirling")}


def test_api_publications() -> None:
    result = fixture("publications.json")
    article, paper = result.records
    assert isinstance(article, Output) and isinstance(paper, Output)
    assert article.output_type == paper.output_type == "publication"
    assert article.id == gtr_id("372D54AB-7080-428C-AA5C-1D3D0DDD6683")
    assert article.title == "Measuring wellbeing consistently across four British birth cohorts"
    assert ("doi", "10.5555/12345678") in [(i.scheme, i.value) for i in article.identifiers]
    assert ("pubmed", "35512345") in [(i.scheme, i.value) for i in article.identifiers]
    assert article.url == "https://doi.org/10.5555/12345678"
    assert article.years == ["2022"] and article.fields["datePublished"] == "2022-06-01"
    assert article.fields["journalTitle"] == "Longitudinal and Life Course Studies"
    assert article.project_id == gtr_id(PROJECT_GUID)
    assert paper.url == "https://www.stir.ac.uk/research/working-papers/wellbeing-harmonisation"
    assert not any(i.scheme == "doi" for i in paper.identifiers)
    assert edges(result) == {(gtr_id(PROJECT_GUID), "hasOutput", article.id),
                             (gtr_id(PROJECT_GUID), "hasOutput", paper.id)}


def test_api_disseminations_use_the_page_field_names(seed: ParseResult) -> None:
    workshop, podcast = fixture("disseminations.json").records
    assert isinstance(workshop, Output) and isinstance(podcast, Output)
    assert workshop.output_type == "engagement activity"
    assert workshop.title == "Workshop for cohort study data managers, Edinburgh, 14 June 2022"
    assert workshop.fields == {
        "description": "Workshop for cohort study data managers, Edinburgh, 14 June 2022. "
                       "Participants tried the harmonised variable list on their own studies.",
        "form": "A formal working group, expert panel or dialogue",
        "part_of_official_scheme": "No",
        "geographic_reach": "National",
        "primary_audience": "Professional Practitioners",
        "results_and_impact": "Data managers from six cohort studies adopted the harmonised "
                              "wellbeing codes.\nTwo studies changed their next sweep's "
                              "questionnaire.",
        "years": "2022,2023",
        "url": "https://www.stir.ac.uk/events/wellbeing-harmonisation-workshop",
    }
    assert set(workshop.fields) == set(seed.records[2].fields)
    assert workshop.years == ["2022", "2023"]
    assert workshop.extra["typeOfPresentation"] == "Workshop Facilitator"
    assert podcast.fields["part_of_official_scheme"] == "Yes" and podcast.url is None
    assert podcast.project_id == gtr_id("1CCFBBF6-5019-4E32-BF81-BF9E60281553")


def test_api_research_database_xml() -> None:
    result = fixture("researchdatabaseandmodel.xml")
    [database] = result.records
    assert isinstance(database, Output)
    assert database.output_type == "research database and model"
    assert database.title == "Harmonised wellbeing variables for UK birth cohorts, 1958-2000"
    assert database.url == "https://reshare.ukdataservice.ac.uk/855555/"
    assert database.years == ["2023"]
    assert database.fields["providedToOthers"] == "Yes"
    assert edges(result) == {(gtr_id(PROJECT_GUID), "hasOutput", database.id)}


def test_api_outcome_bundle() -> None:
    finding, collaboration = fixture("outcomes.json").records
    assert isinstance(finding, Output) and isinstance(collaboration, Output)
    assert finding.output_type == "key finding"
    assert finding.title == "Wellbeing items in the four cohorts map onto three common constructs"
    assert collaboration.output_type == "collaboration"
    assert collaboration.fields["partnerContribution"] == \
        "Access to survey documentation and staff time."
    assert collaboration.fields["start"] == "2021-10-01"
    assert collaboration.extra["gtr_links"] == ["COLLAB_ORG FCF82C12-E7AF-4C9D-8D3D-D6774F4DD091"]


def test_api_fund_alone_becomes_a_funded_by_relation() -> None:
    [relation] = fixture("fund.json").relations
    assert (relation.subject, relation.predicate, relation.object) == \
        (gtr_id(PROJECT_GUID), Predicate.FUNDED_BY, gtr_id("53562F4D-2BD6-4DBD-820D-91CC9252A414"))
    assert relation.evidence == ("GtR fund 4A78A40A-6968-446C-849C-708D7E46B6E2: "
                                 "412345.67 GBP, 2020-10-01 to 2023-09-30")


def test_api_fund_and_lead_organisation_in_the_same_document() -> None:
    lead = {"id": "1BEDCF75-3A05-451F-A26D-D964A5A7E39C", "name": "University of Stirling",
            "href": "http://gtr.ukri.org:80/gtr/api/organisations/1BEDCF75-3A05-451F-A26D-D964A5A7E39C"}
    result = parse_json([fixture_json("project.json"), fixture_json("fund.json"), lead])
    project = result.records[0]
    assert isinstance(project, Project)
    assert (project.amount, project.currency) == (412345.67, "GBP")
    assert project.lead_organisation == "University of Stirling"
    assert (PROJECT_ID, "ledBy", "university-of-stirling") in edges(result)
    assert (PROJECT_ID, "fundedBy", gtr_id("53562F4D-2BD6-4DBD-820D-91CC9252A414")) in edges(result)
    embedded = fixture_json("project.json")
    embedded["fund"] = {key: value for key, value in fixture_json("fund.json").items()
                        if key != "links"}
    [project] = parse_json(embedded).records
    assert isinstance(project, Project) and project.amount == 412345.67


def test_api_bad_resource_is_a_problem_not_a_failure() -> None:
    untitled = fixture_json("project.json")
    untitled["title"] = ""
    other = "1CCFBBF6-5019-4E32-BF81-BF9E60281553"
    untitled["id"], untitled["href"] = other, untitled["href"].replace(PROJECT_GUID, other)
    page = fixture_json("projects.json")
    page["project"][1] = untitled
    result = parse_json(page)
    assert [r.id for r in result.records] == [PROJECT_ID]
    [problem] = result.problems
    assert problem.record == other
    assert "no title" in problem.reason and problem.raw


def test_api_truncated_json_names_the_file() -> None:
    path = FIXTURES / "project_truncated.json"
    with pytest.raises(ParseError) as error:
        gtr.parse(load(path))
    assert error.value.file == str(path)
    assert "malformed JSON" in error.value.reason


def test_api_xml_of_another_kind_is_refused() -> None:
    doc = Document(location="other.xml",
                   content=b'<project xmlns="urn:other"><title>x</title></project>')
    assert not gtr.sniff(doc, head_text(doc))
    with pytest.raises(ParseError, match="not a GtR API document"):
        gtr.parse(doc)
