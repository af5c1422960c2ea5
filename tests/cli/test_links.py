"""`discovery link` and `discovery links ID [--json]` end to end on the seeds and GESIS files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from tests.linking.conftest import ALLBUS_25, ALLBUS_32, GOVERNING, RELATIONS, SEED_DATASET, SEED_GRANT

runner = CliRunner()
FILES = [SEED_DATASET, SEED_GRANT, ALLBUS_25, ALLBUS_32]


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def data(tmp_path_factory, corpus) -> Path:
    folder = tmp_path_factory.mktemp("links")
    assert invoke("ingest", *[str(corpus / f) for f in FILES], "--data", str(folder)).exit_code == 0
    result = invoke("link", "--data", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 from text" in result.output
    return folder


def test_links_json_shows_the_seed_link_from_both_sides(data):
    result = invoke("links", "10.5255/UKDA-SN-857133", "--json", "--data", str(data))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["id"] == RELATIONS
    [edge] = [e for e in shown["edges"] if e["predicate"] == "fundedBy"]
    assert (edge["direction"], edge["id"], edge["title"]) == \
        ("out", GOVERNING, "Governing parental opioid use: a relational ethnography")
    assert edge["confidence"] < 0.9 and "Relations Study" in edge["evidence"]
    back = json.loads(invoke("links", GOVERNING, "--json", "--data", str(data)).stdout)
    [funds] = [e for e in back["edges"] if e["predicate"] == "fundedBy"]
    assert (funds["direction"], funds["label"], funds["id"]) == ("in", "funds", RELATIONS)


def test_links_text_shows_evidence_and_the_cluster_field_by_field(data):
    result = invoke("links", RELATIONS, "--data", str(data))
    assert result.exit_code == 0
    assert "fundedBy" in result.output and "Governing parental opioid use" in result.output
    assert "passage" in result.output and "Relations Study" in result.output
    allbus = invoke("links", "ZA2800", "--data", str(data))
    assert "Cluster of 1 record(s) from 2 source(s)" in allbus.output
    assert "ddi25_gesis_ZA2800_allbus_1996.xml" in allbus.output
    assert "ddi32_gesis_ZA2800_allbus_1996.xml" in allbus.output
    assert "sample_size" in allbus.output


def test_links_of_an_unknown_record_fail_in_one_line(data):
    result = invoke("links", "no-such-record", "--data", str(data))
    assert result.exit_code == 1
    assert "no record with id or alias 'no-such-record'" in result.output


def test_link_twice_adds_nothing(data):
    before = json.loads(invoke("links", GOVERNING, "--json", "--data", str(data)).stdout)
    assert invoke("link", "--data", str(data)).exit_code == 0
    after = json.loads(invoke("links", GOVERNING, "--json", "--data", str(data)).stdout)
    assert after == before
