"""Dublin Core records: OAI-PMH `oai_dc:dc`, and dc/dcterms elements in any container.

Dublin Core is what every repository can emit, so many studies arrive in nothing richer. Its
elements are loose (a date of what? an identifier in which scheme? coverage of time or place?),
so this parser recognises DOIs, URLs and periods in the text instead of trusting element names.
The OAI-PMH parser hands the `metadata` child of each oai_dc record to `parse_dc_element`.
"""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

from discovery.model import (
    Agent,
    Identifier,
    Kind,
    ParseResult,
    Problem,
    Study,
    Text,
    main_text,
    slug,
)
from discovery.sources.base import Document, clean, parse_xml, root_name, strip_markup
from discovery.sources.fields import classify_identifier, guess_agent, iso_period

FORMAT = "dublin-core"
DC_ELEMENTS = "http://purl.org/dc/elements/1.1/"
DC_TERMS = "http://purl.org/dc/terms/"
DC_NAMESPACES = frozenset({DC_ELEMENTS, DC_TERMS})
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Roots and namespaces of formats that also declare Dublin Core but are read by other parsers.
_OTHER_ROOTS = frozenset({"OAI-PMH", "codeBook", "DDIInstance", "FragmentInstance", "RDF", "html"})
_OTHER_MARKERS = ("ddialliance.org", '"ddi:', 'http://www.openarchives.org/OAI/2.0/"',
                  "http://www.w3.org/ns/dcat#")

# Elements with a meaning of their own below; the rest are kept in `extra` under their name.
_MAPPED = frozenset({
    "title", "alternative", "description", "abstract", "subject", "creator", "publisher",
    "contributor", "date", "issued", "created", "available", "modified", "type", "format",
    "extent", "medium", "identifier", "language", "coverage", "spatial", "temporal", "rights",
    "license", "accessRights", "relation", "source", "bibliographicCitation",
})
_MAX_EXTRA_CHARS = 2000


def sniff(doc: Document, head: str) -> bool:
    """A `dc` root, or an XML record declaring the purl.org/dc namespaces that no other XML
    parser claims (OAI-PMH, DDI and RDF/XML also declare them)."""
    root = root_name(head)
    if root is None:
        return False
    if root == "dc":
        return True
    if root in _OTHER_ROOTS or any(marker in head for marker in _OTHER_MARKERS):
        return False
    return "purl.org/dc/" in head


def parse(doc: Document) -> ParseResult:
    """One record per element holding dc/dcterms children: the root of an `oai_dc:dc` file, or
    each container of a collection."""
    root = parse_xml(doc)
    containers = [element for element in root.iter(etree.Element)
                  if etree.QName(element).namespace not in DC_NAMESPACES
                  and any(_is_dc(child) for child in element)]
    if not containers:
        raise doc.fail("no Dublin Core elements found",
                       hint="expected dc:* or dcterms:* elements (purl.org/dc namespaces)")
    result = ParseResult()
    for position, container in enumerate(containers, start=1):
        key = f"record {position}" if len(containers) > 1 else None
        result.extend(parse_dc_element(container, doc, record_key=key))
    return result


def parse_dc_element(element: etree._Element, doc: Document,
                     record_key: str | None = None) -> ParseResult:
    """The study described by the dc/dcterms children of `element` (e.g. OAI `metadata`)."""
    result = ParseResult()
    if not any(_is_dc(child) for child in element):  # OAI `metadata` wraps `oai_dc:dc`
        element = next((child for child in element if isinstance(child.tag, str)), element)
    try:
        result.records.append(_study(_fields(element), doc, record_key))
    except ValueError as error:
        result.problems.append(Problem(record=record_key, reason=str(error),
                                       raw=etree.tostring(element, encoding="unicode")))
    return result


def _is_dc(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).namespace in DC_NAMESPACES


def _fields(element: etree._Element) -> dict[str, list[Text]]:
    """dc/dcterms children by local name (dc:title and dcterms:title are one field), raw text
    with the language given on the element or inherited from its container."""
    inherited = element.get(XML_LANG)
    fields: dict[str, list[Text]] = defaultdict(list)
    for child in element:
        if not _is_dc(child):
            continue
        text = "".join(child.itertext()).strip()
        if text:
            fields[etree.QName(child).localname].append(
                Text(value=text, lang=child.get(XML_LANG) or inherited))
    return fields


def _study(fields: dict[str, list[Text]], doc: Document, record_key: str | None) -> Study:
    titles = _cleaned(fields["title"] + fields["alternative"])
    title = main_text(titles)
    if title is None:
        raise ValueError("record has no dc:title")
    descriptions = [Text(value=value, lang=text.lang)
                    for text in fields["description"] + fields["abstract"]
                    if (value := strip_markup(text.value))]
    description = main_text(descriptions)
    identifiers, other_ids = _identifiers(fields["identifier"])
    types = _values(fields, "type")
    temporal, spatial = _coverage(fields)
    return Study(
        id=slug(title.value),
        kind=Kind.DATASET if any("dataset" in t.lower() for t in types) else Kind.STUDY,
        title=title.value, titles=titles,
        description=description.value if description else None, descriptions=descriptions,
        identifiers=identifiers,
        keywords=list(dict.fromkeys(_values(fields, "subject"))),
        url=next((value for value in _values(fields, "identifier")
                  if value.lower().startswith(("http://", "https://"))), None),
        language=_values(fields, "language"),
        creators=[guess_agent(name) for name in _values(fields, "creator")],
        publisher=next((Agent(name=name) for name in _values(fields, "publisher")), None),
        temporal_coverage=temporal, spatial_coverage=spatial,
        resource_type=types[0] if types else None,
        license=_first(fields, "license", "rights"),
        date_published=_first(fields, "issued", "date", "available", "created"),
        provenance=doc.provenance(source=FORMAT, record_key=record_key),
        extra=_extra(fields, other_ids),
    )


def _cleaned(texts: list[Text]) -> list[Text]:
    return [Text(value=value, lang=text.lang) for text in texts if (value := clean(text.value))]


def _values(fields: dict[str, list[Text]], name: str) -> list[str]:
    return [value for text in fields.get(name, []) if (value := clean(text.value))]


def _first(fields: dict[str, list[Text]], *names: str) -> str | None:
    """The first value of the first of `names` present, e.g. issued before the generic date."""
    return next((values[0] for name in names if (values := _values(fields, name))), None)


def _identifiers(texts: list[Text]) -> tuple[list[Identifier], list[str]]:
    """Recognised identifiers, and the rest (kept in extra: a bare number has no scope)."""
    known: list[Identifier] = []
    other: list[str] = []
    for text in texts:
        value = clean(text.value) or ""
        identifier = classify_identifier(value)
        if identifier is None:
            other.append(value)
        elif identifier not in known:
            known.append(identifier)
    return known, other


def _coverage(fields: dict[str, list[Text]]) -> tuple[str | None, list[str]]:
    """Temporal and spatial coverage; plain dc:coverage is a period when it reads as one."""
    temporal = [iso_period(value) or value for value in _values(fields, "temporal")]
    spatial = _values(fields, "spatial")
    for value in _values(fields, "coverage"):
        period = iso_period(value)
        if period:
            temporal.append(period)
        else:
            spatial.append(value)
    return (temporal[0] if temporal else None), list(dict.fromkeys(spatial))


def _extra(fields: dict[str, list[Text]], other_ids: list[str]) -> dict[str, object]:
    """What the model has no field for: contributors, formats, relations, modified date..."""
    extra: dict[str, object] = {}
    for key, name in (("contributors", "contributor"), ("format", "format"),
                      ("extent", "extent"), ("medium", "medium"), ("relations", "relation"),
                      ("source", "source"), ("modified", "modified"),
                      ("access_rights", "accessRights"), ("citation", "bibliographicCitation")):
        if values := _values(fields, name):
            extra[key] = values
    if rights := _values(fields, "rights"):
        if _values(fields, "license"):
            extra["rights"] = rights
    if other_ids:
        extra["identifiers"] = other_ids
    for name, texts in fields.items():
        values = [value for text in texts if (value := clean(text.value))]
        if name not in _MAPPED and values and sum(map(len, values)) <= _MAX_EXTRA_CHARS:
            extra[name] = values
    return extra
