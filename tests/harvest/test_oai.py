"""Harvesting a real OAI-PMH server on 127.0.0.1 (allowed explicitly) that serves the corpus
ListRecords records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import partial
from urllib.parse import parse_qsl, urlsplit

import pytest

from discovery.errors import HarvestError
from discovery.harvest import http
from discovery.harvest.oai import harvest_oai, identify, request_url
from discovery.model import Kind, ParseResult
from discovery.sources import oai
from discovery.sources.base import Document
from tests.harvest.oai_server import DAY, LOCAL, OaiServer, corpus_records

MILAN = "53b3946ddb431037aa99e4fccd86fe280a18b25e8ff9612e0f963ba0f2691e4e"
SN993 = "fbf98ec92c3e23f85bf9c9eb14aef49c4187a2179fdea5642015ff8f9fecf9be"
SN992 = "e97d29a96d0e4943d757efa95101a2904826065d947740f1fb05fe6e2a0930d5"
GONE_SV = "2dde6da4463d9635cca4f6ad90c99b2bd317fe1ba12d90c2a921b9fe160c210f"
ALL = [record.identifier for record in corpus_records()]
quick_fetch = partial(http.fetch, backoff=0.01)


@pytest.fixture
def server() -> Iterator[OaiServer]:
    with OaiServer(page_size=2) as running:
        yield running


def parsed(docs: Iterable[Document]) -> ParseResult:
    result = ParseResult()
    for doc in docs:
        result.extend(oai.parse(doc))
    return result


def harvested_ids(result: ParseResult) -> list[str]:
    """OAI identifiers seen, deleted or live, once per appearance."""
    live = [r.provenance.record_key for r in result.records if r.kind in (Kind.STUDY, Kind.DATASET)]
    return live + [d.alias.removeprefix("oai:") for d in result.deletions]


def arguments(path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(path).query))


def test_paging_yields_every_record_exactly_once(server: OaiServer) -> None:
    docs = list(harvest_oai(server.url, allow=LOCAL))

    assert len(docs) == 3
    assert docs[0].location == f"{server.url}?verb=ListRecords&metadataPrefix=oai_ddi25"
    assert Counter(harvested_ids(parsed(docs))) == Counter(ALL)
    # follow-up requests carry only the verb and the (URL-encoded) token, as the protocol says
    assert [set(arguments(path)) for path in server.requests[1:]] == [
        {"verb", "resumptionToken"}, {"verb", "resumptionToken"}]
    assert [doc.location for doc in docs[1:]] == [server.root + path for path in server.requests[1:]]


def test_two_503s_are_retried(server: OaiServer) -> None:
    server.fail_next(2)
    docs = list(harvest_oai(server.url, allow=LOCAL, fetch=quick_fetch))
    assert Counter(harvested_ids(parsed(docs))) == Counter(ALL)
    assert len(server.requests) == 2 + 3


def test_a_missing_endpoint_fails_fast(server: OaiServer) -> None:
    with pytest.raises(HarvestError) as caught:
        list(harvest_oai(f"{server.root}/no-such-endpoint", allow=LOCAL,
                         fetch=partial(http.fetch, backoff=30)))
    assert caught.value.reason.startswith("HTTP 404")
    assert caught.value.file.startswith(f"{server.root}/no-such-endpoint?verb=ListRecords")
    assert len(server.requests) == 1


def test_a_repeated_token_stops_the_harvest(server: OaiServer) -> None:
    server.loop_tokens = True
    with pytest.raises(HarvestError, match="came back twice"):
        list(harvest_oai(server.url, allow=LOCAL))
    assert len(server.requests) == 2  # the second page repeats the first page's token


def test_the_page_limit_stops_the_harvest(server: OaiServer) -> None:
    with pytest.raises(HarvestError, match="after 2"):
        list(harvest_oai(server.url, allow=LOCAL, max_pages=2))


def test_an_expired_token_is_reported(server: OaiServer) -> None:
    pages = harvest_oai(server.url, allow=LOCAL)
    next(pages)
    server.expire_tokens()  # the repository restarts between two pages
    with pytest.raises(HarvestError, match="badResumptionToken") as caught:
        next(pages)
    assert caught.value.hint


def test_an_unoffered_format_is_reported(server: OaiServer) -> None:
    with pytest.raises(HarvestError, match="cannotDisseminateFormat"):
        list(harvest_oai(server.url, allow=LOCAL, metadata_prefix="oai_dc"))


def test_no_records_match_is_one_empty_page(server: OaiServer) -> None:
    docs = list(harvest_oai(server.url, allow=LOCAL, from_="2030-01-01"))
    assert len(docs) == 1
    assert parsed(docs) == ParseResult()


def test_from_until_window(server: OaiServer) -> None:
    docs = harvest_oai(server.url, allow=LOCAL, from_="2024-12-11T03:21:00Z",
                       until="2024-12-11T03:21:43Z")
    assert sorted(harvested_ids(parsed(docs))) == sorted(
        [MILAN, GONE_SV, "967f0eca3a881658fa05632156e4168b5c54db568f97d531d7d4ff638ea62e08"])


def test_set_selects_records(server: OaiServer) -> None:
    harvested = harvest_oai(server.url, allow=LOCAL, set_spec="language:sv")
    assert harvested_ids(parsed(harvested)) == [GONE_SV]


def test_incremental_harvest_returns_only_changes(server: OaiServer) -> None:
    first = list(harvest_oai(server.url, allow=LOCAL))
    since = oai.response_date(oai.oai_root(first[0]))
    server.update(MILAN, title="Global Risks and Uncertainty, revised")
    server.delete(SN993)

    changes = parsed(harvest_oai(server.url, allow=LOCAL, from_=since))

    assert sorted(harvested_ids(changes)) == sorted([MILAN, SN993])
    (study,) = changes.records
    assert study.title == "Global Risks and Uncertainty, revised"
    assert [d.alias for d in changes.deletions] == [f"oai:{SN993}"]


def test_a_datetime_from_is_fitted_to_the_repository_granularity() -> None:
    with OaiServer(page_size=10, granularity=DAY) as server:
        server.update(SN992, "2025-06-01T10:00:00Z")
        docs = list(harvest_oai(server.url, allow=LOCAL, from_=datetime(2025, 6, 1, 10, 0)))
        assert arguments(server.requests[0]) == {"verb": "Identify"}
        assert arguments(server.requests[1])["from"] == "2025-06-01"
        assert harvested_ids(parsed(docs)) == [SN992]


def test_identify(server: OaiServer) -> None:
    repository = identify(server.url, allow=LOCAL)
    assert repository.granularity == oai.SECONDS_GRANULARITY
    assert repository.earliest_datestamp == "2024-12-11T03:20:05Z"
    assert repository.deleted_record == "persistent"
    assert repository.base_url == server.url


def test_request_url_encodes_tokens() -> None:
    token = "cursor%3A0%26from%3ANone"
    url = request_url("https://example.org/oai", verb="ListRecords", resumptionToken=token)
    assert url == "https://example.org/oai?verb=ListRecords&resumptionToken=cursor%253A0%2526from%253ANone"
    assert request_url("https://example.org/provider?x=1", verb="Identify", set=None) == (
        "https://example.org/provider?x=1&verb=Identify")
