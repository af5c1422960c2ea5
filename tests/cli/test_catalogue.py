"""The `discovery` command end to end on the two seeds and a real DDI file, in a temp catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app

runner = CliRunner()
SEED_DATASET = "seeds/000_0feec249131aae36.txt"
SEED_GRANT = "seeds/002_c114f96cc0523e31.txt"
FSD = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def data(tmp_path_factory, corpus) -> Path:
    folder = tmp_path_factory.mktemp("catalogue")
    result = invoke("ingest", str(corpus / SEED_DATASET), str(corpus / SEED_GRANT),
                    str(corpus / FSD), "--data", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def show_json(data: Path, record_id: str) -> dict:
    result = invoke("show", record_id, "--format", "json", "--data", str(data))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_dataset_seed_is_one_dataset_with_its_page_fields(data):
    shown = show_json(data, "relations-study-data-2021-2022")
    record = shown["record"]
    assert record["kind"] == "dataset"
    assert record["title"] == "The Relations Study Data, 2021-2022"
    assert record["description"].startswith("These data were generated as part of a three-year")
    assert record["keywords"]
    assert record["temporal_coverage"] == "2021-04-01/2022-12-01"
    assert record["spatial_coverage"] == ["GB"]
    assert [c["name"] for c in record["data_catalogs"]] == ["UK Data Service"]
    assert "doi:10.5255/ukda-sn-857133" in shown["aliases"]
    urls = [link["url"] for link in record["links"]]
    assert "https://reshare.ukdataservice.ac.uk/857133" in urls
    assert len(urls) == len(set(urls))


def test_a_dataset_is_found_by_its_doi(data):
    assert show_json(data, "10.5255/UKDA-SN-857133")["record"]["id"] == \
        "relations-study-data-2021-2022"


def test_the_grant_seed_is_one_project_with_twenty_engagement_outputs(data):
    shown = show_json(data, "governing-parental-opioid-use-a-relational-ethnography")
    record = shown["record"]
    assert record["kind"] == "project"
    assert record["lead_organisation"] == "University of Stirling"
    assert record["department"] == "Health Sciences"
    assert record["abstract"].startswith("WHY DO WE NEED THIS STUDY?")
    assert record["planned_impact"]
    outputs = [r["object"] for r in shown["relations"] if r["predicate"] == "hasOutput"]
    assert len(outputs) == 20
    first = show_json(data, outputs[0])["record"]
    assert first["output_type"] == "engagement activity"
    assert {"description", "form", "primary_audience", "years"} <= set(first["fields"])


def test_show_text_lists_outputs_with_their_fields(data):
    result = invoke("show", "governing-parental-opioid-use-a-relational-ethnography",
                    "--data", str(data))
    assert result.exit_code == 0
    assert "University of Stirling" in result.stdout
    assert "hasOutput (20)" in result.stdout
    assert "primary_audience" in result.stdout


def test_show_jsonld_is_schema_org(data):
    result = invoke("show", "relations-study-data-2021-2022", "--format", "jsonld",
                    "--data", str(data))
    jsonld = json.loads(result.stdout)
    assert jsonld["@type"] == "Dataset" and jsonld["temporalCoverage"] == "2021-04-01/2022-12-01"


def test_ddi_variables_are_linked_to_their_study(data):
    listed = invoke("list", "--kind", "variable", "--format", "json", "--data", str(data))
    variables = json.loads(listed.stdout)
    assert variables and all(v["source"].endswith(FSD.split("/")[-1]) for v in variables)
    variable = show_json(data, variables[0]["id"])
    assert variable["record"]["study_id"]
    assert any(r["predicate"] == "hasVariable" for r in variable["relations"])


def test_list_filters_by_source_prefix_and_prints_tsv(data, corpus):
    result = invoke("list", "--source", str(corpus / "seeds"), "--data", str(data))
    lines = result.stdout.strip().split("\n")
    assert lines[0] == "id\tkind\ttitle\tsource"
    kinds = {line.split("\t")[1] for line in lines[1:]}
    assert kinds == {"dataset", "project", "output", "organisation"}


def test_stats_counts_by_kind_and_source(data):
    result = invoke("stats", "--data", str(data))
    assert result.exit_code == 0
    assert "Records by kind" in result.stdout and "output" in result.stdout
    assert "Records by source format" in result.stdout and "gtr" in result.stdout


def test_reingest_is_idempotent(data, corpus):
    result = invoke("ingest", str(corpus / SEED_GRANT), "--data", str(data))
    assert "Created 0, updated 0" in result.stdout


def test_unknown_id_fails_with_a_hint(data):
    result = runner.invoke(app, ["show", "no-such-thing", "--data", str(data)])
    assert result.exit_code == 1
    assert "no record with id or alias" in result.stderr


def test_failures_make_the_exit_code_nonzero(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<codeBook><stdyDscr>")
    result = runner.invoke(app, ["ingest", str(bad), "--data", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "bad.xml" in result.stderr and "malformed XML" in result.stderr


def test_data_dir_comes_from_the_environment(tmp_path, corpus, monkeypatch):
    monkeypatch.setenv("DISCOVERY_DATA", str(tmp_path / "env"))
    result = runner.invoke(app, ["ingest", str(corpus / SEED_GRANT)])
    assert result.exit_code == 0
    assert (tmp_path / "env" / "catalogue.sqlite").exists()


def test_quarantine_lists_failures_and_gives_back_their_bytes(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"@context": "https://schema.org/", "name": ')
    runner.invoke(app, ["ingest", str(bad), "--data", str(tmp_path / "d")])
    listed = invoke("quarantine", "--data", str(tmp_path / "d"))
    assert "bad.json" in listed.stdout and "malformed JSON" in listed.stdout
    number = listed.stdout.split()[0]
    raw = invoke("quarantine", "--raw", number, "--data", str(tmp_path / "d"))
    assert raw.stdout_bytes == bad.read_bytes()


def test_a_lone_surrogate_is_one_line_and_the_files_after_it_are_stored(tmp_path, corpus):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_bytes(b'{"@context": "https://schema.org/", "@type": "Dataset", '
                                    b'"name": "Half a pair \\ud800", "description": "x"}')
    (folder / "b.xml").write_bytes((corpus / FSD).read_bytes())
    for _ in range(2):
        result = invoke("ingest", str(folder), "--data", str(tmp_path / "d"))
        assert result.exit_code == 1
        [line] = [line for line in result.stderr.splitlines() if "cannot be stored" in line]
        assert "a.json: record half-a-pair" in line and "\\ud800" in line
        assert str(folder / "b.xml") in invoke("list", "--data", str(tmp_path / "d")).stdout
    listed = invoke("quarantine", "--data", str(tmp_path / "d")).stdout
    assert "1 quarantined" in listed


def test_ingest_reads_http_urls(tmp_path, corpus):
    from tests.harvest.oai_server import LocalServer, Reply

    page = (corpus / SEED_GRANT).read_bytes()
    with LocalServer(lambda path: Reply(200, page, {"Content-Type": "text/plain"})) as server:
        url = f"{server.root}/projects?ref=ES/T005912/1"
        result = invoke("ingest", url, "--allow-host", "127.0.0.1", "--data", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    shown = show_json(tmp_path / "d", "governing-parental-opioid-use-a-relational-ethnography")
    assert shown["sources"][0]["location"] == url


def test_ingest_refuses_a_loopback_url_unless_allowed(tmp_path, corpus):
    from tests.harvest.oai_server import LocalServer, Reply

    page = (corpus / SEED_GRANT).read_bytes()
    with LocalServer(lambda path: Reply(200, page, {"Content-Type": "text/plain"})) as server:
        url = f"{server.root}/projects?ref=ES/T005912/1"
        result = invoke("ingest", url, "--data", str(tmp_path / "d"))
        assert server.requests == []
        assert invoke("ingest", url, "--allow-private", "--data", str(tmp_path / "d")).exit_code == 0
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if url in line]
    assert "refused to connect to 127.0.0.1: a loopback address" in line and "--allow-host" in line


def test_show_raw_gives_back_the_source_document(data, corpus):
    result = invoke("show", "relations-study-data-2021-2022", "--format", "raw", "--data", str(data))
    assert result.stdout_bytes == (corpus / SEED_DATASET).read_bytes()
