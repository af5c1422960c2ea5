"""The catalogue the OAI-PMH tests harvest, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oai.site import build


@pytest.fixture(scope="session")
def oai_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("oai") / "data")
