"""Identity: identifiers decide, titles only support, conflicts never merge, clusters keep every
source with per-field provenance."""

from __future__ import annotations

import pytest

from discovery.catalogue.store import Catalogue
from discovery.linking import link_catalogue
from discovery.linking.clusters import cluster_view
from discovery.linking.identifiers import alias_keys, disagreement, grant_references
from discovery.model import Agent, Identifier, ParseResult, Predicate, Provenance, Study, content_hash
from tests.linking.conftest import ALLBUS, ALLBUS_25, ALLBUS_32, FINNISH, FSD, GLES, FSD_RETITLED


def study(rid: str, title: str, location: str, identifiers: dict[str, str] | None = None,
          creators: tuple[str, ...] = ("Allerbeck, Klaus R.", "Bürklin, Wilhelm")) -> Study:
    return Study(id=rid, title=title, provenance=Provenance(source="test", location=location,
                                                             content_hash=content_hash(location)),
                 identifiers=[Identifier(scheme=s, value=v) for s, v in (identifiers or {}).items()],
                 creators=[Agent(type="Person", name=name) for name in creators])


def store(catalogue: Catalogue, record: Study) -> None:
    location = record.provenance.location
    catalogue.apply(location, location.encode(), "2026-01-01T00:00:00+00:00",
                    ParseResult(records=[record]))


@pytest.fixture
def catalogue(tmp_path) -> Catalogue:
    with Catalogue(tmp_path / "data") as opened:
        yield opened


def test_identifiers_are_normalised_and_study_numbers_drawn_out():
    assert alias_keys("doi:10.5255/UKDA-SN-6684-1") == {"doi:10.5255/ukda-sn-6684-1", "ukds:6684"}
    assert alias_keys("url:http://urn.fi/urn:nbn:fi:fsd:T-FSD3271") == {"fsd:fsd3271"}
    assert alias_keys("url:https://dbk.gesis.org/dbksearch/sdesc2.asp?no=2800&db=e") == {"gesis:za2800"}
    assert alias_keys("url:https://datacatalogue.ukdataservice.ac.uk/datasets/dataset/c4020b12") == set()
    assert alias_keys("oai:6684") == set() and alias_keys("local:sn258") == set()
    assert grant_references("under grants ES/T005912/1, MC_PC_17210 and RES-062-23-1234.") == \
        ["ES/T005912/1", "MC_PC_17210", "RES-062-23-1234"]


def test_versions_of_one_study_do_not_disagree_but_two_study_numbers_do():
    versions = disagreement({"doi:10.5255/ukda-sn-6684-1", "ukds:6684"},
                            {"doi:10.5255/ukda-sn-6684-2", "ukds:6684"}, ["ukds"])
    assert versions is None
    assert disagreement({"gesis:za2800"}, {"gesis:za5300"}, ["gesis"]) == "gesis za2800 vs za5300"


def test_conflicting_identifiers_never_merge_even_with_a_shared_doi(catalogue):
    doi = "10.4232/1.2800"
    store(catalogue, study("allbus-1996", "ALLBUS 1996", "a.xml", {"gesis": "ZA2800", "doi": doi}))
    # a second catalogue copies the DOI by mistake onto another study with the same title
    store(catalogue, study("allbus-1996-copy", "ALLBUS 1996", "b.xml", {"gesis": "ZA5300", "doi": doi}))
    report = link_catalogue(catalogue)
    assert catalogue.cluster("allbus-1996") == []
    assert report.kept_apart == ["allbus-1996 / allbus-1996-copy: gesis za2800 vs za5300"]


def test_titles_merge_only_with_more_evidence_and_never_against_identifiers(catalogue):
    title = "German General Social Survey 1996"
    store(catalogue, study("allbus-1996", title, "a.xml", {"gesis": "ZA2800"}))
    # same title, same years, a shared creator, no identifier: the same study
    store(catalogue, study("allbus-1996-list", "German General Social Survey, 1996", "list.csv"))
    # same title and creators but another study number: a different study
    store(catalogue, study("allbus-1996-za9999", title, "c.xml", {"gesis": "ZA9999"}))
    # the next wave: near-duplicate title, same creators
    store(catalogue, study("allbus-1998", "German General Social Survey 1998", "d.xml"))
    # same title, nobody in common: title alone is not enough
    store(catalogue, study("allbus-1996-other", title, "e.xml", creators=("Someone, Else",)))
    link_catalogue(catalogue)
    cluster = catalogue.cluster("allbus-1996")
    assert [member for member, _, _ in cluster] == ["allbus-1996", "allbus-1996-list"]
    confidence, evidence = cluster[1][1], cluster[1][2]
    assert confidence == 0.85 and "same title" in evidence and "allerbeck" in evidence
    for apart in ("allbus-1996-za9999", "allbus-1998", "allbus-1996-other"):
        assert catalogue.cluster(apart) == []


def test_a_study_and_its_own_dataset_stay_apart_even_when_they_share_a_doi(catalogue):
    whole = study("bcs70", "BCS70 Age 16", "page.json", {"doi": "10.5255/UKDA-SN-3535-6"})
    part = study("bcs70-derived", "BCS70 derived variables", "page.json", {"doi": "10.5255/UKDA-SN-3535-6"})
    catalogue.apply("page.json", b"page", "2026-01-01T00:00:00+00:00", ParseResult(
        records=[whole, part], relations=[{"subject": "bcs70", "predicate": Predicate.HAS_PART,
                                           "object": "bcs70-derived"}]))
    link_catalogue(catalogue)
    assert catalogue.cluster("bcs70") == []


def test_near_duplicate_titles_of_different_studies_stay_apart(linked):
    catalogue, _ = linked
    assert catalogue.canonical(ALLBUS) == ALLBUS and catalogue.canonical(GLES) == GLES
    assert catalogue.cluster(ALLBUS) == [] and catalogue.cluster(GLES) == []
    assert catalogue.canonical("machinery-of-government-1976-1977") != \
        catalogue.canonical("childcare-and-early-years-provision-parents-survey-2009")
    assert catalogue.canonical("political-literacy-survey-hansard-society-schools-survey-1975") != \
        catalogue.canonical("road-traffic-and-the-environment-1972")


def test_gesis_ddi_25_and_32_are_one_cluster_with_per_field_provenance(linked):
    catalogue, _ = linked
    view = cluster_view(catalogue, "ZA2800")
    assert [s.location.rsplit("/", 2)[-2:] for s in view.sources] == \
        [ALLBUS_25.split("/"), ALLBUS_32.split("/")]
    fields = {f.field: f for f in view.fields}
    assert fields["title"].sources == [0]  # the earliest source's title wins
    assert fields["sample_size"].sources == [1]  # only DDI 3.2 states it
    assert 1 in fields["publisher"].differing  # DDI 3.2 names the publisher otherwise
    assert set(fields["topics"].sources) == {0, 1}


def test_a_catalogues_copy_under_another_title_joins_the_fsd_cluster(linked):
    catalogue, report = linked
    copy = "taloudellinen-tietamys-suomessa-2014-financial-awareness-of-finnish-people"
    assert catalogue.get(copy).title == FSD_RETITLED
    members = catalogue.cluster(copy)
    assert [m for m, _, _ in members] == [FINNISH, copy]
    assert members[1][1:] == (1.0, f"shares identifier fsd:fsd3271 (with {FINNISH})")
    assert catalogue.resolve("fsd:fsd3271") == FINNISH  # an alias both hold resolves to the canonical
    view = cluster_view(catalogue, copy)
    assert view.canonical == FINNISH
    assert [s.record_id for s in view.sources] == [FINNISH, copy]
    assert view.sources[0].location.endswith(FSD)
    fields = {f.field: f for f in view.fields}
    assert fields["title"].sources == [0] and fields["title"].differing == [1]
    same = [r for r in catalogue.relations(copy) if r.predicate is Predicate.SAME_AS]
    assert [(r.subject, r.object) for r in same] == [(copy, FINNISH)]
    assert report.clusters == 1
