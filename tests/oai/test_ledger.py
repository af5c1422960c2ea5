"""The ledger under change: deletions kept for good, datestamps never before a response that
missed them, and a harvest that pages through while records are created, changed and deleted
still sees every record, so that harvest plus one incremental harvest ends with the catalogue's
state."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from lxml import etree

from discovery.catalogue.store import Catalogue
from discovery.model import Kind, ParseResult, Provenance, Study, utcnow
from discovery.oai import provider
from discovery.oai.ledger import ITEM_KINDS, Ledger, Window
from tests.server.site import serve
from tests.oai.site import copy

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def put(catalogue: Catalogue, name: str, description: str = "First version.") -> str:
    """Create or change the dataset that the document `name` describes; its id."""
    location = f"test://{name}"
    study = Study(id=name, kind=Kind.DATASET, title=f"Dataset {name}", description=description,
                  provenance=Provenance(source="test", location=location, content_hash="0"))
    catalogue.apply(location, description.encode(), utcnow().isoformat(), ParseResult(records=[study]))
    return name


def drop(catalogue: Catalogue, name: str) -> None:
    """The document `name` no longer describes anything: its dataset is deleted."""
    catalogue.apply(f"test://{name}", b"", utcnow().isoformat(), ParseResult())


@pytest.fixture
def data(oai_data: Path, tmp_path: Path) -> Path:
    return copy(oai_data, tmp_path / "data")


def headers(root: etree._Element) -> list[tuple[str, bool]]:
    return [(h.findtext(f"{OAI}identifier"), h.get("status") == "deleted")
            for h in root.iter(f"{OAI}header")]


def get(url: str, **arguments: str) -> etree._Element:
    return etree.fromstring(httpx.get(url, params=arguments, timeout=60).content)


def test_deletions_are_kept_with_their_sets(data: Path) -> None:
    url = serve(data) + "/oai"
    with Catalogue(data) as catalogue:
        put(catalogue, "to-go")
        assert ("oai:discovery:to-go", False) in headers(get(url, verb="ListIdentifiers",
                                                             metadataPrefix="oai_dc"))
        drop(catalogue, "to-go")
        put(catalogue, "after-it")  # later changes do not wash the deletion out
    for arguments in ({}, {"set": "kind:dataset"}, {"set": "kind"}):
        listed = headers(get(url, verb="ListIdentifiers", metadataPrefix="oai_dc", **arguments))
        assert ("oai:discovery:to-go", True) in listed
    record = get(url, verb="GetRecord", metadataPrefix="oai_ddi25", identifier="oai:discovery:to-go")
    header = record.find(f".//{OAI}header")
    assert header.get("status") == "deleted"
    assert [s.text for s in header.iter(f"{OAI}setSpec")] == ["kind:dataset"]
    assert record.find(f".//{OAI}metadata") is None


def test_a_change_committed_late_is_dated_no_earlier_than_the_catch_up_that_missed_it(data: Path) -> None:
    with Catalogue(data) as catalogue:
        ledger = Ledger(catalogue, catalogue.data_dir)
        missed_by = ledger.refresh()
        rid = put(catalogue, "late")
        # the ingest took its time before it committed: its history says it changed an hour ago
        catalogue.db.execute("UPDATE history SET at='2000-01-01T00:00:00+00:00' WHERE record_id=?", (rid,))
        ledger.refresh()
        item = ledger.item(rid)
        assert item is not None and item.datestamp >= missed_by
        assert rid in [i.id for i in ledger.page(Window(from_=missed_by), 0, 10_000)]


def test_a_variable_changing_moves_its_study(data: Path) -> None:
    with Catalogue(data) as catalogue:
        ledger = Ledger(catalogue, catalogue.data_dir)
        ledger.refresh()
        study = next(i for i in ledger.page(Window(set_spec="kind:study"), 0, 100)
                     if catalogue.db.execute("SELECT 1 FROM records WHERE parent=?", (i.id,)).fetchone())
        variable = catalogue.db.execute("SELECT id FROM records WHERE parent=? LIMIT 1",
                                        (study.id,)).fetchone()[0]
        catalogue.db.execute("INSERT INTO history (record_id, at, action) VALUES (?,?,?)",
                             (variable, utcnow().isoformat(), "updated"))
        ledger.refresh()
        moved = ledger.item(study.id)
        assert moved is not None and moved.position > study.position and not moved.deleted


def test_harvesting_during_ingest_misses_nothing(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of three while another connection creates, changes and deletes datasets: every
    record there at the start is listed, and the harvest plus one `from` harvest leaves the
    harvester holding exactly the catalogue's records."""
    monkeypatch.setitem(provider.PAGE_SIZES, "ListIdentifiers", 3)
    url = serve(data) + "/oai"
    with Catalogue(data) as catalogue:
        before = {rid for (rid,) in catalogue.db.execute(
            f"SELECT id FROM records WHERE kind IN {ITEM_KINDS}")}
        for n in range(10):
            put(catalogue, f"early-{n}")
        before |= {f"early-{n}" for n in range(10)}
    stop = threading.Event()

    def ingest() -> None:
        with Catalogue(data) as writer:
            n = 0
            while not stop.is_set() and n < 400:
                put(writer, f"new-{n}")
                put(writer, f"early-{n % 10}", f"Version {n}.")  # items not yet listed move on
                if n % 3 == 0:
                    drop(writer, f"new-{n // 3}")
                n += 1
                time.sleep(0.005)

    writer = threading.Thread(target=ingest)
    writer.start()
    held: dict[str, bool] = {}  # identifier -> live, as a harvester applying the lists holds them
    try:
        root = get(url, verb="ListIdentifiers", metadataPrefix="oai_dc")
        started = root.findtext(f"{OAI}responseDate")
        first = []
        while True:
            first += headers(root)
            token = root.find(f".//{OAI}resumptionToken")
            if token is None or not token.text:
                break
            root = get(url, verb="ListIdentifiers", resumptionToken=token.text)
    finally:
        stop.set()
        writer.join()
    assert {i.removeprefix("oai:discovery:") for i, _ in first} >= before
    for identifier, deleted in first:
        held[identifier] = not deleted
    root = get(url, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": started})
    while True:
        for identifier, deleted in headers(root):
            held[identifier] = not deleted
        token = root.find(f".//{OAI}resumptionToken")
        if token is None or not token.text:
            break
        root = get(url, verb="ListIdentifiers", resumptionToken=token.text)
    with Catalogue(data) as catalogue:
        now = {f"oai:discovery:{rid}" for (rid,) in catalogue.db.execute(
            f"SELECT id FROM records WHERE kind IN {ITEM_KINDS}")}
    assert {i for i, live in held.items() if live} == now
