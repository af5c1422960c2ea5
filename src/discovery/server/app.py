"""The app factory: the JSON API, the web pages and their static files over one set of services,
behind the HTTP guards (`middleware.py`, `methods.py`): security headers, allowed host names,
HEAD and OPTIONS, a request-body limit, and rate limits on the expensive routes (`limits.py`).
The API reference at /docs is rendered from the OpenAPI schema (`pages.py`), so it needs no CDN script.

`create_app(target)` is what `discovery serve` runs and what tests start on 127.0.0.1: a data
folder, or the URL of a PostgreSQL catalogue (a replica's will do: the app never writes to it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio.to_thread

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from discovery.server.dump import router as dump_router
from discovery.server.errors import install_error_handlers
from discovery.server.limits import Rate, RateLimiter
from discovery.server.methods import HeadAndOptions
from discovery.server.page_cache import PAGE_BYTES, PageCache
from discovery.server.middleware import LOCAL_HOSTS, AllowedHosts, BodyLimit, SecurityHeaders
from discovery.server.oai import router as oai_router
from discovery.server.routes import router as api_router
from discovery.server.services import Services
from discovery.index.embed import use_threads
from discovery.server import harmonise_page, pages, search_page
from discovery.server.rendering import STATIC, error_page
from discovery.server.negotiation import NegotiatedJson
from discovery.search.deadline import FACET_SECONDS, SEARCH_SECONDS

HANDLER_THREADS = 4
PAGE_CACHE_MB = "DISCOVERY_PAGE_CACHE_MB"
# The largest harmonise request the schema allows is about this much JSON (400 items of 1,000
# characters with 20 options of 200); a 400 MB body used to be read whole.
MAX_BODY_BYTES = 2_000_000
DESCRIPTION = """Search studies, datasets and variables gathered from many research-data
catalogues, with the grants that funded them. Pages for people live at `/`; this API returns
JSON with the same content. Errors are `{"error": {"status", "message", "hint"}}`."""


@asynccontextmanager
async def few_threads(app: FastAPI) -> AsyncIterator[None]:
    """Handlers are CPU-bound Python: dozens of threads would share the GIL and stretch every
    request, so a few threads serve and the rest wait their turn in order (a shorter tail)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = HANDLER_THREADS
    yield


def create_app(target: str | Path, *, site_name: str = "Discovery", base_url: str | None = None,
               allowed_hosts: Sequence[str] | None = None,
               rates: dict[str, Rate] | None = None, search_seconds: float = SEARCH_SECONDS,
               facet_seconds: float = FACET_SECONDS, cache_dir: str | Path | None = None,
               page_cache_bytes: int = PAGE_BYTES) -> FastAPI:
    """`allowed_hosts`: the names the site answers to besides its local ones and `base_url`'s
    (default: DISCOVERY_ALLOWED_HOSTS, comma-separated; "*" for any). `rates`: the rate limits
    per kind of work (default `limits.DEFAULT_RATES`). `search_seconds`, `facet_seconds`: the
    time limits of a search and of its facet counts (`search/deadline.py`). `cache_dir`: where
    the process keeps files it derives (`backends.cache_folder`). `page_cache_bytes`: memory for
    whole answers kept per process (`page_cache.py`); 0 serves every request afresh, which is how
    bench/api_load.py measures the pages uncached."""
    use_threads(1)  # a request's text is short; the server's workers fill the cores
    services = Services(target, site_name=site_name, base_url=base_url,
                        search_seconds=search_seconds, facet_seconds=facet_seconds,
                        cache_dir=cache_dir)
    app = FastAPI(title=f"{site_name} API", version="1", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=few_threads)
    app.state.services = services
    app.state.limits = RateLimiter(rates)
    app.include_router(api_router)
    app.include_router(oai_router)
    app.include_router(dump_router)
    app.include_router(harmonise_page.router)
    app.include_router(search_page.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_error_handlers(app, error_page)
    if allowed_hosts is None:
        allowed_hosts = [h.strip() for h in os.environ.get("DISCOVERY_ALLOWED_HOSTS", "").split(",")
                         if h.strip()]
    hosts = [*LOCAL_HOSTS, *allowed_hosts] + ([urlsplit(base_url).hostname or ""] if base_url else [])
    app.add_middleware(NegotiatedJson)  # a page's address asked for JSON gets the API's answer
    if page_cache_bytes > 0:  # after HEAD became GET
        app.add_middleware(PageCache, target=services.target, max_bytes=page_cache_bytes)
    app.add_middleware(HeadAndOptions)  # the last added runs first
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(AllowedHosts, hosts=hosts)
    app.add_middleware(SecurityHeaders)
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn's worker processes call (`discovery serve --workers N`): each opens its
    own services from DISCOVERY_DATA (the folder or URL to read), DISCOVERY_BASE_URL,
    DISCOVERY_CACHE_DIR and DISCOVERY_PAGE_CACHE_MB (`discovery serve --page-cache-mb`, which
    checks it is a number)."""
    return create_app(os.environ.get("DISCOVERY_DATA", "data"),
                      base_url=os.environ.get("DISCOVERY_BASE_URL") or None,
                      cache_dir=os.environ.get("DISCOVERY_CACHE_DIR") or None,
                      page_cache_bytes=int(os.environ.get(PAGE_CACHE_MB) or PAGE_BYTES >> 20) << 20)

