"""Shared fixtures: the real corpus beside the repository, and a fresh catalogue directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.sources.base import Document

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}; clone ../shared beside the repo")
    return CORPUS


def load(path: Path) -> Document:
    """A Document for a corpus file, as the file harvester would make it."""
    return Document(location=str(path), content=path.read_bytes())
