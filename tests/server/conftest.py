"""The crawl site: a small catalogue with a record of every kind a page shows (`site.CRAWL`),
indexed and served once per session for the link crawler, the questionnaire pages and the layout
and accessibility checks; and one Chromium per browser test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.server.site import Site, site
from tests.server.browsing import chromium


@pytest.fixture(scope="session")
def crawl_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("crawl", tmp_path_factory.getbasetemp() / "web-sites", corpus)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module."""
    with chromium() as launched:
        yield launched
