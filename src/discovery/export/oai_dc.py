"""A study or dataset as unqualified Dublin Core (`oai_dc`), the format every OAI-PMH repository
must offer.

Dublin Core has fifteen loose elements, so this keeps to what each means plainly: titles and
descriptions in every language, creators, subjects, the publisher, the publication date, DOIs and
links as identifiers, coverage of time and place, the licence. `dc:type` is `Dataset` (the DCMI
Type) for datasets; a study gives its resource type, or `Study`, so that a harvester that reads
`dc:type` (as `sources/dublin_core.py` does) can tell the two apart.
"""

from __future__ import annotations

from lxml import etree

from discovery.export.xml_text import add
from discovery.model import Kind, Study, Text

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_URL = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


def dublin_core(study: Study) -> etree._Element:
    """The `oai_dc:dc` element of one study or dataset."""
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {SCHEMA_URL}")
    titles = study.titles or [Text(value=study.title)]
    for text in titles:
        _dc(root, "title", text.value, text.lang)
    for agent in study.creators:
        _dc(root, "creator", agent.name)
    for subject in dict.fromkeys(study.keywords + study.topics):
        _dc(root, "subject", subject)
    descriptions = study.descriptions or ([Text(value=study.description)] if study.description else [])
    for text in descriptions:
        _dc(root, "description", text.value, text.lang)
    if study.publisher:
        _dc(root, "publisher", study.publisher.name)
    if study.date_published:
        _dc(root, "date", study.date_published)
    _dc(root, "type", "Dataset" if study.kind == Kind.DATASET else _study_type(study))
    for link in study.distributions:
        if link.name:
            _dc(root, "format", link.name)
    for identifier in _identifiers(study):
        _dc(root, "identifier", identifier)
    for language in study.language:
        _dc(root, "language", language)
    if study.temporal_coverage:
        _dc(root, "coverage", study.temporal_coverage)
    for place in study.spatial_coverage:
        _dc(root, "coverage", place)
    if study.license:
        _dc(root, "rights", study.license)
    return root


def _dc(parent: etree._Element, name: str, text: str, lang: str | None = None) -> None:
    add(parent, f"{{{DC}}}{name}", text, lang)


def _study_type(study: Study) -> str:
    """What kind of study the source says it is, unless that reads as a dataset."""
    kind = study.resource_type
    return kind if kind and "dataset" not in kind.lower() else "Study"


def _identifiers(study: Study) -> list[str]:
    """The record's page at its source first (readers take the first link as the record's URL),
    then DOIs as doi.org links, then other links."""
    found = [study.url] if study.url else []
    for identifier in study.identifiers:
        if identifier.scheme == "doi":
            found.append(f"https://doi.org/{identifier.value}")
        elif identifier.scheme == "url":
            found.append(identifier.value)
    return list(dict.fromkeys(found))
