"""The data and servers the API and browser tests share, built once per test session.

Two data folders: the whole corpus (catalogue and links, no index) for checks that must see every
item page, and a slice of it (every source except the questionnaire banks) with a search index,
for search. Both hold one hostile record whose title and description carry script and
event-handler HTML, whose links are `javascript:` and `data:` URLs, and whose one variable's name
holds control characters. Servers are real uvicorn servers on 127.0.0.1, on free ports.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn

from discovery.server.app import create_app
from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents, expand
from discovery.index.build import update_index
from discovery.linking import link_catalogue

HOSTILE_DOI = "10.9999/hostile-record-1"
HOSTILE_TITLE = 'Hostile <script>window.__pwned=1</script> survey <img src=x onerror="window.__pwned=2">'
# Entity-encoded in the source so that the parser's tag stripping hands the markup through as text,
# the way an escaped title in a real catalogue's JSON would arrive.
HOSTILE = {
    "@context": "https://schema.org/",
    "@type": "Dataset",
    "name": HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;"),
    "description": ('&lt;img src=x onerror="window.__pwned=3"&gt; A record whose metadata tries to run '
                    'script &lt;/script&gt;&lt;script&gt;window.__pwned=4&lt;/script&gt; and must '
                    'stay text.'),
    "identifier": f"https://doi.org/{HOSTILE_DOI}",
    "keywords": ["hostile", '&lt;b onmouseover="window.__pwned=5"&gt;bold&lt;/b&gt;'],
    "temporalCoverage": "2020/2021",
    "spatialCoverage": '<svg onload="window.__pwned=6">',
    "creator": {"@type": "Person", "name": "Mallory &lt;i&gt;O'Hacker&lt;/i&gt;"},
    # Links that run script when clicked, each spelled the way a filter might miss it.
    "url": "javascript:window.__pwned=7",
    "sameAs": [" JavaScript:window.__pwned=8", "java\tscript:window.__pwned=9", "https://example.org/ok"],
    "distribution": [{"@type": "DataDownload", "contentUrl": "javascript:window.__pwned=10",
                      "encodingFormat": "CSV"}],
    "includedInDataCatalog": {"@type": "DataCatalog", "name": "Evil catalogue",
                              "url": "data:text/html,<script>window.__pwned=11</script>"},
    "license": "vbscript:window.__pwned=12",
    "variableMeasured": [{"@type": "PropertyValue", "name": "Q1\u0001\u000b",
                          "description": "A label with control characters \u0002 in it"}],
}
SCRIPT_LINKS = ("javascript:", "vbscript:", "data:")
SLICE = ("ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml", "ddi/ddi25_gesis_ZA2800_allbus_1996.xml",
         "ddi/ddi25_ukds_SN2000_family_life_work_before_1918.xml", "seeds", "catalogue_pages",
         "cessda_cmm_json", "schemaorg_dcat_ckan")
# A small catalogue with one record of every kind a page shows, for the link crawler and the
# questionnaire pages: a grant with outcomes and an organisation, a study with many variables,
# a questionnaire whose variables its questions measure, questionnaires from a file, datasets
# from schema.org, DCAT and CKAN.
CRAWL = ("seeds", "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml",
         "ddi/ddi33_insee_ehis2025_test_questionnaire_fr.xml", "instruments/GAD-7.pdf",
         "instruments/harmony_original_csv/GAD-7_English.csv", "cessda_cmm_json",
         "schemaorg_dcat_ckan")
SLICES = {"search": SLICE, "crawl": CRAWL}
INDEX_MODEL = "minilm"  # the faster of the packaged models; search quality is not under test here


@dataclass
class Site:
    data: Path
    url: str
    hostile_id: str


_sites: dict[str, Site] = {}
_lock = threading.Lock()


def _ingest(data: Path, targets: list[Path], hostile: Path, index: bool) -> str:
    catalogue = Catalogue(data)
    try:
        report = ingest(catalogue, documents(expand([str(t) for t in targets] + [str(hostile)])))
        assert report.stored > 0, report.failures
        link_catalogue(catalogue)
        if index:
            update_index(catalogue, data, model=INDEX_MODEL)
        return catalogue.resolve(HOSTILE_DOI)
    finally:
        catalogue.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(data: Path, **app_options: Any) -> str:
    """Start the app (with `create_app`'s options) under uvicorn in a daemon thread; the URL once
    it accepts connections."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(data, **app_options), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def site(name: str, root: Path, corpus: Path) -> Site:
    """`full` (whole corpus, no index), `search` or `crawl` (slices with an index), built once."""
    with _lock:
        if name not in _sites:
            data = root / name
            shutil.rmtree(data, ignore_errors=True)
            data.mkdir(parents=True)
            hostile = root / "hostile.jsonld"
            hostile.write_text(json.dumps(HOSTILE), encoding="utf-8")
            targets = [corpus] if name == "full" else [corpus / part for part in SLICES[name]]
            hostile_id = _ingest(data, targets, hostile, index=name != "full")
            _sites[name] = Site(data, serve(data), hostile_id)
        return _sites[name]


class PageHandler(BaseHTTPRequestHandler):
    """A handler for a small made-up site: `answer` sends one page; nothing is logged."""

    def answer(self, body: bytes, kind: str = "text/html", headers: dict[str, str] | None = None
               ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def handled_site(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A small site that `handler` answers, on 127.0.0.1, for checking a crawler against pages
    made to hold one of each fault."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
