"""The app factory: the JSON API, the web pages and their static files over one set of services.
The API reference at /docs is rendered here from the OpenAPI schema, so it needs no CDN script.

`create_app(data_dir)` is what `discovery serve` runs and what tests start on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from discovery.api.errors import install_error_handlers
from discovery.api.routes import router as api_router
from discovery.api.services import Services
from discovery.web import pages

HANDLER_THREADS = 4
DESCRIPTION = """Search studies, datasets and variables gathered from many research-data
catalogues, with the grants that funded them. Pages for people live at `/`; this API returns
JSON with the same content. Errors are `{"error": {"status", "message", "hint"}}`."""


@asynccontextmanager
async def few_threads(app: FastAPI) -> AsyncIterator[None]:
    """Handlers are CPU-bound Python: dozens of threads would share the GIL and stretch every
    request, so a few threads serve and the rest wait their turn in order (a shorter tail)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = HANDLER_THREADS
    yield


def create_app(data_dir: str | Path, *, site_name: str = "Discovery",
               base_url: str | None = None) -> FastAPI:
    services = Services(data_dir, site_name=site_name, base_url=base_url)
    app = FastAPI(title=f"{site_name} API", version="1", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=few_threads)
    app.state.services = services
    app.include_router(api_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    install_error_handlers(app, pages.error_page)
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn's worker processes call (`discovery serve --workers N`): each opens its
    own services from DISCOVERY_DATA and DISCOVERY_BASE_URL."""
    return create_app(os.environ.get("DISCOVERY_DATA", "data"),
                      base_url=os.environ.get("DISCOVERY_BASE_URL") or None)
