"""Real HTTP servers on 127.0.0.1 for harvesting tests.

`LocalServer` serves whatever a function replies to each request path; `OaiServer` is a small
OAI-PMH 2.0 repository (verbs Identify and ListRecords) over the records of the corpus
ListRecords page, which tests can change between harvests:

    with OaiServer(page_size=2) as server:
        docs = list(harvest_oai(server.url, allow=LOCAL))
        server.update(identifier, title="New title")   # new datestamp: now
        server.delete(other_identifier)
        server.fail_next(2)                            # the next two requests get HTTP 503
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from lxml import etree

from discovery.harvest.http import Allowance
from discovery.sources.base import parse_xml
from tests.conftest import CORPUS, load

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
CORPUS_LIST_RECORDS = CORPUS / "oai_pmh" / "oai_listrecords_cessda_datacatalogue_oai_ddi25.xml"
DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
LOCAL = Allowance.of(["127.0.0.1"])  # what tests allow the harvester to reach: these servers
_LIST_RECORDS_ARGUMENTS = {"verb", "metadataPrefix", "set", "from", "until", "resumptionToken"}


@dataclass
class Reply:
    """What the server sends back. `sized=False` omits Content-Length: the body then ends
    when the connection closes, as with a streamed export."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    sized: bool = True
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    trickle: float = 0.0  # seconds between bytes: the whole answer sent one byte at a time


Responder = Callable[[str], Reply]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        reply = self.server.respond(self.path)
        time.sleep(reply.delay)
        if reply.trickle:
            self._trickle(reply)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.sized:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        try:
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout, size limit): that is what some tests want

    def _trickle(self, reply: Reply) -> None:
        head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body)}\r\n\r\n"
        try:
            for byte in head.encode("ascii") + reply.body:
                self.wfile.write(bytes([byte]))
                time.sleep(reply.trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `requests` instead of a log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, respond: Responder, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.respond = respond
        self.requests: list[str] = []


class LocalServer:
    """A threaded HTTP server on a free port of `host` (any loopback address), answering GETs
    with `respond(path)`."""

    def __init__(self, respond: Responder, host: str = "127.0.0.1") -> None:
        self._respond = respond
        self._host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalServer:
        self._server = _Server(self._respond, self._host)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """`http://HOST:PORT`, without a trailing slash."""
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[str]:
        """Path and query of every request received so far, in order."""
        return self._server.requests if self._server is not None else []


@dataclass
class OaiRecord:
    identifier: str
    datestamp: str
    sets: list[str]
    metadata: etree._Element | None  # the element inside <metadata>; None for a bare deletion
    deleted: bool = False


def corpus_records(path: Path = CORPUS_LIST_RECORDS) -> list[OaiRecord]:
    """The records of a ListRecords page, deleted headers included, in document order."""
    ns = {"o": OAI_NS}
    records = []
    for element in parse_xml(load(path)).iterfind("o:ListRecords/o:record", ns):
        header = element.find("o:header", ns)
        payload = element.find("o:metadata/*", ns)
        records.append(OaiRecord(
            identifier=header.findtext("o:identifier", namespaces=ns).strip(),
            datestamp=header.findtext("o:datestamp", namespaces=ns).strip(),
            sets=[spec.text.strip() for spec in header.iterfind("o:setSpec", ns)],
            metadata=None if payload is None else copy.deepcopy(payload),
            deleted=header.get("status") == "deleted",
        ))
    return records


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OaiServer(LocalServer):
    """An OAI-PMH repository that pages its records `page_size` at a time.

    Honours metadataPrefix, set (with hierarchy: `language` includes `language:en`), from/until
    (inclusive, at either granularity) and resumptionToken (which must come alone, as the
    protocol says). Answers noRecordsMatch, badResumptionToken, badArgument, badVerb and
    cannotDisseminateFormat as a real repository would.
    """

    def __init__(self, records: list[OaiRecord] | None = None, *, page_size: int = 2,
                 metadata_prefix: str = "oai_ddi25", granularity: str = SECONDS) -> None:
        super().__init__(self._answer)
        self.records = corpus_records() if records is None else records
        self.page_size = page_size
        self.metadata_prefix = metadata_prefix
        self.granularity = granularity
        self.loop_tokens = False  # when set, every page after the first offers the same token
        self._generation = 0  # tokens from an older generation are refused (a restart)
        self._failures: list[Reply] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The repository's base URL."""
        return f"{self.root}/oai"

    # --- what tests change -------------------------------------------------------------

    def record(self, identifier: str) -> OaiRecord:
        for record in self.records:
            if record.identifier == identifier:
                return record
        raise KeyError(identifier)

    def update(self, identifier: str, datestamp: str | None = None, *,
               title: str | None = None) -> None:
        """Mark a record changed at `datestamp` (default now), optionally with a new study title."""
        with self._lock:
            record = self.record(identifier)
            if record.metadata is None:
                raise ValueError(f"{identifier} has no metadata to serve")
            if title is not None:
                titl = record.metadata.find("{*}stdyDscr/{*}citation/{*}titlStmt/{*}titl")
                titl.text = title
            record.datestamp = datestamp or self.now()
            record.deleted = False

    def delete(self, identifier: str, datestamp: str | None = None) -> None:
        """Mark a record deleted at `datestamp` (default now); it stays as a deleted header."""
        with self._lock:
            record = self.record(identifier)
            record.datestamp = datestamp or self.now()
            record.deleted = True

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next `count` requests with `status` instead of OAI-PMH."""
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        with self._lock:
            self._failures.extend(Reply(status, b"unavailable", headers) for _ in range(count))

    def expire_tokens(self) -> None:
        """Refuse every token handed out so far, as after a repository restart."""
        with self._lock:
            self._generation += 1

    def now(self) -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- the protocol --------------------------------------------------------------------

    def _answer(self, path: str) -> Reply:
        url = urlsplit(path)
        if url.path != "/oai":
            return Reply(404, b"not found")
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            pairs = parse_qsl(url.query, keep_blank_values=True)
            root = self._envelope(pairs)
            try:
                root.append(self._verb(pairs))
            except OaiError as error:
                root.append(_element("error", error.message, code=error.code))
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return Reply(200, body, {"Content-Type": "text/xml; charset=utf-8"})

    def _envelope(self, pairs: list[tuple[str, str]]) -> etree._Element:
        root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS})
        root.append(_element("responseDate", self.now()))
        known = {k: v for k, v in pairs if k in _LIST_RECORDS_ARGUMENTS}
        root.append(_element("request", self.url, **known))
        return root

    def _verb(self, pairs: list[tuple[str, str]]) -> etree._Element:
        arguments = dict(pairs)
        if len(arguments) != len(pairs):
            raise OaiError("badArgument", "repeated argument")
        verb = arguments.get("verb")
        if verb == "Identify":
            return self._identify()
        if verb == "ListRecords":
            return self._list_records(arguments)
        raise OaiError("badVerb", f"verb {verb!r} is not supported here")

    def _identify(self) -> etree._Element:
        identify = _element("Identify")
        earliest = min((r.datestamp for r in self.records), default=self.now())
        for name, value in (("repositoryName", "Discovery test repository"),
                            ("baseURL", self.url), ("protocolVersion", "2.0"),
                            ("adminEmail", "nobody@example.org"),
                            ("earliestDatestamp", _at_granularity(earliest, self.granularity)),
                            ("deletedRecord", "persistent"), ("granularity", self.granularity)):
            identify.append(_element(name, value))
        return identify

    def _list_records(self, arguments: dict[str, str]) -> etree._Element:
        unknown = set(arguments) - _LIST_RECORDS_ARGUMENTS
        if unknown:
            raise OaiError("badArgument", f"unknown arguments {sorted(unknown)}")
        if "resumptionToken" in arguments:
            if len(arguments) != 2:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
            query, offset = self._read_token(arguments["resumptionToken"])
        else:
            query, offset = arguments, 0
        matching = self._select(query)
        if not matching:
            raise OaiError("noRecordsMatch", "no records match the request")
        return self._page(query, matching, offset)

    def _select(self, query: dict[str, str]) -> list[OaiRecord]:
        prefix = query.get("metadataPrefix")
        if not prefix:
            raise OaiError("badArgument", "metadataPrefix is required")
        if prefix != self.metadata_prefix:
            raise OaiError("cannotDisseminateFormat", f"{prefix} is not offered")
        start = self._bound(query.get("from"), end=False)
        end = self._bound(query.get("until"), end=True)
        wanted_set = query.get("set")
        return [r for r in self.records
                if (start is None or _instant(r.datestamp) >= start)
                and (end is None or _instant(r.datestamp) <= end)
                and (wanted_set is None or any(s == wanted_set or s.startswith(wanted_set + ":")
                                               for s in r.sets))]

    def _bound(self, text: str | None, *, end: bool) -> datetime | None:
        if text is None:
            return None
        allowed = (10,) if self.granularity == DAY else (10, 20)
        try:
            if len(text) not in allowed:
                raise ValueError(text)
            instant = _instant(text)
        except ValueError:
            raise OaiError("badArgument", f"illegal datestamp {text!r}") from None
        if end and len(text) == 10:  # until a day means until that day's last second
            instant += timedelta(days=1, seconds=-1)
        return instant

    def _page(self, query: dict[str, str], matching: list[OaiRecord],
              offset: int) -> etree._Element:
        page = _element("ListRecords")
        for record in matching[offset:offset + self.page_size]:
            page.append(self._record(record))
        following = self.page_size if self.loop_tokens else offset + self.page_size
        token = self._token(query, following) if following < len(matching) else ""
        page.append(_element("resumptionToken", token, completeListSize=str(len(matching)),
                             cursor=str(offset)))
        return page

    def _record(self, record: OaiRecord) -> etree._Element:
        element = _element("record")
        header = _element("header", status="deleted") if record.deleted else _element("header")
        header.append(_element("identifier", record.identifier))
        header.append(_element("datestamp", _at_granularity(record.datestamp, self.granularity)))
        for spec in record.sets:
            header.append(_element("setSpec", spec))
        element.append(header)
        if not record.deleted and record.metadata is not None:
            metadata = _element("metadata")
            metadata.append(copy.deepcopy(record.metadata))
            element.append(metadata)
        return element

    def _token(self, query: dict[str, str], offset: int) -> str:
        """An opaque-looking token that carries the query, so paging is stateless; it holds
        `&`, `=` and `%` to check that clients URL-encode it."""
        state = {k: v for k, v in query.items() if k != "verb"}
        state.update(offset=str(offset), generation=str(self._generation))
        return urlencode(state)

    def _read_token(self, token: str) -> tuple[dict[str, str], int]:
        state = {k: v[0] for k, v in parse_qs(token).items()}
        offset = state.pop("offset", "")
        generation = state.pop("generation", "")
        if not offset.isdigit() or generation != str(self._generation):
            raise OaiError("badResumptionToken", "the token is invalid or has expired")
        return state, int(offset)


def _element(name: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.Element(f"{{{OAI_NS}}}{name}", attributes)
    element.text = text
    return element


def _instant(datestamp: str) -> datetime:
    value = datetime.fromisoformat(datestamp)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _at_granularity(datestamp: str, granularity: str) -> str:
    return datestamp[:10] if granularity == DAY else datestamp
