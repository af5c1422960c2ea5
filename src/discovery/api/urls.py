"""Absolute URLs of pages: from --base-url when the server sits behind a proxy, else from the
request, so canonical links, JSON-LD and the sitemap agree."""

from __future__ import annotations

from fastapi import Request

from discovery.api.services import Services


def site_root(request: Request) -> str:
    services: Services = request.app.state.services
    return services.base_url or str(request.base_url).rstrip("/")


def site_url(request: Request, path: str) -> str:
    return site_root(request) + path
