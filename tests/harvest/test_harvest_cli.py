"""`discovery harvest oai` against a real OAI-PMH server on 127.0.0.1: paging, deletions, and a
second run that asks only for what changed since the first. The server's address is allowed
explicitly (`--allow-host 127.0.0.1`), as an operator would."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from typer.testing import CliRunner

from discovery.catalogue.store import Catalogue
from discovery.cli import app
from discovery.model import Identifier
from tests.harvest.oai_server import OaiServer

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[OaiServer]:
    with OaiServer(page_size=2) as running:
        yield running


def harvest(server: OaiServer, data, *extra: str):
    result = runner.invoke(app, ["harvest", "oai", server.url, "--allow-host", "127.0.0.1",
                                 "--data", str(data), *extra])
    assert result.exit_code == 0, result.output
    return result


def study_ids(data) -> dict[str, str]:
    """OAI identifier -> record id of every study in the catalogue."""
    with Catalogue(data) as catalogue:
        return {alias.removeprefix("oai:"): rid for alias, rid in catalogue.db.execute(
            "SELECT alias, record_id FROM aliases WHERE alias LIKE 'oai:%'")}


def test_incremental_harvest_applies_updates_and_deletions(server, tmp_path):
    data = tmp_path / "data"
    live = [r.identifier for r in server.records if not r.deleted]
    assert len(live) >= 2 and len(live) < len(server.records)

    harvest(server, data)
    first_requests = len(server.requests)
    assert first_requests == -(-len(server.records) // 2)  # every page, by resumption token
    assert set(study_ids(data)) == {Identifier(scheme="oai", value=i).alias().removeprefix("oai:")
                                    for i in live}

    changed, gone = live[0], live[1]
    server.update(changed, title="A retitled study")
    server.delete(gone)
    result = harvest(server, data)

    second = [dict(parse_qsl(urlsplit(p).query)) for p in server.requests[first_requests:]]
    listing = next(args for args in second if args["verb"] == "ListRecords")
    assert "from" in listing, "the second run must ask only for changes"
    assert "updated 1" in result.stdout and "deleted" in result.stdout
    ids = study_ids(data)
    assert gone.lower() not in ids
    with Catalogue(data) as catalogue:
        assert catalogue.get(ids[changed.lower()]).title == "A retitled study"
        assert [a for _, a, _ in catalogue.history(ids[changed.lower()])] == ["created", "updated"]


def test_explicit_from_and_full_override_the_stored_date(server, tmp_path):
    data = tmp_path / "data"
    harvest(server, data, "--from", "2100-01-01")
    assert study_ids(data) == {}
    harvest(server, data, "--full")
    assert study_ids(data)


def test_an_unreachable_endpoint_is_one_line_and_nonzero(tmp_path):
    with OaiServer() as running:
        url = running.url
    result = runner.invoke(app, ["harvest", "oai", url, "--allow-host", "127.0.0.1",
                                 "--data", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert url in result.stderr and "ConnectError" in result.stderr


def test_a_loopback_endpoint_is_refused_unless_allowed(server, tmp_path):
    result = runner.invoke(app, ["harvest", "oai", server.url, "--data", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "refused to connect to 127.0.0.1: a loopback address" in result.stderr
    assert "--allow-host" in result.stderr
    assert server.requests == []
