"""Where records are shown, and absolute URLs of pages: from --base-url when the server sits behind
a proxy, else from the request, so canonical links, JSON-LD and the sitemap agree."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request

from discovery.server.services import services_of
from discovery.model import Kind

STUDY_KINDS = (Kind.STUDY, Kind.DATASET)


# The page of each kind (a client asking for JSON gets the record's API response at the same URL,
# `server/negotiation.py`). Outputs, organisations and people share the generic record page.
PAGE_PREFIXES = {Kind.STUDY: "/items", Kind.DATASET: "/items", Kind.PROJECT: "/projects",
                 Kind.VARIABLE: "/variables", Kind.INSTRUMENT: "/questionnaires",
                 Kind.QUESTION: "/questions"}
RECORD_PREFIX = "/records"


def page_path(kind: Kind | str, rid: str) -> str:
    """The page a record of this kind is shown on (the canonical URL path): every kind has one."""
    return f"{PAGE_PREFIXES.get(Kind(kind), RECORD_PREFIX)}/{rid}"


def site_root(request: Request) -> str:
    services = services_of(request)
    return services.base_url or str(request.base_url).rstrip("/")


def site_url(request: Request, path: str) -> str:
    return site_root(request) + path


def page_url(request: Request, kind: Kind | str, rid: str) -> str:
    """The absolute URL of a record's page."""
    return site_url(request, page_path(kind, rid))


def query_url(path: str, params: list[tuple[str, str]]) -> str:
    """`path` with `params` as its query string."""
    return path + ("?" + urlencode(params) if params else "")
