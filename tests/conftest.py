"""Shared fixtures: the real corpus beside the repository, and catalogues, indexes and sites built
from it once per session (here, so that every test folder shares one copy of each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.search.service import SearchService
from discovery.sources.base import Document
from tests.server.site import Site, site
from tests.search.built_index import shared_index

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}; clone ../shared beside the repo")
    return CORPUS


def load(path: Path) -> Document:
    """A Document for a corpus file, as the file harvester would make it."""
    return Document(location=str(path), content=path.read_bytes())


@pytest.fixture(scope="session")
def index_data(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    return shared_index(tmp_path_factory, corpus)


@pytest.fixture(scope="session")
def service(index_data: Path) -> SearchService:
    return SearchService(index_data)


@pytest.fixture(scope="session")
def search_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("search", tmp_path_factory.getbasetemp() / "web-sites", corpus)


@pytest.fixture(scope="session")
def full_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Site:
    return site("full", tmp_path_factory.getbasetemp() / "web-sites", corpus)
