"""The JSON-LD of every study and dataset page of the whole corpus meets Google's Dataset
guidance, read from the served HTML as a crawler would."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from lxml import html

from discovery.catalogue.store import Catalogue
from tests.server.site import HOSTILE_TITLE, Site

# Checked here independently of the code under test: date, date-time or interval, `..` open.
ISO_PART = r"(\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?|\.\.)"
ISO_8601 = re.compile(rf"^{ISO_PART}(/{ISO_PART})?$")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def problems_of(data: dict[str, Any], canonical: str, variables: int) -> list[str]:
    found = []
    if data.get("@context") not in ("https://schema.org/", "https://schema.org"):
        found.append("@context is not schema.org")
    if data.get("@type") != "Dataset":
        found.append(f"@type {data.get('@type')!r}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        found.append("no name")
    description = data.get("description")
    if not isinstance(description, str) or not 50 <= len(description) <= 5000:
        found.append(f"description of {len(description or '')} characters")
    if data.get("url") != canonical:
        found.append(f"url {data.get('url')!r} is not the canonical {canonical!r}")
    if not data.get("identifier"):
        found.append("no identifier")
    catalogs = as_list(data.get("includedInDataCatalog", []))
    if not catalogs or any(c.get("@type") != "DataCatalog" or not c.get("name") for c in catalogs):
        found.append("includedInDataCatalog missing or untyped")
    for role in ("creator", "funder"):
        for agent in as_list(data.get(role, [])):
            if agent.get("@type") not in ("Person", "Organization") or not agent.get("name"):
                found.append(f"{role} {agent!r} not a named Person/Organization")
    if "temporalCoverage" in data and not ISO_8601.match(data["temporalCoverage"]):
        found.append(f"temporalCoverage {data['temporalCoverage']!r} is not ISO 8601")
    for place in as_list(data.get("spatialCoverage", [])):
        if not isinstance(place, str) and (place.get("@type") != "Place" or not place.get("name")):
            found.append(f"spatialCoverage {place!r}")
    measured = as_list(data.get("variableMeasured", []))
    if len(measured) != min(variables, 1000):
        found.append(f"{len(measured)} variableMeasured for {variables} variables")
    if any(v.get("@type") != "PropertyValue" or not v.get("name") for v in measured):
        found.append("a variableMeasured without type or name")
    if "license" in data and not isinstance(data["license"], str):
        found.append("license is not text or a URL")
    return found


def page_jsonld(site: Site, rid: str) -> tuple[dict[str, Any], str]:
    response = httpx.get(f"{site.url}/items/{rid}", timeout=30)
    assert response.status_code == 200, rid
    tree = html.fromstring(response.content)
    [script] = tree.xpath('//script[@type="application/ld+json"]')
    [canonical] = tree.xpath('//link[@rel="canonical"]/@href')
    return json.loads(script.text), canonical


def test_every_item_page_of_the_corpus_has_valid_dataset_jsonld(full_site: Site) -> None:
    with Catalogue(full_site.data) as catalogue:
        items = [(rid, sum(1 for r in catalogue.relations(rid) if r.predicate == "hasVariable"
                           and r.subject == rid))
                 for kind in ("study", "dataset") for rid, *_ in catalogue.list_records(kind)]
    assert len(items) >= 30
    problems = {}
    for rid, variables in items:
        data, canonical = page_jsonld(full_site, rid)
        if found := problems_of(data, canonical, variables):
            problems[rid] = found
    assert problems == {}


def test_relations_study_jsonld_names_its_grant_and_funder(full_site: Site) -> None:
    data, _ = page_jsonld(full_site, "relations-study-data-2021-2022")
    assert {"@type": "Organization", "name": "Economic and Social Research Council"} in data["funder"]
    [grant] = data["funding"]
    assert grant["name"] == "Governing parental opioid use: a relational ethnography"
    assert grant["url"].endswith("/projects/governing-parental-opioid-use-a-relational-ethnography")
    assert data["temporalCoverage"] == "2021-04-01/2022-12-01"


def test_hostile_text_cannot_close_the_jsonld_script(full_site: Site) -> None:
    raw = httpx.get(f"{full_site.url}/items/{full_site.hostile_id}", timeout=30).text
    block = raw.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and "\\u003c/script\\u003e" in block
    data, _ = page_jsonld(full_site, full_site.hostile_id)
    assert data["name"] == HOSTILE_TITLE
