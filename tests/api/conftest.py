from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.site import Site, site


@pytest.fixture(scope="session")
def search_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("search", tmp_path_factory.getbasetemp() / "web-sites", corpus)


@pytest.fixture(scope="session")
def full_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("full", tmp_path_factory.getbasetemp() / "web-sites", corpus)
