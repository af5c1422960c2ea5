"""oai_dc out: valid against the official oai_dc schema, and telling datasets from studies."""

from __future__ import annotations

from lxml import etree

from discovery.export.oai_dc import DC, dublin_core
from discovery.model import Agent, Identifier, Kind, Provenance, Study, Text
from tests.oai.schemas import oai_schema

PROVENANCE = Provenance(source="test", location="test://x", content_hash="0")


def study(kind: Kind, resource_type: str | None = None) -> Study:
    title = "Survey \u0001 of things"
    return Study(id="x", kind=kind, title=title, titles=[Text(value=title, lang="en")],
                 creators=[Agent(name="A <b>bold</b> author")], resource_type=resource_type,
                 identifiers=[Identifier(scheme="doi", value="10.1234/x")], temporal_coverage="2001/2002",
                 spatial_coverage=["Wales"], provenance=PROVENANCE)


def test_valid_oai_dc_with_types_that_tell_kinds_apart() -> None:
    schema = oai_schema()
    for kind, resource_type, expected in ((Kind.DATASET, None, "Dataset"), (Kind.STUDY, None, "Study"),
                                          (Kind.STUDY, "survey data", "survey data"),
                                          (Kind.STUDY, "Dataset collection", "Study")):
        element = dublin_core(study(kind, resource_type))
        assert schema.validate(etree.ElementTree(element)), schema.error_log
        assert element.findtext(f"{{{DC}}}type") == expected
    element = dublin_core(study(Kind.DATASET))
    assert element.findtext(f"{{{DC}}}title") == "Survey  of things"
    assert element.findtext(f"{{{DC}}}creator") == "A <b>bold</b> author"
    assert "https://doi.org/10.1234/x" in [e.text for e in element.iter(f"{{{DC}}}identifier")]
