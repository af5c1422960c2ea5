"""The API keeps the contract its OpenAPI document states, as a third-party tester reads it:
schemathesis, a short run with a fixed seed against a real server on 127.0.0.1 (`contract.py`
says which checks run). The long run is bench/contract.py."""

from __future__ import annotations

from pathlib import Path

import httpx

from discovery.server.limits import Rate
from tests.server.contract import Ids, run_contract
from tests.server.site import Site, serve

IDS = Ids(item="financial-awareness-of-finnish-people-2014",
          project="governing-parental-opioid-use-a-relational-ethnography",
          variable="financial-awareness-of-finnish-people-2014.q1")
# Its own server, so the run's expensive requests spend their own rate limits; smaller ones than a
# public server's keep it short (a 429 is a documented answer, checked like any other).
RATES = {"harmonise": Rate(burst=60, per_minute=60), "measured": Rate(burst=2, per_minute=2)}


def test_openapi_document_is_valid_and_the_api_keeps_it(search_site: Site, tmp_path: Path) -> None:
    url = serve(search_site.data, rates=RATES)
    httpx.get(url + "/harmonise", timeout=30)  # start loading the matcher before the run
    run = run_contract(url, tmp_path, IDS, max_examples=5, seed=20261130, timeout=300)
    assert run.errors == [], run.output[-6000:]
    assert run.unique_failures == 0 and run.failures == [], run.output[-6000:]
    assert run.generated >= 300, run.output[-2000:]
