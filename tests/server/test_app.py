"""The site and API over a PostgreSQL catalogue (`create_app(URL)`), served by uvicorn on
127.0.0.1 from a real database: pages, lists, stats, OAI-PMH and dumps read the database, the
page cache follows every committed write at once, what the server derives is kept in its cache
folder, and search, before `discovery index` has built it there, is reported unavailable while
pages work."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.ingest import ingest
from discovery.errors import DiscoveryError
from discovery.harvest.files import documents, expand
from discovery.server.app import create_app
from tests.server.site import serve

PILOT = ("survey_name,year,item_name,item_text\n"
         "Sleep Pilot,2020,S1,How often do you wake up too early and cannot sleep again?\n"
         "Sleep Pilot,2020,S2,Do you feel tired and drowsy during the day?\n")
STUDY = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"


def ingested(url: str, *paths: Path) -> None:
    with open_catalogue(url) as catalogue:
        report = ingest(catalogue, documents(expand([str(p) for p in paths])))
        assert report.ok, report.failures


@pytest.fixture
def site(database: str, corpus: Path, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(the database URL, the site's URL, the pilot survey's file) over a catalogue of one DDI
    study and the pilot."""
    pilot = tmp_path / "pilot.csv"
    pilot.write_text(PILOT, encoding="utf-8")
    ingested(database, corpus / STUDY, pilot)
    yield database, serve(database, cache_dir=tmp_path / "cache"), pilot


def ids_of(url: str, kind: str) -> list[str]:
    with open_catalogue(url) as catalogue:
        return [rid for rid, *_ in catalogue.list_records(kind=kind)]


def test_pages_lists_stats_oai_and_dumps_read_the_database(site, tmp_path):
    database, url, _ = site
    with open_catalogue(database) as catalogue:
        counts = catalogue.counts_by_kind()
        study, title = next((rid, title) for rid, _, title, location in catalogue.list_records(kind="study")
                            if location.endswith(".xml"))
        variables = [v.id for v in catalogue.variables_of(study)]
    stats = httpx.get(f"{url}/api/stats").json()
    assert stats["kinds"] == counts and stats["totals"]["records"] == sum(counts.values())
    assert httpx.get(f"{url}/api/items/{study}").json()["record"]["id"] == study
    listed = httpx.get(f"{url}/api/items/{study}/variables", params={"size": 200}).json()
    assert listed["total"] == len(variables) > 0
    assert {v["id"] for v in listed["variables"]} <= set(variables)
    page = httpx.get(f"{url}/items/{study}")
    assert page.status_code == 200 and html.escape(title, quote=False) in page.text
    oai = httpx.get(f"{url}/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert f":{study}</identifier>" in oai.text
    assert (tmp_path / "cache" / "oai.sqlite").is_file()  # the ledger lives in the cache folder
    dumped = [json.loads(line) for line in httpx.get(f"{url}/api/dump").text.splitlines()]
    assert len(dumped) == sum(counts.values()) and study in {r["id"] for r in dumped}


def test_search_is_unavailable_while_pages_keep_working(site):
    _, url, _ = site
    answer = httpx.get(f"{url}/api/search", params={"q": "sleep"})
    assert answer.status_code == 503
    assert answer.json()["error"]["message"].startswith("search is unavailable: no search index "
                                                        "in this database yet")
    assert httpx.get(f"{url}/explore").status_code == 200


def test_the_page_cache_shows_a_write_from_another_process_at_once(site):
    database, url, pilot = site
    variable = next(rid for rid in ids_of(database, "variable") if rid.endswith("s2"))
    first = httpx.get(f"{url}/api/variables/{variable}").json()
    assert first == httpx.get(f"{url}/api/variables/{variable}").json()  # cached, unchanged
    pilot.write_text(PILOT.replace("tired and drowsy", "sleepy"), encoding="utf-8")
    ingested(database, pilot)
    after = httpx.get(f"{url}/api/variables/{variable}").json()
    assert "sleepy" in json.dumps(after) and "drowsy" not in json.dumps(after)


def test_a_database_of_an_older_schema_is_refused_in_one_line(database):
    import psycopg
    with psycopg.connect(database, autocommit=True) as db:
        db.execute("UPDATE discovery_schema SET version = version - 1")
    with pytest.raises(DiscoveryError) as caught:
        create_app(database)
    line = caught.value.one_line()
    assert "older than this Discovery's" in line and "discovery migrate" in line


def test_a_server_that_restarts_costs_one_request_not_the_site(site, postgres):
    """Every handler thread's connection dies with the server; each is opened again on its next
    request instead of failing from then on."""
    _, url, _ = site
    assert httpx.get(f"{url}/api/stats").status_code == 200
    postgres.restart()
    answers = [httpx.get(f"{url}/api/variables/{rid}").status_code
               for rid in ids_of(site[0], "variable")[:12]]
    assert answers[-8:] == [200] * 8, answers
    assert set(answers) <= {200, 500, 503}, answers


def test_harmonise_builds_its_bank_from_the_database_and_caches_vectors_in_the_cache_folder(site, tmp_path):
    _, url, _ = site
    request = {"instruments": [{"name": "A", "items": ["I feel at ease", "I own a car"]},
                               {"name": "B", "items": ["I feel nervous"]}], "threshold": -0.2}
    deadline = time.monotonic() + 120
    while (answer := httpx.post(f"{url}/api/harmonise", json=request, timeout=60)).status_code == 503:
        assert time.monotonic() < deadline, answer.text  # the models are still loading
    assert answer.status_code == 200, answer.text
    pairs = {(m["text_1"], m["text_2"]) for m in answer.json()["matches"]}
    assert ("I feel at ease", "I feel nervous") in pairs
    assert (tmp_path / "cache" / "embeddings.sqlite").is_file()
