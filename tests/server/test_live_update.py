"""A server keeps answering while `discovery ingest` updates its index from another process, and
answers from the new index once it is published. Before index generations, an update changed the
files under the open index: searches failed with 500 (KeyError) until the server restarted."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from discovery.server.app import create_app
from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents, expand
from discovery.index.build import update_index
from tests.server.site import free_port
from tests.search.built_index import private_copy

PILOT = ("survey_name,year,item_name,item_text\n"
         "Sleep Pilot,2020,S1,How often do you wake up too early and cannot sleep again?\n"
         "Sleep Pilot,2020,S2,Do you feel tired and drowsy during the day?\n"
         "Sleep Pilot,2020,S3,How many hours do you sleep on a weeknight?\n")
# the update drops S2 and rewords S3: rows die and the study's row is replaced
UPDATED = PILOT.replace("Sleep Pilot,2020,S2,Do you feel tired and drowsy during the day?\n", "") \
    .replace("How many hours", "For how many hours")
QUERIES = ["sleep", "tired drowsy", "wake up early", "anxious", "worry", "money", "election",
           "interest pleasure", "hours weeknight", "depressed hopeless"]
CLIENTS = 4


@pytest.fixture
def live(index_data: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A private copy of the small index with a pilot survey in it, served by uvicorn."""
    data = private_copy(index_data, tmp_path / "data")
    pilot = tmp_path / "pilot.csv"
    pilot.write_text(PILOT, encoding="utf-8")
    with Catalogue(data) as catalogue:
        assert ingest(catalogue, documents(expand([str(pilot)]))).ok
        update_index(catalogue, data)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(data), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        time.sleep(0.05)
    yield data, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_searches_never_fail_while_an_ingest_updates_the_index(live, tmp_path):
    data, url = live
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def client(number: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            sent = 0
            while not stop.is_set():
                # a new query each time, past the server's result cache
                query = f"{QUERIES[(number + sent) % len(QUERIES)]} {sent}"
                statuses[http.get("/api/search", params={"q": query, "size": 5}).status_code] += 1
                sent += 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(0.5)
        (tmp_path / "pilot.csv").write_text(UPDATED, encoding="utf-8")
        command = [str(Path(sys.executable).parent / "discovery"), "ingest",
                   str(tmp_path / "pilot.csv"), "--data", str(data)]
        update = subprocess.run(command, capture_output=True, text=True, timeout=120)
        time.sleep(1.0)  # searches on the new index
    finally:
        stop.set()
        for thread in clients:
            thread.join(30)
    assert update.returncode == 0, update.stderr
    assert "1 removed" in " ".join(update.stdout.split())
    assert set(statuses) == {200} and statuses[200] > 20, statuses
    hits = httpx.get(f"{url}/api/search", params={"q": "tired drowsy during the day", "group": "false",
                                                  "size": 50}).json()["hits"]
    assert "sleep-pilot.s2" not in [hit["id"] for hit in hits]
    study = httpx.get(f"{url}/api/search", params={"q": "hours sleep weeknight", "size": 1}).json()
    assert study["hits"][0]["id"] == "sleep-pilot" and study["hits"][0]["variable_count"] == 2
