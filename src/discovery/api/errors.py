"""Errors as JSON under /api and as an HTML page elsewhere, always with a message that says
what was wrong and, where we know, what to do."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from discovery.api.search_params import BadRequest
from discovery.api.services import ServiceUnavailable
from discovery.errors import DiscoveryError, NotFoundError

PageRenderer = Callable[[Request, int, str, str | None], Response]


def status_of(error: DiscoveryError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, BadRequest):
        return 400
    if isinstance(error, ServiceUnavailable):
        return 503
    return 500


def install_error_handlers(app: FastAPI, render_page: PageRenderer) -> None:
    def respond(request: Request, status: int, message: str, hint: str | None = None,
                record: str | None = None) -> Response:
        if request.url.path.startswith("/api/") or request.url.path == "/api":
            body = {"status": status, "message": message, "hint": hint, "record": record}
            return JSONResponse({"error": body}, status_code=status)
        return render_page(request, status, message, hint)

    @app.exception_handler(DiscoveryError)
    async def discovery_error(request: Request, error: DiscoveryError) -> Response:
        return respond(request, status_of(error), error.reason, error.hint, error.record)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"] if p not in ("query", "path", "body"))
            problems.append(f"{where or 'request'}: {item['msg']}")
        return respond(request, 422, "invalid request: " + "; ".join(problems),
                       "see /docs for the parameters each route takes")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        message = "no such page" if error.status_code == 404 else str(error.detail)
        hint = "see /docs for the API routes" if error.status_code == 404 else None
        return respond(request, error.status_code, message, hint)
