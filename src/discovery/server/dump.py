"""`/api/dump`: the catalogue, or the records the parameters select, as one streamed download
(JSON lines, Parquet, or a ZIP of DDI Codebook files), with no cap on its size. The server holds
a batch at a time (`export/dump.py`) and reads one consistent snapshot through its own
connection, so a dump neither blocks nor is disturbed by other requests or an ingest.

Left out of the OpenAPI document: a contract test that calls every route with generated
parameters would stream the whole catalogue each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from discovery.server.search_params import BadRequest
from discovery.server.services import Services, services_of
from discovery.catalogue.backends import open_catalogue
from discovery.errors import DiscoveryError
from discovery.export.dump import DumpFormat, Selection, dump_format, selection

router = APIRouter(prefix="/api", include_in_schema=False)


@router.get("/dump")
def dump(request: Request, format: str = "jsonl",
         kind: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
         catalogue: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
         since: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}(T[\d:+Z.-]+)?$")] = None
         ) -> StreamingResponse:
    """?format=jsonl|parquet|ddi&kind=study&catalogue=UK Data Service&since=2024-01-01"""
    try:
        fmt = dump_format(format)
        chosen = selection(fmt, kind, catalogue, since)
    except DiscoveryError as error:
        raise BadRequest(error.reason, hint=error.hint) from None
    services = services_of(request)
    return StreamingResponse(
        _stream(services, fmt, chosen), media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="discovery-dump.{fmt.extension}"'})


def _stream(services: Services, fmt: DumpFormat, chosen: Selection) -> Iterator[bytes]:
    """The dump's bytes through a connection of its own, closed when the stream ends or the
    client goes away."""
    catalogue = open_catalogue(services.target)
    try:
        yield from fmt.chunks(catalogue, chosen)
    finally:
        catalogue.close()
