"""File downloads: the media types the API and the pages send files in, and the one response
shape for a download, so a crosswalk from `/api/harmonise.csv` and from the harmonise page's
button are the same file."""

from __future__ import annotations

from fastapi.responses import Response

from discovery.harmonise import crosswalk

DOWNLOAD_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def attachment(body: bytes | str, media_type: str, filename: str) -> Response:
    """A file download."""
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def crosswalk_download(result: crosswalk.Harmonisation, fmt: str) -> Response:
    """The crosswalk file in `fmt` (a key of DOWNLOAD_TYPES)."""
    return attachment(crosswalk.encoded(result, fmt), DOWNLOAD_TYPES[fmt], f"crosswalk.{fmt}")
