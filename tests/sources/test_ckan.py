"""CKAN: data.gov.uk's Solr document for Price Paid Data, the other API wrappings, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from discovery.errors import ParseError
from discovery.model import Kind, Study
from discovery.sources import ckan
from discovery.sources.base import Document
from discovery.sources.registry import head_text
from tests.conftest import load

PRICE_PAID = "schemaorg_dcat_ckan/ckan_solr_datagovuk_price_paid_data.json"


def package(corpus: Path) -> dict[str, Any]:
    """The package_show JSON that the Solr document carries as a string."""
    solr = json.loads((corpus / PRICE_PAID).read_text())
    return json.loads(solr["response"]["docs"][0]["validated_data_dict"])


def parsed(data: Any, location: str = "package.json") -> list[Study]:
    result = ckan.parse(Document(location=location, content=json.dumps(data).encode()))
    assert result.problems == []
    return result.records


def test_sniff(corpus: Path) -> None:
    assert ckan.sniff(load(corpus / PRICE_PAID), head_text(load(corpus / PRICE_PAID)))
    for other in ("schemaorg_dcat_ckan/schemaorg_gtex_expression_matrices.json",
                  "schemaorg_dcat_ckan/schemaorg_ssczo_providence_creek_met_soil.json",
                  "cessda_cmm_json/cmm_ukds_SN6684_childcare_early_years_parents_2009.json"):
        doc = load(corpus / other)
        assert not ckan.sniff(doc, head_text(doc)), other


def test_price_paid_data_from_solr(corpus: Path) -> None:
    result = ckan.parse(load(corpus / PRICE_PAID))
    assert result.problems == []
    [study] = result.records
    assert study.id == "price-paid-data"  # CKAN's own name
    assert study.kind == Kind.DATASET
    assert study.title == "Price Paid Data"
    assert study.description.startswith("HM Land Registry’s Price Paid Data records and tracks")
    assert study.keywords == ["land_and_property_register"]
    assert study.publisher.name == "HM Land Registry"
    assert study.publisher.identifier == "land-registry"
    assert [(i.scheme, i.value) for i in study.identifiers] == [
        ("ckan", "ec55e73e-61f4-4ac7-9702-27db85b127fc")]
    [resource] = study.distributions
    assert resource.url == "https://www.gov.uk/government/collections/price-paid-data"
    assert study.temporal_coverage == "1995-01-01/.."  # temporal_coverage-to is empty
    assert study.date_published == "2020-12-29"  # INSPIRE dataset-reference-date, publication
    assert study.resource_type == "dataset"
    # the licence is only in the Solr document's extras_licence, and not valid JSON there
    assert study.license.startswith("Under the OGL, Land Registry permits you to use the data")
    assert "INSPIRE (http://www.ordnancesurvey.co.uk/" in study.license
    assert study.extra["extras"]["frequency-of-update"] == "monthly"
    assert study.extra["extras"]["guid"] == "3df58f2f-a13e-46e9-a657-f532f7ad2fc1"
    assert study.extra["metadata_created"] == "2020-12-14T12:29:04.122732"


@pytest.mark.parametrize("wrap", [
    lambda p: p,
    lambda p: {"help": "https://data.gov.uk/api/3/action/help_show?name=package_show",
               "success": True, "result": p},
    lambda p: {"success": True, "result": {"count": 1, "results": [p]}},
    lambda p: [p],
], ids=["package_show result", "API envelope", "package_search", "list"])
def test_every_wrapping_gives_the_same_package(corpus: Path, wrap: Any) -> None:
    [study] = parsed(wrap(package(corpus)))
    assert (study.id, study.title, study.publisher.name) == \
        ("price-paid-data", "Price Paid Data", "HM Land Registry")
    assert study.temporal_coverage == "1995-01-01/.."


def test_a_bad_package_is_a_problem_and_the_others_survive(corpus: Path) -> None:
    broken = {"name": "no-title", "notes": "a package without a title"}
    data = {"success": True, "result": {"count": 2, "results": [broken, package(corpus)]}}
    result = ckan.parse(Document(location="search.json", content=json.dumps(data).encode()))
    assert [s.id for s in result.records] == ["price-paid-data"]
    [problem] = result.problems
    assert problem.record == "no-title" and "no title" in problem.reason


def test_truncated_json_names_the_file(corpus: Path) -> None:
    content = (corpus / PRICE_PAID).read_bytes()[:2000]
    with pytest.raises(ParseError) as error:
        ckan.parse(Document(location="price-paid-truncated.json", content=content))
    assert error.value.file == "price-paid-truncated.json"
    assert "malformed JSON" in error.value.reason
