"""`discovery index`, `search` and `eval` end to end on the shared small index."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from tests.search.built_index import private_copy, shared_index

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory, corpus):
    return shared_index(tmp_path_factory, corpus)


def test_search_prints_hits_with_why_and_indented_matching_variables(data):
    result = invoke("search", "nervous anxious on edge", "--data", str(data), "--limit", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "1. " in out and "advance" in out and "gad-7-english" in out
    assert "     • Q12: Feeling nervous, anxious or on edge?" in out
    assert "Words 'nervous', 'anxious', 'edge'" in out
    assert "next page" not in out  # these two are all that fit
    first = invoke("search", "nervous anxious on edge", "--data", str(data), "--limit", "1")
    assert "next page: --cursor" in first.stdout


def test_search_json_follows_the_contract_and_filters_apply(data):
    result = invoke("search", "money", "--filter", "country:Finland", "--range", "year:2010:2020",
                    "--json", "--data", str(data))
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [hit["id"] for hit in payload["hits"]] == ["financial-awareness-of-finnish-people-2014"]
    assert payload["request"]["filters"] == {"country": ["Finland"]}
    assert payload["facets"]["country"] == [{"value": "Finland", "count": 1}]
    assert payload["model"] == "minilm-l6-int8"


def test_the_older_filter_spelling_reads_the_same(data):
    """`--filter country=Finland` (before the API's `country:Finland` was the one syntax) goes
    through the same parser and asks for the same search."""
    old = invoke("search", "money", "--filter", "country=Finland", "--range", "year=2010:2020",
                 "--json", "--data", str(data))
    new = invoke("search", "money", "--filter", "country:Finland", "--range", "year:2010:2020",
                 "--json", "--data", str(data))
    assert old.exit_code == new.exit_code == 0, old.output
    assert json.loads(old.stdout)["request"] == json.loads(new.stdout)["request"]


@pytest.mark.parametrize("args, message", [
    (["--filter", "country"], "must look like facet:value"),
    (["--range", "year:2000"], "must look like name:min:max"),
    (["--filter", "planet:Mars"], "unknown facet 'planet'"),
    (["--sort", "alphabet"], "invalid search parameters: sort"),
    (["--limit", "1000"], "invalid search parameters: size"),
])
def test_bad_options_fail_in_one_line(data, args, message):
    result = invoke("search", "x", *args, "--data", str(data))
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_search_without_an_index_says_how_to_build_one(tmp_path):
    result = invoke("search", "x", "--data", str(tmp_path))
    assert result.exit_code == 2 and "run `discovery index` first" in result.stderr


def test_eval_prints_the_three_modes_side_by_side(data, tmp_path):
    judgments = tmp_path / "judgments.tsv"
    judgments.write_text("query\tid\tgrade\n"
                         "nervous anxious on edge\tgad-7-english\t2\n"
                         "nervous anxious on edge\tadvance\t2\n"
                         "parental drug use child protection\trelations-study-data-2021-2022\t2\n",
                         encoding="utf-8")
    result = invoke("eval", str(judgments), "--data", str(data))
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "metric" in line)
    assert header.index("hybrid") < header.index("lexical") < header.index("semantic")
    ndcg = next(line for line in result.stdout.splitlines() if "nDCG@10" in line)
    assert ndcg.count("1.000") >= 1 and "2 queries" in result.stdout


def test_ingest_updates_an_existing_index(data, tmp_path, corpus):
    copy = private_copy(data, tmp_path / "data")
    result = invoke("ingest", str(corpus / "ddi/ddi25_ukds_SN2000_family_life_work_before_1918.xml"),
                    "--data", str(copy))
    assert result.exit_code == 0, result.output
    assert "Index updated with minilm-l6-int8: 1 records indexed" in " ".join(result.stdout.split())
    found = invoke("search", "oral history working class family life", "--json", "--limit", "1",
                   "--data", str(copy))
    first = json.loads(found.stdout)["hits"][0]["id"]
    assert first == "family-life-and-work-experience-before-1918-1870-1973"


def test_index_rebuild_reports_what_it_did(data, tmp_path):
    copy = private_copy(data, tmp_path / "data")
    result = invoke("index", "--rebuild", "--data", str(copy))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Index built from scratch with minilm-l6-int8" in text and "0 texts encoded" in text
