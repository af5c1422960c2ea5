"""What every parser shares: the document it reads, safe decoding of text and XML, and limits.

Harvested metadata is hostile until proven otherwise: files may declare XML entities, point at
external resources, be huge, be UTF-16 without saying so, or mix encodings. Parsers read bytes only
through these functions so that every format gets the same protection.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from datetime import datetime

from lxml import etree

from discovery.errors import ParseError, UnsafeInputError
from discovery.model import AnyRecord, ParseResult, Problem, Provenance, content_hash, utcnow
from discovery.sources.budgets import Meter

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
MAX_FIELD_CHARS = 200_000  # a longer title/description/question is not metadata; quarantine it


@dataclass
class Document:
    """Bytes from somewhere, with where and when they were fetched."""

    location: str
    content: bytes
    fetched_at: datetime = field(default_factory=utcnow)
    media_type: str | None = None

    @cached_property
    def hash(self) -> str:
        """Computed once: every record of a document carries it in its provenance."""
        return content_hash(self.content)

    def provenance(self, source: str, record_key: str | None = None,
                   catalogue: str | None = None) -> Provenance:
        return Provenance(source=source, location=self.location, fetched_at=self.fetched_at,
                          content_hash=self.hash, record_key=record_key, catalogue=catalogue)

    def fail(self, reason: str, record: str | None = None, hint: str | None = None) -> ParseError:
        return ParseError(reason, file=self.location, record=record, hint=hint)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")


def sniff_encoding(data: bytes) -> str:
    """The encoding a document is in: BOM first, then UTF-16 without BOM, then the XML declaration."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:200]
    if len(head) >= 4 and head[0] == 0 and head[1] != 0:
        return "utf-16-be"
    if len(head) >= 4 and head[1] == 0 and head[0] != 0:
        return "utf-16-le"
    match = _XML_ENCODING.match(head)
    if match:
        try:
            return codecs.lookup(match.group(1).decode("ascii")).name
        except LookupError:
            pass
    return "utf-8"


def decode_text(doc: Document) -> str:
    """Text of a document. Invalid UTF-8 falls back to cp1252 (the usual culprit), never to garbage."""
    if not doc.content.strip():
        raise doc.fail("empty file", hint="check the harvest; nothing to parse")
    encoding = sniff_encoding(doc.content)
    data = doc.content
    for bom, name in _BOMS:
        if data.startswith(bom) and name == encoding:
            data = data[len(bom):]
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if encoding != "utf-8":
            raise doc.fail(f"not valid {encoding}: {error.reason} at byte {error.start}") from None
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise doc.fail(f"not valid UTF-8 or cp1252 at byte {error.start}",
                           hint="re-export the file as UTF-8") from None


def parse_json(doc: Document) -> Any:
    """JSON of a whole document; a malformed or truncated one fails naming where it broke."""
    try:
        return json.loads(decode_text(doc))
    except json.JSONDecodeError as error:
        raise doc.fail(f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}",
                       hint="is the file truncated?") from None
    except RecursionError:
        raise doc.fail("JSON nested too deeply") from None


def read_json_records(doc: Document, items: Iterable[Any],
                      read: Callable[[Any, Document, str], AnyRecord], *,
                      key: Callable[[dict[str, Any]], Any], noun: str, hint: str) -> ParseResult:
    """One record per JSON object; an object that cannot be read is a Problem carrying its JSON,
    and the others still count. A document with no object at all fails, with the hint."""
    result = ParseResult()
    for position, item in enumerate(items, start=1):
        name = str((key(item) if isinstance(item, dict) else None) or f"{noun} {position}")
        try:
            result.records.append(read(item, doc, name))
        except (ValueError, TypeError, AttributeError) as error:
            result.problems.append(Problem(record=name, reason=f"{type(error).__name__}: {error}",
                                           raw=json.dumps(item, ensure_ascii=False)[:20000]))
    if not result.records and not result.problems:
        raise doc.fail(f"no {noun} found", hint=hint)
    return result


# Atomic and possessive, each item ending at its first terminator: no backtracking on a mutated,
# unclosed prologue (see `ddi._ROOT_TAG`).
_PROLOG = re.compile(r"(?><\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->"
                     r"|<!DOCTYPE[^\[>]*(?:\[[^\]]*\])?\s*>|\s+)*+")
_ROOT = re.compile(r"<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def root_name(head: str) -> str | None:
    """Local name of an XML document's root element, read from the text of its head (past any
    declaration, comments, processing instructions and DOCTYPE), for sniffing."""
    if not head.startswith("<"):
        return None
    prolog = _PROLOG.match(head)  # always matches, if only the empty string
    match = _ROOT.match(head, prolog.end() if prolog else 0)
    return match.group(1) if match else None


XML_CHUNK_BYTES = 1024 * 1024  # fed to libxml2 a megabyte at a time, the budget checked between
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _xml_parser_options() -> dict[str, Any]:
    return dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                huge_tree=False, remove_comments=True, remove_pis=True, recover=False)


def _xml_chunks(doc: Document) -> Iterator[bytes]:
    """The document as bytes libxml2 reads, a chunk at a time. lxml reads UTF-16 with a BOM, but
    not the many exports whose declaration disagrees, so UTF-16/32 is transcoded to UTF-8 chunk by
    chunk (the whole text at once cost five times the file in memory) and the declaration dropped."""
    if not doc.content.strip():
        raise doc.fail("empty file", hint="check the harvest; nothing to parse")
    if len(doc.content) > MAX_DOCUMENT_BYTES:
        raise UnsafeInputError(f"document is {len(doc.content)} bytes, over the "
                               f"{MAX_DOCUMENT_BYTES} limit", file=doc.location)
    data = memoryview(doc.content)
    encoding = sniff_encoding(doc.content)
    if not encoding.startswith(("utf-16", "utf-32")):
        for start in range(0, len(data), XML_CHUNK_BYTES):
            yield bytes(data[start:start + XML_CHUNK_BYTES])
        return
    start = next((len(bom) for bom, name in _BOMS if doc.content.startswith(bom) and name == encoding), 0)
    decoder = codecs.getincrementaldecoder(encoding)()
    first = True
    for offset in range(start, len(data), XML_CHUNK_BYTES):
        try:
            text = decoder.decode(data[offset:offset + XML_CHUNK_BYTES],
                                  final=offset + XML_CHUNK_BYTES >= len(data))
        except UnicodeDecodeError as error:
            raise doc.fail(f"not valid {encoding}: {error.reason} "
                           f"at byte {offset - start + error.start}") from None
        if first:
            text, first = _XML_DECLARATION.sub("", text, count=1), False
        yield text.encode("utf-8")


def _refuse_declared_entities(doc: Document, root: etree._Element) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise UnsafeInputError("XML declares entities (XXE or entity-expansion risk); refused",
                               file=doc.location, hint="strip the DOCTYPE from the export")


def _refuse_entity_references(doc: Document, nodes: Iterable[etree._Element]) -> None:
    if any(isinstance(node, etree._Entity) for node in nodes):
        raise UnsafeInputError("XML uses undeclared entity references; refused", file=doc.location)


def parse_xml(doc: Document, meter: Meter | None = None) -> etree._Element:
    """Parse XML with entity expansion, DTD loading and network access off, under the budget.

    A document that declares entities is refused outright: real metadata never needs them, and
    they are how XXE and billion-laughs attacks work.
    """
    meter = meter or Meter(doc)
    parser = etree.XMLParser(**_xml_parser_options())
    try:
        for chunk in _xml_chunks(doc):
            parser.feed(chunk)
            meter.check(memory=True)
        root = parser.close()
    except etree.XMLSyntaxError as error:
        raise doc.fail(f"malformed XML: {error}", hint="is the file truncated?") from None
    _refuse_declared_entities(doc, root)
    _refuse_entity_references(doc, root.iter())
    return root


def iter_xml(doc: Document, meter: Meter, tags: Iterable[str]) -> Iterator[tuple[str, etree._Element]]:
    """("start" | "end", element) events for the elements named by `tags` (`{*}var`), as the
    document is read, for parsers that clear what they have used (DDI-Codebook variables); the same
    refusals as `parse_xml`. Events for every element cost 3 s per 20 MB of DDI; libxml2 filters
    by tag for free. When the events run out the tree holds whatever the caller left in it."""
    parser = etree.XMLPullParser(events=("start", "end"), tag=list(tags), **_xml_parser_options())
    checked_dtd = external_dtd = False
    chunks = _xml_chunks(doc)
    try:
        while True:
            chunk = next(chunks, None)
            if chunk is None:
                root = parser.close()
            else:
                parser.feed(chunk)
                meter.check(memory=True)
            for event, element in parser.read_events():
                if not checked_dtd:
                    checked_dtd = True
                    _refuse_declared_entities(doc, element)
                    docinfo = element.getroottree().docinfo
                    external_dtd = bool(docinfo.system_url or docinfo.public_id)
                if external_dtd and event == "end":  # only an external DTD lets a reference through
                    _refuse_entity_references(doc, element.iter())
                yield event, element
            if chunk is None:
                if external_dtd:
                    _refuse_entity_references(doc, root.iter())
                return
    except etree.XMLSyntaxError as error:
        raise doc.fail(f"malformed XML: {error}", hint="is the file truncated?") from None


def clean(text: str | None) -> str | None:
    """Collapse whitespace; None for empty. Markup stays as text: output layers escape it."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def clean_block(text: str | None) -> str | None:
    """Like `clean` but keeps paragraph breaks, for abstracts and descriptions."""
    if text is None:
        return None
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    joined = "\n\n".join(p for p in paragraphs if p)
    return joined or None


# `[^<>]` not `[^>]`: from every unclosed "<a" the latter scanned to the end (80 KB: 5.5 s)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")
_BLOCK_TAGS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}


def strip_markup(text: str | None) -> str | None:
    """Plain text from a field that holds HTML: tags dropped (block tags become line breaks),
    entities unescaped. Never rendered as HTML, so what survives is inert text."""
    if text is None:
        return None
    if "<" in text:
        text = _TAG.sub(lambda m: "\n\n" if m.group(2).lower() in _BLOCK_TAGS else "", text)
    return clean_block(html.unescape(text))
