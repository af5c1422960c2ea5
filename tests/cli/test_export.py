"""`discovery export` writes the selected records to a file or standard output, and says what
was wrong with bad options in one line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from tests.oai.site import build


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("export") / "data")


def test_export_to_standard_output_and_to_a_file(data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["export", "--kind", "study", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 4
    target = tmp_path / "studies.zip"
    result = runner.invoke(app, ["export", "--format", "ddi", "--output", str(target), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert len(zipfile.ZipFile(target).namelist()) == 20


@pytest.mark.parametrize("arguments", [["--format", "csv"], ["--kind", "people"],
                                       ["--format", "ddi", "--kind", "question", "-o", "x.zip"],
                                       ["--since", "last week", "-o", "x.jsonl"]])
def test_bad_options_fail_with_a_reason_and_write_nothing(
        data: Path, arguments: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `-o x.zip` is relative: never beside the repository
    result = CliRunner().invoke(app, ["export", *arguments, "--data", str(data)])
    assert result.exit_code == 2
    assert "hint" in result.output
    assert not list(tmp_path.iterdir())
