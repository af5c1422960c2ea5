"""The app factory: the JSON API, the web pages and their static files over one set of services.
The API reference at /docs is rendered here from the OpenAPI schema, so it needs no CDN script.

`create_app(data_dir)` is what `discovery serve` runs and what tests start on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from discovery.api.errors import install_error_handlers
from discovery.api.routes import router as api_router
from discovery.api.services import Services
from discovery.web import pages

DESCRIPTION = """Search studies, datasets and variables gathered from many research-data
catalogues, with the grants that funded them. Pages for people live at `/`; this API returns
JSON with the same content. Errors are `{"error": {"status", "message", "hint"}}`."""


def create_app(data_dir: str | Path, *, site_name: str = "Discovery",
               base_url: str | None = None) -> FastAPI:
    services = Services(data_dir, site_name=site_name, base_url=base_url)
    app = FastAPI(title=f"{site_name} API", version="1", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.services = services
    app.include_router(api_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    install_error_handlers(app, pages.error_page)
    return app
