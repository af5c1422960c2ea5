from __future__ import annotations

from pathlib import Path

import pytest

from discovery.search.service import SearchService
from tests.search.built_index import shared_index


@pytest.fixture(scope="session")
def index_data(tmp_path_factory, corpus) -> Path:
    return shared_index(tmp_path_factory, corpus)


@pytest.fixture(scope="session")
def service(index_data) -> SearchService:
    return SearchService(index_data)
