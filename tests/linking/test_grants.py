"""Dataset -> grant -> output edges: from stated grant numbers, GtR outcomes, references and
passages in text; the seed pair both ways; re-linking after new ingests adds no duplicates."""

from __future__ import annotations

from discovery.catalogue.ingest import ingest
from discovery.harvest.files import documents
from discovery.linking import link_catalogue
from discovery.linking.neighbourhood import neighbourhood
from discovery.linking.text_match import study_name
from discovery.model import Predicate
from tests.linking.conftest import (ALLBUS_25, ALLBUS_32, GLES_25, GOVERNING, RELATIONS, SEED_DATASET,
                                    SEED_GRANT, build)

CROSSWALK = "wellbeing-crosswalk-for-four-birth-cohorts-1958-2000"
INTERVIEWS = "wellbeing-interviews-with-cohort-members-2022"
COHORT_GRANT = "wellbeing-across-uk-birth-cohorts"
OUTCOME = "gtr-7a1c0e55-2222-4c3d-8e9f-0a1b2c3d4e5f"


def funded_by(catalogue, rid):
    return {(r.subject, r.object): r for r in catalogue.relations(rid) if r.predicate is Predicate.FUNDED_BY}


def test_the_seed_dataset_links_to_its_grant_from_text_and_back(linked):
    catalogue, _ = linked
    edge = funded_by(catalogue, RELATIONS)[(RELATIONS, GOVERNING)]
    assert 0.5 <= edge.confidence < 0.9  # textual evidence ranks below identifiers
    assert "passage" in edge.evidence and "parental drug use" in edge.evidence
    assert 'study name "Relations Study" in both' in edge.evidence
    assert "Economic and Social Research Council" in edge.evidence
    back = neighbourhood(catalogue, GOVERNING)
    [funds] = [e for e in back.edges if e.predicate is Predicate.FUNDED_BY]
    assert (funds.direction, funds.label, funds.other) == ("in", "funds", RELATIONS)
    assert funds.other_title == "The Relations Study Data, 2021-2022"
    assert funds.evidence == edge.evidence
    assert len([e for e in back.edges if e.predicate is Predicate.HAS_OUTPUT]) == 20


def test_funders_alone_do_not_link_datasets_to_a_grant(linked):
    catalogue, _ = linked
    # ESRC funded this study too, and childcare is about parents: no shared passage, no link
    assert funded_by(catalogue, "machinery-of-government-1976-1977") == {}
    assert funded_by(catalogue, "childcare-and-early-years-provision-parents-survey-2009") == {}
    assert {s for s, _ in funded_by(catalogue, GOVERNING)} == {RELATIONS}


def test_stated_grant_numbers_outcomes_and_written_references_link(linked):
    catalogue, _ = linked
    stated = funded_by(catalogue, CROSSWALK)[(CROSSWALK, COHORT_GRANT)]
    assert stated.confidence == 1.0 and "ES/X012345/1 stated" in stated.evidence
    written = funded_by(catalogue, INTERVIEWS)[(INTERVIEWS, COHORT_GRANT)]
    assert written.confidence == 0.9 and "funded under ESRC grant ES/X012345/1" in written.evidence
    same = [r for r in catalogue.relations(OUTCOME) if r.predicate is Predicate.SAME_AS]
    assert [(r.subject, r.object, r.confidence) for r in same] == [(OUTCOME, CROSSWALK, 0.95)]
    assert "points at ukds:855555" in same[0].evidence
    # the outcome named its grant by GUID in another document: the edge now reaches the grant
    outputs = [r for r in catalogue.relations(COHORT_GRANT) if r.predicate is Predicate.HAS_OUTPUT]
    assert [(r.subject, r.object) for r in outputs] == [(COHORT_GRANT, OUTCOME)]


def test_study_names_come_from_dataset_titles():
    assert study_name("The Relations Study Data, 2021-2022") == "Relations Study"
    assert study_name("Machinery of Government, 1976-1977") == "Machinery of Government"
    assert study_name("Survey, 2009") is None


def test_relinking_after_new_ingests_does_not_duplicate(tmp_path, corpus):
    catalogue = build(tmp_path / "data", corpus, [SEED_DATASET, SEED_GRANT, ALLBUS_25], [])
    link_catalogue(catalogue)

    def linking_rows() -> list[tuple]:
        return sorted(catalogue.db.execute(
            "SELECT subject, predicate, object, location FROM relations WHERE location LIKE 'linking:%'"))

    first = linking_rows()
    assert (RELATIONS, "fundedBy", GOVERNING, "linking:text") in first
    link_catalogue(catalogue)
    assert linking_rows() == first
    report = ingest(catalogue, documents([str(corpus / ALLBUS_32), str(corpus / GLES_25),
                                          str(corpus / SEED_DATASET)]))
    assert report.ok
    link_catalogue(catalogue)
    again = linking_rows()
    assert again == first
    assert len(again) == len(set((s, p, o) for s, p, o, _ in again))
    (count,) = catalogue.db.execute("SELECT COUNT(*) FROM clusters").fetchone()
    link_catalogue(catalogue)
    assert catalogue.db.execute("SELECT COUNT(*) FROM clusters").fetchone() == (count,)
