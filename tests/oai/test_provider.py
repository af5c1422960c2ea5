"""The OAI-PMH provider over HTTP: every verb's answer valid against the official OAI-PMH 2.0
schema (and oai_dc's), DDI records in DDI 2.5's order, every error code where the protocol
assigns it, selective lists by set and date, and paging by resumption token."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from lxml import etree

from discovery.oai import provider
from tests.server.site import HOSTILE_TITLE, serve
from tests.oai.codebook_order import problems
from tests.oai.schemas import oai_schema
from tests.oai.site import copy

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
DDI = "{ddi:codebook:2_5}codeBook"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return oai_schema()


@pytest.fixture(scope="module")
def url(oai_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return serve(copy(oai_data, tmp_path_factory.mktemp("provider") / "data")) + "/oai"


def ask(url: str, schema: etree.XMLSchema, **arguments: str) -> etree._Element:
    """The answer, after checking it is valid OAI-PMH, with valid oai_dc and DDI in DDI's order."""
    response = httpx.get(url, params=arguments, timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    assert schema.validate(root), schema.error_log
    for dc in root.iter(DC):
        assert schema.validate(etree.ElementTree(dc)), schema.error_log
    for book in root.iter(DDI):
        assert problems(book) == []
    return root


def error_code(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def identifiers(root: etree._Element) -> list[str]:
    return [h.findtext(f"{OAI}identifier") for h in root.iter(f"{OAI}header")]


def test_the_schema_check_can_fail(url: str, schema: etree.XMLSchema) -> None:
    root = ask(url, schema, verb="Identify")
    root.remove(root.find(f"{OAI}responseDate"))
    assert not schema.validate(root)


def test_identify(url: str, schema: etree.XMLSchema) -> None:
    identify = ask(url, schema, verb="Identify").find(f"{OAI}Identify")
    assert identify.findtext(f"{OAI}baseURL") == url
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", identify.findtext(f"{OAI}earliestDatestamp"))


def test_metadata_formats_for_the_repository_and_for_an_item(url: str, schema: etree.XMLSchema) -> None:
    prefixes = [e.text for e in ask(url, schema, verb="ListMetadataFormats").iter(f"{OAI}metadataPrefix")]
    assert prefixes == ["oai_dc", "oai_ddi25"]
    first = identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc"))[0]
    root = ask(url, schema, verb="ListMetadataFormats", identifier=first)
    assert len(list(root.iter(f"{OAI}metadataFormat"))) == 2


def test_sets_by_kind_and_catalogue(url: str, schema: etree.XMLSchema) -> None:
    specs = {e.text for e in ask(url, schema, verb="ListSets").iter(f"{OAI}setSpec")}
    assert {"kind", "kind:study", "kind:dataset", "catalogue", "catalogue:uk-data-service",
            "catalogue:finnish-social-science-data-archive"} <= specs
    everything = set(identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc")))
    studies = set(identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc",
                                  set="kind:study")))
    datasets = set(identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc",
                                   set="kind:dataset")))
    by_kind = set(identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc",
                                  set="kind")))
    assert studies and datasets and studies.isdisjoint(datasets)
    assert studies | datasets == by_kind == everything
    ukds = ask(url, schema, verb="ListRecords", metadataPrefix="oai_dc", set="catalogue:uk-data-service")
    assert all("catalogue:uk-data-service" in [s.text for s in h.iter(f"{OAI}setSpec")]
               for h in ukds.iter(f"{OAI}header"))
    assert 0 < len(identifiers(ukds)) < len(everything)


def test_get_record_in_both_formats(url: str, schema: etree.XMLSchema) -> None:
    studies = identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_ddi25",
                              set="kind:study"))
    finnish = next(i for i in studies if "financial-awareness" in i)
    ddi = ask(url, schema, verb="GetRecord", identifier=finnish, metadataPrefix="oai_ddi25")
    book = ddi.find(f".//{DDI}")
    assert book.findtext(".//{ddi:codebook:2_5}titl").startswith("Financial Awareness")
    assert len(book.findall(".//{ddi:codebook:2_5}var")) > 100
    dc = ask(url, schema, verb="GetRecord", identifier=finnish, metadataPrefix="oai_dc")
    assert dc.find(f".//{DC}") is not None


def test_hostile_text_is_escaped_and_control_characters_dropped(url: str, schema: etree.XMLSchema) -> None:
    root = ask(url, schema, verb="ListRecords", metadataPrefix="oai_ddi25", set="kind:dataset")
    titles = [e.text for e in root.iter("{ddi:codebook:2_5}titl")]
    assert HOSTILE_TITLE in titles  # as text: the answer parsed, so the markup was escaped
    assert "Q1" in [v.get("name") for v in root.iter("{ddi:codebook:2_5}var")]


def test_lists_page_by_resumption_token(url: str, schema: etree.XMLSchema,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    whole = identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc"))
    monkeypatch.setitem(provider.PAGE_SIZES, "ListRecords", 3)
    seen, sizes, cursors = [], set(), []
    root = ask(url, schema, verb="ListRecords", metadataPrefix="oai_dc")
    while True:
        seen += identifiers(root)
        token = root.find(f".//{OAI}resumptionToken")
        sizes.add(token.get("completeListSize"))
        cursors.append(int(token.get("cursor")))
        if not token.text:
            break
        root = ask(url, schema, verb="ListRecords", resumptionToken=token.text)
    assert seen == whole and len(seen) > 6
    assert sizes == {str(len(whole))}
    assert cursors == list(range(0, len(whole), 3))


def test_from_and_until(url: str, schema: etree.XMLSchema) -> None:
    root = ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    stamps = sorted(h.findtext(f"{OAI}datestamp") for h in root.iter(f"{OAI}header"))
    day = stamps[0][:10]
    assert identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": day}))
    assert identifiers(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc", until=stamps[-1]))
    assert error_code(ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc",
                          until="1999-01-01")) == "noRecordsMatch"


def test_post_is_answered_like_get(url: str, schema: etree.XMLSchema) -> None:
    response = httpx.post(url, data={"verb": "Identify"}, timeout=30)
    root = etree.fromstring(response.content)
    assert schema.validate(root) and root.find(f"{OAI}Identify") is not None


ERRORS = [
    ({}, "badVerb"),
    ({"verb": "Harvest"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-13-45"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2021-01-01",
      "until": "2020-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01",
      "until": "2021-01-01T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "anything"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "marc21", "identifier": "oai:discovery:x"},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:discovery:no-such-record"},
     "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "no-prefix"}, "idDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": "oai:discovery:no-such-record"}, "idDoesNotExist"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "kind:instrument"}, "noRecordsMatch"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"}, "noRecordsMatch"),
]


@pytest.mark.parametrize(("arguments", "code"), ERRORS, ids=[f"{c}-{n}" for n, (_, c) in enumerate(ERRORS)])
def test_errors(url: str, schema: etree.XMLSchema, arguments: dict[str, object], code: str) -> None:
    root = ask(url, schema, **arguments)
    assert error_code(root) == code
    request = root.find(f"{OAI}request")
    if code in ("badVerb", "badArgument"):
        assert dict(request.attrib) == {}  # the protocol echoes only the base URL
    else:
        assert request.get("verb") == arguments["verb"]


def test_tokens_of_one_verb_do_not_continue_another(url: str, schema: etree.XMLSchema,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(provider.PAGE_SIZES, "ListIdentifiers", 2)
    token = ask(url, schema, verb="ListIdentifiers", metadataPrefix="oai_dc").find(
        f".//{OAI}resumptionToken").text
    assert error_code(ask(url, schema, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert error_code(ask(url, schema, verb="ListIdentifiers", resumptionToken=tampered)) \
        == "badResumptionToken"


def test_no_set_hierarchy_does_not_apply_since_sets_exist(url: str, schema: etree.XMLSchema) -> None:
    assert error_code(ask(url, schema, verb="ListSets")) is None
