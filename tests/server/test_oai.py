"""/oai as others use it: an independent client library (Sickle, from PyPI) harvests every record
and set, and Discovery harvests its own endpoint into a fresh catalogue and gets the same studies,
datasets and variables back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sickle import Sickle
from sickle.oaiexceptions import IdDoesNotExist

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.export.xml_text import xml_safe
from discovery.harvest.oai import harvest_oai, split_records
from discovery.oai.ledger import ITEM_KINDS
from discovery.sources.base import strip_markup
from tests.server.site import serve
from tests.harvest.oai_server import LOCAL
from tests.oai.site import build


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = build(tmp_path_factory.mktemp("oai-source") / "data")
    return data, serve(data) + "/oai"


def items(data: Path) -> dict[str, tuple[str, dict]]:
    with Catalogue(data) as catalogue:
        return {rid: (kind, json.loads(text)) for rid, kind, text in catalogue.db.execute(
            f"SELECT id, kind, data FROM records WHERE kind IN {ITEM_KINDS}")}


def test_sickle_harvests_every_record_and_set(source: tuple[Path, str]) -> None:
    data, url = source
    client = Sickle(url, max_retries=1, timeout=60)
    assert client.Identify().repositoryName == "Discovery"
    records = list(client.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    expected = items(data)
    assert sorted(r.header.identifier for r in records) == sorted(f"oai:discovery:{i}" for i in expected)
    by_id = {r.header.identifier.removeprefix("oai:discovery:"): r for r in records}
    for rid, (_, record) in expected.items():
        assert record["title"] in by_id[rid].metadata["title"]
    specs = {s.setSpec for s in client.ListSets()}
    assert {"kind:study", "kind:dataset"} <= specs
    studies = list(client.ListIdentifiers(metadataPrefix="oai_ddi25", set="kind:study"))
    assert len(studies) == sum(kind == "study" for kind, _ in expected.values())
    one = client.GetRecord(identifier=studies[0].identifier, metadataPrefix="oai_ddi25")
    assert "codeBook" in one.raw
    with pytest.raises(IdDoesNotExist):
        client.GetRecord(identifier="oai:discovery:nothing-here", metadataPrefix="oai_dc")


def harvest(url: str, prefix: str, into: Path) -> Catalogue:
    catalogue = Catalogue(into)
    pages = harvest_oai(url, metadata_prefix=prefix, allow=LOCAL)
    report = ingest(catalogue, (doc for page in pages for doc in split_records(page, url, prefix)))
    assert report.ok, report.failures
    return catalogue


def by_origin(catalogue: Catalogue) -> dict[str, str]:
    """Harvested record id -> the id it has at the source, from its OAI identifier."""
    return {value.removeprefix("oai:discovery:"): rid for rid, value in catalogue.db.execute(
        "SELECT record_id, value FROM aliases WHERE alias LIKE 'oai:%'")}


def variables(catalogue: Catalogue, study: str) -> list[tuple]:
    rows = catalogue.db.execute("SELECT data FROM records WHERE parent=? AND kind='variable' "
                                "ORDER BY rowid", (study,))
    found = []
    for (text,) in rows:
        v = json.loads(text)
        found.append((v["name"], v["title"], [t["value"] for t in v.get("question_texts", [])],
                      [(c.get("value"), c["label"], c.get("missing", False), c.get("frequency"))
                       for c in v.get("categories", [])]))
    return found


def expected_back(record: dict) -> dict:
    """What DDI can carry of a record, as `sources/ddi.py` reads it: prose without markup,
    publication dates as days, licences as Creative Commons links or sentences (a link to other
    terms is not read as a licence there)."""
    record = dict(record)
    if record.get("description"):
        record["description"] = strip_markup(record["description"])
    if record.get("date_published"):
        record["date_published"] = record["date_published"][:10]
    licence = record.get("license") or ""
    if "creativecommons.org" not in licence and not 3 <= len(licence.split()) <= 60:
        record.pop("license", None)
    return record


def test_discovery_harvests_its_own_endpoint(source: tuple[Path, str], tmp_path: Path) -> None:
    data, url = source
    original = items(data)
    with Catalogue(data) as catalogue, harvest(url, "oai_ddi25", tmp_path / "ddi") as copy:
        origin = by_origin(copy)
        assert sorted(origin) == sorted(original)
        harvested = items(tmp_path / "ddi")
        for rid, (_, record) in original.items():
            again, record = harvested[origin[rid]][1], expected_back(record)
            for field in ("title", "description", "temporal_coverage", "sample_size", "license",
                          "keywords", "topics", "spatial_coverage", "grant_numbers", "url",
                          "date_published", "version", "resource_type"):
                assert again.get(field) == record.get(field), (rid, field)
            assert [a["name"] for a in again.get("creators", [])] == \
                [a["name"] for a in record.get("creators", [])], rid
            dois = {i["value"].lower() for i in record.get("identifiers", []) if i["scheme"] == "doi"}
            assert dois <= {i["value"].lower() for i in again.get("identifiers", [])}, rid
            # a control character (the hostile record's U+0001) cannot be written in XML
            assert variables(copy, origin[rid]) == [
                (xml_safe(name), xml_safe(title), *rest)
                for name, title, *rest in variables(catalogue, rid)], rid
    # DDI Codebook does not tell studies from datasets; Dublin Core's dc:type does
    with harvest(url, "oai_dc", tmp_path / "dc") as dc:
        origin = by_origin(dc)
        kinds = {rid: kind for rid, (kind, _) in items(tmp_path / "dc").items()}
        assert {rid: kinds[origin[rid]] for rid in original} == \
            {rid: kind for rid, (kind, _) in original.items()}
