"""Every catalogue test runs on both backends: a SQLite catalogue in a temporary folder, and a
database of its own on the session's PostgreSQL server (`database`, in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.protocol import CatalogueStore


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a catalogue lives, on each backend in turn: a folder, or a database URL."""
    if request.param == "postgres":
        return str(request.getfixturevalue("database"))
    return str(tmp_path / "data")


@pytest.fixture
def catalogue(target: str) -> Iterator[CatalogueStore]:
    with open_catalogue(target) as opened:
        yield opened
