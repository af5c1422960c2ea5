"""Every file the package reads at run time goes into its wheel: setuptools packs only .py files
unless `[tool.setuptools.package-data]` names the rest, and an installed (not editable) copy
without its templates or model weights fails on its first page or match."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "discovery"


def test_every_data_file_of_the_package_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["discovery"]
    listed = {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file()}
    data = {path for path in PACKAGE.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")
            and "__pycache__" not in path.parts}
    assert data, "the package has no data files: the templates moved?"
    assert sorted(map(str, data - listed)) == []
