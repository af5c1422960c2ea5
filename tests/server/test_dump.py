"""/api/dump streams the whole catalogue or a selection as a download; bad selections are 400s."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from discovery.catalogue.store import Catalogue
from tests.server.site import serve
from tests.oai.site import build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = build(tmp_path_factory.mktemp("api-dump") / "data")
    return data, serve(data)


def test_the_whole_catalogue_as_a_streamed_download(site: tuple[Path, str]) -> None:
    data, url = site
    with httpx.stream("GET", f"{url}/api/dump", timeout=60) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # streamed, not built first
        assert response.headers["content-disposition"] == 'attachment; filename="discovery-dump.jsonl"'
        ids = [json.loads(line)["id"] for line in response.iter_lines() if line]
    with Catalogue(data) as catalogue:
        assert sorted(ids) == sorted(r for (r,) in catalogue.db.execute("SELECT id FROM records"))


@pytest.mark.parametrize(("query", "status"), [("format=parquet&kind=variable", 200),
                                               ("format=ddi", 200), ("format=ddi&kind=question", 400),
                                               ("format=csv", 400), ("kind=people", 400),
                                               ("since=last-week", 422)])
def test_formats_and_refusals(site: tuple[Path, str], query: str, status: int) -> None:
    response = httpx.get(f"{site[1]}/api/dump?{query}", timeout=60)
    assert response.status_code == status
    if status == 400:
        assert response.json()["error"]["hint"]
