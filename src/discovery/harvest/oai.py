"""Harvesting an OAI-PMH repository: ListRecords, page after page, by resumption token.

Each page comes back as a Document for the `oai-pmh` parser; this module reads only what steers
the paging (errors, the token) through `discovery.sources.oai`, which owns the OAI-PMH XML.
Incremental harvests pass `from_`: the `responseDate` of the first page of the previous harvest
(`sources.oai.response_date`) is the safe value, since it is the repository's own clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, datetime
from typing import Protocol
from urllib.parse import urlencode

import httpx
from lxml import etree

from discovery.errors import HarvestError, ParseError
from discovery.harvest import http
from discovery.sources import oai
from discovery.sources.base import Document

MAX_PAGES = 100_000
Datestamp = str | date | datetime


class Fetch(Protocol):
    def __call__(self, url: str, *, client: httpx.Client | None = None) -> Document: ...


def harvest_oai(base_url: str, *, metadata_prefix: str = "oai_ddi25", set_spec: str | None = None,
                from_: Datestamp | None = None, until: Datestamp | None = None,
                client: httpx.Client | None = None, fetch: Fetch = http.fetch,
                max_pages: int = MAX_PAGES,
                allow: http.Allowance = http.PUBLIC_ONLY) -> Iterator[Document]:
    """Yield every ListRecords page (location = the request URL), `noRecordsMatch` included.

    Strings for `from_`/`until` are sent as given and dates as days; a datetime is fitted to
    the granularity the repository's Identify declares (one extra request), so pass a stored
    responseDate as `oai.parse_datestamp(text)`. Raises HarvestError on an OAI-PMH
    error, a repeated resumption token, or more than `max_pages` pages. `allow` names the
    non-public addresses the client this call opens may reach (a `client` carries its own).
    """
    with http.session(client, allow=allow) as session:
        window = _window(base_url, from_, until, session, fetch)
        url = request_url(base_url, verb="ListRecords", metadataPrefix=metadata_prefix,
                          set=set_spec, **window)
        seen: set[str] = set()
        for _ in range(max_pages):
            doc = fetch(url, client=session)
            token = oai.resumption_token(_read(doc))
            yield doc
            if token is None:
                return
            if token in seen:
                raise HarvestError(f"resumption token {token!r} came back twice", file=doc.location,
                                   hint="the repository is paging in a loop; report it to them")
            seen.add(token)
            url = request_url(base_url, verb="ListRecords", resumptionToken=token)
        raise HarvestError(f"still more pages after {max_pages}; stopped", file=base_url,
                           hint="raise the page limit if the repository is really this large")


def split_records(page: Document, base_url: str, metadata_prefix: str) -> Iterator[Document]:
    """Each record of a ListRecords page as its own GetRecord document, located at its GetRecord
    URL: the catalogue then keeps every OAI record as one source whose next version (or deletion)
    replaces it, whichever page it arrives on. A page that cannot be split is passed on whole, so
    its parse error is reported with the page's URL."""
    try:
        root = _read(page)
    except HarvestError:
        yield page
        return
    for record in root.iterfind(f"{{{oai.NS}}}ListRecords/{{{oai.NS}}}record"):
        identifier = record.findtext(f"{{{oai.NS}}}header/{{{oai.NS}}}identifier")
        if not identifier or not identifier.strip():
            yield page  # the parser reports the record that has no identifier
            continue
        location = request_url(base_url, verb="GetRecord", identifier=identifier.strip(),
                               metadataPrefix=metadata_prefix)
        envelope = etree.Element(f"{{{oai.NS}}}OAI-PMH", nsmap={None: oai.NS})
        etree.SubElement(envelope, f"{{{oai.NS}}}responseDate").text = oai.response_date(root)
        request = etree.SubElement(envelope, f"{{{oai.NS}}}request", verb="GetRecord",
                                   identifier=identifier.strip(), metadataPrefix=metadata_prefix)
        request.text = base_url
        etree.SubElement(envelope, f"{{{oai.NS}}}GetRecord").append(copy.deepcopy(record))
        yield Document(location=location, content=etree.tostring(envelope, encoding="UTF-8",
                                                                 xml_declaration=True),
                       fetched_at=page.fetched_at, media_type=page.media_type)


def identify(base_url: str, *, client: httpx.Client | None = None, fetch: Fetch = http.fetch,
             allow: http.Allowance = http.PUBLIC_ONLY) -> oai.Repository:
    """The repository's Identify answer: granularity, earliest datestamp, deletion policy."""
    with http.session(client, allow=allow) as session:
        doc = fetch(request_url(base_url, verb="Identify"), client=session)
    repository = oai.read_identify(_read(doc))
    if repository is None:
        raise HarvestError("Identify response has no Identify element", file=doc.location,
                           hint="is this URL an OAI-PMH base URL?")
    return repository


def request_url(base_url: str, **arguments: str | None) -> str:
    """`base_url` with the OAI-PMH arguments that are set, URL-encoded (tokens included)."""
    query = urlencode({name: value for name, value in arguments.items() if value is not None})
    return f"{base_url}{'&' if '?' in base_url else '?'}{query}"


def _window(base_url: str, from_: Datestamp | None, until: Datestamp | None,
            session: httpx.Client, fetch: Fetch) -> dict[str, str | None]:
    """The `from`/`until` arguments, at the repository's granularity where it matters."""
    granularity = oai.SECONDS_GRANULARITY
    if isinstance(from_, datetime) or isinstance(until, datetime):
        granularity = identify(base_url, client=session, fetch=fetch).granularity
    return {name: value if value is None or isinstance(value, str)
            else oai.format_datestamp(value, granularity)
            for name, value in (("from", from_), ("until", until))}


def _read(doc: Document) -> etree._Element:
    """The parsed page; HarvestError for anything but a normal page or `noRecordsMatch`."""
    try:
        root = oai.oai_root(doc)
    except ParseError as error:
        raise HarvestError(f"unreadable OAI-PMH response: {error.reason}", file=doc.location,
                           hint=error.hint or "is this URL an OAI-PMH base URL?") from None
    errors = oai.fatal_errors(root)
    if errors:
        raise HarvestError(oai.describe_errors(errors), file=doc.location,
                           hint=oai.ERROR_HINTS.get(errors[0][0]))
    return root
