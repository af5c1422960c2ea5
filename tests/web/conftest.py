"""The crawl site: a small catalogue with a record of every kind a page shows (`site.CRAWL`),
indexed and served once per session for the link crawler and the questionnaire pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.site import Site, site


@pytest.fixture(scope="session")
def crawl_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("crawl", tmp_path_factory.getbasetemp() / "web-sites", corpus)
