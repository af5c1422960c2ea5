"""The OAI-PMH 2.0 endpoint at /oai (GET with a query string, or POST with a form), answered by
`oai.provider`. Left out of the OpenAPI document: its contract is the OAI-PMH specification,
and every answer is XML with HTTP 200, errors included, as the protocol requires.

Item identifiers take the host of --base-url (`oai:discovery.example.org:<id>`), or
`oai:discovery:` without one, so they do not change with the address a harvester uses. The
contact address Identify must give comes from DISCOVERY_ADMIN_EMAIL.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from discovery.server.services import Services, services_of
from discovery.server.urls import site_url
from discovery.errors import CatalogueError
from discovery.oai.ledger import Ledger
from discovery.oai.provider import Provider, Repository

MEDIA_TYPE = "text/xml; charset=utf-8"
MAX_FORM_FIELDS = 20
router = APIRouter(include_in_schema=False)
_ledgers = threading.local()  # one ledger (a SQLite connection) per thread and cache folder


def _ledger(services: Services) -> Ledger:
    """The ledger in the services' cache folder: the data folder itself, or for a database a
    folder of the server's own, as the ledger is derived from the catalogue's history."""
    ledgers: dict[str, Ledger] = _ledgers.__dict__.setdefault("by_folder", {})
    key = str(services.cache_dir)
    if key not in ledgers:
        try:
            services.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CatalogueError(f"cannot make the cache folder: {error.strerror}",
                                 file=str(services.cache_dir),
                                 hint="pass a writable --cache-dir to `discovery serve`") from None
        ledgers[key] = Ledger(services.catalogue, services.cache_dir)
    return ledgers[key]


def _answer(request: Request, arguments: list[tuple[str, str]]) -> Response:
    services = services_of(request)
    repository = Repository.at(services.site_name, site_url(request, "/oai"), services.base_url,
                               os.environ.get("DISCOVERY_ADMIN_EMAIL") or None)
    body = Provider(services.catalogue, _ledger(services), repository).respond(arguments)
    return Response(body, media_type=MEDIA_TYPE)


@router.get("/oai")
def oai_get(request: Request) -> Response:
    return _answer(request, request.query_params.multi_items())


@router.post("/oai")
async def oai_post(request: Request) -> Response:
    """POST carries the arguments as an `application/x-www-form-urlencoded` body."""
    text = (await request.body()).decode("utf-8", "replace")
    try:
        arguments = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        arguments = [("verb", "")]  # more fields than any verb takes: answered as badVerb
    return await run_in_threadpool(_answer, request, arguments)
