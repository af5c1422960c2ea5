"""DDI Codebook 2.5 out: in DDI's element order, and read back by our own DDI parser as the same
study and variables, languages, categories and hostile characters included."""

from __future__ import annotations

from discovery.export.ddi_codebook import codebook, to_bytes
from discovery.model import Agent, Category, Identifier, Kind, Provenance, Study, Text, Variable
from discovery.sources.base import Document
from discovery.sources.ddi import parse
from tests.oai.codebook_order import problems

PROVENANCE = Provenance(source="test", location="test://study", content_hash="0")
STUDY = Study(
    id="panel-study", kind=Kind.STUDY, title="Panel Study 2020",
    titles=[Text(value="Panel Study 2020", lang="en"), Text(value="Paneelitutkimus 2020", lang="fi")],
    description="A panel of households.", descriptions=[Text(value="A panel of households.", lang="en")],
    identifiers=[Identifier(scheme="doi", value="10.1234/panel"), Identifier(scheme="fsd", value="FSD9999")],
    keywords=["households", "income"], topics=["Economics"],
    creators=[Agent(type="Person", name="Virtanen, Anna", affiliation="University of Tampere")],
    publisher=Agent(name="Finnish Social Science Data Archive"), funders=[Agent(name="Academy of Finland")],
    grant_numbers=["AF-123"], temporal_coverage="2020-01-01/2020-12-31", spatial_coverage=["Finland"],
    sample_size=2500, study_design=["Longitudinal: Panel"], license="https://creativecommons.org/licenses/by/4.0/",
    date_published="2021-05-01", version="1.0", url="https://example.org/panel",
    methods={"collection_mode": ["Face-to-face interview"], "time_method": ["Longitudinal: Panel"]},
    provenance=PROVENANCE)
VARIABLES = [
    Variable(id="panel-study.q1", name="q1", study_id="panel-study", title="Household income",
             titles=[Text(value="Household income", lang="en"), Text(value="Kotitalouden tulot", lang="fi")],
             question_texts=[Text(value="What was your income?", lang="en")],
             categories=[Category(value="1", label="Low", lang="en", frequency=700),
                         Category(value="1", label="Matala", lang="fi", frequency=700),
                         Category(value="9", label="Refused", missing=True)],
             concepts=["Income"], data_type="numeric", provenance=PROVENANCE),
    Variable(id="panel-study.q2", name="q2\u0001", study_id="panel-study", title="Label with \u0002 control",
             titles=[Text(value="Label with \u0002 control")], provenance=PROVENANCE),
]


def test_elements_follow_ddi_order() -> None:
    assert problems(codebook(STUDY, VARIABLES)) == []


def test_our_parser_reads_back_the_same_study_and_variables() -> None:
    result = parse(Document(location="test://panel.xml", content=to_bytes(STUDY, VARIABLES)))
    study, *variables = result.records
    assert isinstance(study, Study)
    for field in ("title", "description", "keywords", "topics", "grant_numbers", "temporal_coverage",
                  "spatial_coverage", "sample_size", "study_design", "license", "date_published",
                  "version", "url"):
        assert getattr(study, field) == getattr(STUDY, field), field
    assert {(t.value, t.lang) for t in study.titles} == {(t.value, t.lang) for t in STUDY.titles}
    assert [a.name for a in study.creators] == ["Virtanen, Anna"]
    assert study.publisher.name == STUDY.publisher.name
    assert {"doi:10.1234/panel", "fsd:fsd9999"} <= set(study.aliases())
    assert [v.name for v in variables] == ["q1", "q2"]
    assert variables[0].categories == VARIABLES[0].categories
    assert variables[0].question_texts == VARIABLES[0].question_texts
    assert variables[0].concepts == ["Income"] and variables[0].data_type == "numeric"
    assert variables[1].title == "Label with control"  # the reader collapses spaces
