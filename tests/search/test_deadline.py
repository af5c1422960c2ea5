"""A search past its time limit stops with a 503 that says to retry; facets past theirs are named
as not counted while the hits are still shown."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import httpx

from discovery.index.columns import FACETS
from discovery.search.deadline import Deadline, SearchTimeout
from discovery.search.models import SearchRequest
from discovery.search.service import SearchService
from tests.server.site import serve


def test_a_deadline_passes_after_its_seconds_and_names_the_stage() -> None:
    deadline = Deadline(0.05)
    assert not deadline.passed()
    deadline.check("finding candidates")
    time.sleep(0.06)
    assert deadline.passed()
    with pytest.raises(SearchTimeout, match="0.05 s limit while ordering"):
        deadline.check("ordering the results")


def test_facets_out_of_time_are_named_and_the_hits_still_come(index_data: Path) -> None:
    service = SearchService(index_data, facet_seconds=0)
    try:
        results = service.search(SearchRequest(q="election"))
    finally:
        service.close()
    assert results.hits and results.total
    assert results.facets == {}
    assert results.facets_uncounted == ["kind", *FACETS]


def test_facets_in_time_are_all_counted(service: SearchService) -> None:
    results = service.search(SearchRequest(q="election"))
    assert results.facets_uncounted == []
    assert set(results.facets) == {"kind", *FACETS}


def test_a_search_out_of_time_is_a_503_to_retry_not_a_500(index_data: Path) -> None:
    base = serve(index_data, search_seconds=0)
    answer = httpx.get(f"{base}/api/search", params={"q": "election"})
    page = httpx.get(f"{base}/", params={"q": "election"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "limit" in answer.json()["error"]["message"]
    assert page.status_code == 503 and "try again" in page.text


def test_the_search_page_says_which_facets_were_not_counted(index_data: Path) -> None:
    base = serve(index_data, facet_seconds=0)
    page = httpx.get(f"{base}/", params={"q": "election"})
    facets = httpx.get(f"{base}/api/facets", params={"q": "election"})
    assert page.status_code == 200 and "Not counted in time: Kind, Source format" in page.text
    assert facets.json()["facets_uncounted"] == ["kind", *FACETS]
