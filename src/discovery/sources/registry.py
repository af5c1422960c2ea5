"""Which parser reads a document: each format module says whether it recognises the bytes.

A format module exposes `FORMAT` (its name), `sniff(doc, head) -> bool` (cheap: looks at the
file name and the first few kilobytes, decoded) and `parse(doc) -> ParseResult`. The order below
matters: envelopes (OAI-PMH) before what they wrap, specific JSON shapes before generic JSON-LD.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from discovery.errors import DiscoveryError, ParseError, UnknownFormatError
from discovery.model import ParseResult
from discovery.sources.base import Document, parse_xml, sniff_encoding

FORMAT_MODULES = (
    "oai", "ddi", "dublin_core", "dcat", "gtr", "cessda_cmm", "ckan", "jsonld", "tabular",
    "questionnaire",
)
HEAD_BYTES = 8192


def formats() -> list[ModuleType]:
    return [import_module(f"discovery.sources.{name}") for name in FORMAT_MODULES]


def head_text(doc: Document) -> str:
    """The first few kilobytes as text, whatever the encoding, for sniffing."""
    head = doc.content[:HEAD_BYTES]
    return head.decode(sniff_encoding(head), errors="ignore").lstrip("\ufeff").lstrip()


def detect(doc: Document) -> ModuleType:
    if not doc.content.strip():
        raise ParseError("empty file", file=doc.location, hint="nothing to parse; remove it or re-fetch")
    head = head_text(doc)
    if "<!ENTITY" in head:
        parse_xml(doc)  # refuses entity declarations, whatever format the file claims to be
    for module in formats():
        if module.sniff(doc, head):
            return module
    raise UnknownFormatError(
        "unknown format: no parser recognises this file", file=doc.location,
        hint="supported: DDI, OAI-PMH, schema.org JSON-LD/HTML, Next.js pages, GtR, DCAT, CKAN, "
             "Dublin Core, CESSDA CMM, CSV/XLSX variable lists, questionnaires (txt, pdf, jsonl)")


def parse_document(doc: Document) -> ParseResult:
    """Parse with the detected format; any unexpected failure becomes a ParseError naming the file."""
    module = detect(doc)
    try:
        return module.parse(doc)
    except DiscoveryError:
        raise
    except RecursionError:
        raise ParseError("structure nested too deeply", file=doc.location) from None
    except Exception as error:  # a parser bug must not sink the batch; say which file and why
        raise ParseError(f"{module.FORMAT} parser failed: {type(error).__name__}: {error}",
                         file=doc.location, hint="the file is kept in quarantine; report it") from error
