"""DCAT and DCAT-AP dataset descriptions (Turtle, RDF/XML, N3, JSON-LD) read with rdflib.

Open-data portals (data.europa.eu, datos.gob.es, CKAN's DCAT endpoints) publish their catalogues
this way. RDF is a graph, not a tree: a publisher or a distribution is a node described
elsewhere in the file, so values are looked up by following edges, and every lookup is sorted so
that the same file always gives the same record. Nothing is fetched: RDF/XML is checked by
`parse_xml` (which refuses entities) and re-serialised without its DOCTYPE before rdflib sees
it, and JSON-LD that names a context by reference anywhere (rdflib would download it, with no
address, size or time limit) is refused rather than followed.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from lxml import etree
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from discovery.errors import UnsafeInputError
from discovery.model import Agent, Identifier, Kind, Link, ParseResult, Problem, Study, Text, slug
from discovery.sources.base import (
    Document, clean, decode_text, parse_xml, root_name, sniff_encoding, strip_markup,
)
from discovery.sources.fields import classify_identifier

FORMAT = "dcat"
DCAT_NAMESPACE = str(DCAT)
DCAT_VERSION = URIRef(DCAT_NAMESPACE + "version")  # DCAT 3; rdflib's DCAT namespace is DCAT 2
SCHEMA_HTTP = Namespace("http://schema.org/")
SCHEMA_HTTPS = Namespace("https://schema.org/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

_SYNTAX_BY_SUFFIX = {".ttl": "turtle", ".n3": "n3", ".nt": "nt", ".rdf": "xml", ".owl": "xml",
                     ".xml": "xml", ".jsonld": "json-ld"}
_SYNTAX_BY_MEDIA_TYPE = {"text/turtle": "turtle", "text/n3": "n3", "application/n-triples": "nt",
                         "application/rdf+xml": "xml", "application/ld+json": "json-ld"}
_TURTLE_PREFIX = re.compile(r"^\s*(@prefix|PREFIX)\s", re.M)
_LABELS = (FOAF.name, SKOS.prefLabel, RDFS.label, VCARD.fn, VCARD["organization-name"],
           DCTERMS.title, SCHEMA_HTTP.name, SCHEMA_HTTPS.name)
_STARTS = (DCAT.startDate, SCHEMA_HTTP.startDate, SCHEMA_HTTPS.startDate)
_ENDS = (DCAT.endDate, SCHEMA_HTTP.endDate, SCHEMA_HTTPS.endDate)
# EU Publications Office language authority codes (ISO 639-3) to the tags literals carry.
_LANGUAGE_CODES = {
    "bul": "bg", "ces": "cs", "cat": "ca", "dan": "da", "deu": "de", "ell": "el", "eng": "en",
    "est": "et", "eus": "eu", "fin": "fi", "fra": "fr", "gle": "ga", "glg": "gl", "hrv": "hr",
    "hun": "hu", "ita": "it", "lav": "lv", "lit": "lt", "mlt": "mt", "nld": "nl", "nor": "no",
    "pol": "pl", "por": "pt", "ron": "ro", "slk": "sk", "slv": "sl", "spa": "es", "swe": "sv",
}


def sniff(doc: Document, head: str) -> bool:
    """RDF that mentions the DCAT namespace near the top: by extension or media type, or by
    content (Turtle prefixes, an rdf:RDF root, JSON-LD keywords)."""
    if DCAT_NAMESPACE not in head:
        return False
    if _declared_syntax(doc) or _TURTLE_PREFIX.search(head) or root_name(head) == "RDF":
        return True
    return head.startswith(("{", "[")) and any(key in head for key in ('"@context"', '"@id"'))


def parse(doc: Document) -> ParseResult:
    """One dataset record per dcat:Dataset in the graph."""
    graph = _load_graph(doc)
    datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
    if not datasets:
        raise doc.fail("no dcat:Dataset in the graph",
                       hint="a catalogue file must type its datasets `a dcat:Dataset`")
    catalogues = _catalogues(graph)
    result = ParseResult()
    for node in datasets:
        try:
            result.records.append(_study(graph, node, doc, catalogues.get(node)))
        except ValueError as error:
            result.problems.append(Problem(record=str(node), reason=str(error)))
    return result


def _declared_syntax(doc: Document) -> str | None:
    media_type = (doc.media_type or "").split(";")[0].strip().lower()
    suffix = PurePosixPath(doc.location.split("?")[0]).suffix.lower()
    return _SYNTAX_BY_MEDIA_TYPE.get(media_type) or _SYNTAX_BY_SUFFIX.get(suffix)


def _syntax(doc: Document) -> str:
    """The serialisation: declared by media type or extension, else read from the first bytes
    (N-Triples also start with `<`, but with an IRI)."""
    declared = _declared_syntax(doc)
    if declared:
        return declared
    start = doc.content[:64].decode(sniff_encoding(doc.content), errors="ignore")
    start = start.lstrip("\ufeff \t\r\n")
    if start.startswith("<") and not start.startswith(("<http", "<urn")):
        return "xml"
    return "json-ld" if start.startswith(("{", "[")) else "turtle"


def _load_graph(doc: Document) -> Graph:
    syntax = _syntax(doc)
    if syntax == "xml":
        data: str | bytes = etree.tostring(parse_xml(doc))  # checked, and no DOCTYPE left
    else:
        data = decode_text(doc)
        if syntax == "json-ld":
            _refuse_remote_contexts(doc, data)
    graph = Graph()
    base = doc.location if doc.location.startswith(("http://", "https://")) else None
    try:
        graph.parse(data=data, format=syntax, publicID=base)
    except Exception as error:  # rdflib raises its own syntax errors per serialisation
        raise doc.fail(f"malformed RDF ({syntax}): {_first_line(error)}",
                       hint="is the file truncated?") from None
    return graph


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _refuse_remote_contexts(doc: Document, text: str) -> None:
    """rdflib downloads every JSON-LD context given by reference, wherever it is: the document's,
    a node's, one in a list, one `@import`ed, or one scoped to a term or a type inside another
    context. A parser must not fetch, so any such reference refuses the document."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise doc.fail(f"malformed JSON-LD: {error}", hint="is the file truncated?") from None
    reference = _context_reference(data)
    if reference is not None:
        raise UnsafeInputError(f"JSON-LD refers to a remote @context {reference[:200]!r}; "
                               "not fetched", file=doc.location, hint="inline the context in the file")


def _context_reference(data: Any) -> str | None:
    """The first context named by reference, searching every object, contexts included."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "@import":
                    return str(value)
                if key == "@context" and (reference := _reference(value)) is not None:
                    return reference
                stack.append(value)
    return None


def _reference(context: Any) -> str | None:
    """A string where a context belongs (rdflib also reads one from nested lists)."""
    if isinstance(context, str):
        return context
    if isinstance(context, list):
        return next((found for item in context if (found := _reference(item)) is not None), None)
    return None


def _catalogues(graph: Graph) -> dict[Node, Link]:
    """The dcat:Catalog each dataset is listed in, as a link for `data_catalogs`."""
    found: dict[Node, Link] = {}
    for catalogue, _, dataset in sorted(graph.triples((None, DCAT.dataset, None))):
        url = _first(graph, catalogue, FOAF.homepage) or (
            str(catalogue) if isinstance(catalogue, URIRef) else None)
        if url:
            found.setdefault(dataset, Link(url=str(url), name=_label(graph, catalogue)))
    return found


def _study(graph: Graph, node: Node, doc: Document, catalogue: Link | None) -> Study:
    languages = [_language(value) for value in _objects(graph, node, DCTERMS.language)]
    titles = _texts(graph, node, DCTERMS.title)
    title = _preferred(titles, languages)
    if title is None:
        raise ValueError("dcat:Dataset has no dct:title")
    descriptions = _texts(graph, node, DCTERMS.description, clean_with=strip_markup)
    description = _preferred(descriptions, languages)
    themes = _objects(graph, node, DCAT.theme)
    return Study(
        id=slug(title.value), kind=Kind.DATASET,
        title=title.value, titles=titles,
        description=description.value if description else None, descriptions=descriptions,
        identifiers=_identifiers(graph, node),
        keywords=list(dict.fromkeys(t.value for t in _texts(graph, node, DCAT.keyword))),
        url=_url(graph, node),
        language=list(dict.fromkeys(languages)),
        creators=[a for o in _objects(graph, node, DCTERMS.creator) if (a := _agent(graph, o))],
        publisher=next((a for o in _objects(graph, node, DCTERMS.publisher)
                        if (a := _agent(graph, o))), None),
        temporal_coverage=next((p for o in _objects(graph, node, DCTERMS.temporal)
                                if (p := _period(graph, o))), None),
        spatial_coverage=[n for o in _objects(graph, node, DCTERMS.spatial)
                          if (n := _label(graph, o) or _uri(o))],
        topics=[_label(graph, theme) or _tail(theme) for theme in themes],
        license=_license(graph, node),
        date_published=_first(graph, node, DCTERMS.issued),
        version=_first(graph, node, OWL.versionInfo) or _first(graph, node, ADMS.version)
        or _first(graph, node, DCAT_VERSION),
        data_catalogs=[catalogue] if catalogue else [],
        distributions=[link for dist in _objects(graph, node, DCAT.distribution)
                       if (link := _distribution(graph, dist))],
        provenance=doc.provenance(source=FORMAT, record_key=str(node),
                                  catalogue=catalogue.name if catalogue else None),
        extra=_extra(graph, node, themes),
    )


def _objects(graph: Graph, node: Node, predicate: URIRef) -> list[Node]:
    """Objects in a stable order (graph order is not), so ids and "first" values never drift."""
    return sorted(graph.objects(node, predicate), key=_order)


def _order(node: Node) -> tuple[str, str]:
    return (getattr(node, "language", None) or "", str(node))


def _texts(graph: Graph, node: Node, predicate: URIRef, clean_with: Any = clean) -> list[Text]:
    return [Text(value=value, lang=literal.language)
            for literal in _objects(graph, node, predicate)
            if isinstance(literal, Literal) and (value := clean_with(str(literal)))]


def _first(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    return next((value for o in _objects(graph, node, predicate) if (value := clean(str(o)))),
                None)


def _preferred(texts: list[Text], languages: list[str]) -> Text | None:
    """The text in the record's declared language, else English, else the first."""
    for wanted in [*languages, "en"]:
        for text in texts:
            if text.lang and text.lang.lower().split("-")[0] == wanted:
                return text
    return texts[0] if texts else None


def _label(graph: Graph, node: Node) -> str | None:
    """A literal as it is; a resource by its name or label, if the file gives one."""
    if isinstance(node, Literal):
        return clean(str(node))
    for predicate in _LABELS:
        if text := _preferred(_texts(graph, node, predicate), []):
            return text.value
    return None


def _uri(node: Node) -> str | None:
    return str(node) if isinstance(node, URIRef) else None


def _tail(node: Node) -> str:
    """The last path segment of a vocabulary URI, e.g. `.../sector/deporte` -> `deporte`."""
    return str(node).rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _language(node: Node) -> str:
    """`es`, or `http://publications.europa.eu/resource/authority/language/SPA` -> `es`."""
    code = _tail(node).lower() if isinstance(node, URIRef) else str(node).strip().lower()
    return _LANGUAGE_CODES.get(code, code)


def _agent(graph: Graph, node: Node) -> Agent | None:
    name = _label(graph, node) or _uri(node)
    if not name:
        return None
    person = (node, RDF.type, FOAF.Person) in graph
    return Agent(type="Person" if person else "Organization", name=name, identifier=_uri(node))


def _period(graph: Graph, node: Node) -> str | None:
    """dct:PeriodOfTime as an ISO 8601 interval (`..` for an open end); a literal as given."""
    if isinstance(node, Literal):
        return clean(str(node))
    start = next((v for p in _STARTS if (v := _first(graph, node, p))), None)
    end = next((v for p in _ENDS if (v := _first(graph, node, p))), None)
    if start is None and end is None:
        return None
    return f"{start or '..'}/{end or '..'}"


def _identifiers(graph: Graph, node: Node) -> list[Identifier]:
    """The dataset's own URI and its dct:identifier values that are DOIs or URLs."""
    candidates = [_uri(node)] + [clean(str(o)) for o in _objects(graph, node, DCTERMS.identifier)]
    found: list[Identifier] = []
    for value in candidates:
        identifier = classify_identifier(value) if value else None
        if identifier and identifier not in found:
            found.append(identifier)
    return found


def _url(graph: Graph, node: Node) -> str | None:
    landing = _first(graph, node, DCAT.landingPage)
    uri = _uri(node)
    return landing or (uri if uri and uri.startswith(("http://", "https://")) else None)


def _license(graph: Graph, node: Node) -> str | None:
    """dct:license, else dct:rights, else the first distribution's licence."""
    candidates = [*_objects(graph, node, DCTERMS.license), *_objects(graph, node, DCTERMS.rights),
                  *(value for distribution in _objects(graph, node, DCAT.distribution)
                    for value in _objects(graph, distribution, DCTERMS.license))]
    return next((name for value in candidates if (name := _uri(value) or _label(graph, value))),
                None)


def _distribution(graph: Graph, node: Node) -> Link | None:
    """Download URL (else access URL) with the media type or format as its name."""
    for predicate, rel in ((DCAT.downloadURL, "download"), (DCAT.accessURL, "access")):
        url = _first(graph, node, predicate)
        if url:
            return Link(url=url, name=_format(graph, node), rel=rel)
    return None


def _format(graph: Graph, node: Node) -> str | None:
    """A media type where the file gives one (dcat:mediaType, or the rdf:value of an IMT
    format node), else the format's label or the tail of its vocabulary URI."""
    if media_type := _first(graph, node, DCAT.mediaType):
        return media_type.split("media-types/")[-1]
    format_node = next(iter(_objects(graph, node, DCTERMS.format)), None)
    if format_node is None:
        return None
    value = _first(graph, format_node, RDF.value)
    if value and "/" in value:
        return value
    return _label(graph, format_node) or _tail(format_node)


def _extra(graph: Graph, node: Node, themes: list[Node]) -> dict[str, Any]:
    """Small DCAT fields the model has no place for."""
    extra: dict[str, Any] = {}
    if theme_uris := [uri for theme in themes if (uri := _uri(theme))]:
        extra["themes"] = theme_uris
    for key, predicate in (("modified", DCTERMS.modified), ("access_rights", DCTERMS.accessRights),
                           ("conforms_to", DCTERMS.conformsTo)):
        if value := _first(graph, node, predicate):
            extra[key] = value
    if local_ids := [value for o in _objects(graph, node, DCTERMS.identifier)
                     if (value := clean(str(o))) and classify_identifier(value) is None]:
        extra["identifiers"] = local_ids
    if contacts := _objects(graph, node, DCAT.contactPoint):
        extra["contact_point"] = _contact(graph, contacts[0])
    return extra


def _contact(graph: Graph, node: Node) -> dict[str, str]:
    contact = {"name": _label(graph, node),
               "email": (_first(graph, node, VCARD.hasEmail) or "").removeprefix("mailto:"),
               "url": _first(graph, node, VCARD.hasURL)}
    if isinstance(node, URIRef) and not any(contact.values()):
        contact["uri"] = str(node)
    return {key: value for key, value in contact.items() if value}
