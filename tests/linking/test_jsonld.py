"""Item JSON-LD carries funder, funding, sameAs and parts from the graph."""

from __future__ import annotations

from discovery.catalogue.store import Catalogue
from discovery.linking import link_catalogue
from discovery.linking.jsonld import item_jsonld
from discovery.model import Identifier, ParseResult, Provenance, Study, content_hash
from tests.linking.conftest import GOVERNING, RELATIONS

ESRC = {"@type": "Organization", "name": "Economic and Social Research Council"}


def test_a_dataset_carries_its_grant_and_funder(linked):
    catalogue, _ = linked
    data = item_jsonld(catalogue, RELATIONS)
    assert data["@type"] == "Dataset" and data["name"] == "The Relations Study Data, 2021-2022"
    assert ESRC in data["funder"]
    [grant] = data["funding"]
    assert grant["@type"] == "Grant"
    assert grant["name"] == "Governing parental opioid use: a relational ethnography"
    assert grant["funder"] == [ESRC]


def test_a_grant_lists_the_data_it_funded(linked):
    catalogue, _ = linked
    data = item_jsonld(catalogue, GOVERNING)
    assert "Grant" in data["@type"]
    assert [item["identifier"] for item in data["fundedItem"]] == [RELATIONS]


def test_cluster_members_become_same_as(tmp_path):
    with Catalogue(tmp_path / "data") as catalogue:
        for rid, doi, url in (("childcare-2009", "10.5255/UKDA-SN-6684-1", "https://a.example/6684"),
                              ("childcare-survey-2009", "10.5255/UKDA-SN-6684-2", "https://b.example/6684")):
            record = Study(id=rid, title=rid, url=url, provenance=Provenance(
                source="test", location=rid, content_hash=content_hash(rid)),
                identifiers=[Identifier(scheme="doi", value=doi)])
            catalogue.apply(rid, rid.encode(), "2026-01-01T00:00:00+00:00", ParseResult(records=[record]))
        link_catalogue(catalogue)
        data = item_jsonld(catalogue, "childcare-2009")
        assert data["sameAs"] == ["https://b.example/6684", "https://doi.org/10.5255/ukda-sn-6684-2"]


def test_parts_and_wholes(linked):
    catalogue, _ = linked
    whole = item_jsonld(catalogue, "1970-british-cohort-study-age-16-sweep-4-1986")
    assert {p["identifier"] for p in whole["hasPart"]} >= {"3535-bcs4derived", "3535-bcs7016x"}
    part = item_jsonld(catalogue, "3535-bcs4derived")
    assert [w["identifier"] for w in part["isPartOf"]] == ["1970-british-cohort-study-age-16-sweep-4-1986"]
