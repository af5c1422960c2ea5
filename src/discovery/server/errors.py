"""Errors as JSON under /api and as an HTML page elsewhere, always with a message that says
what was wrong and, where we know, what to do.

A client's mistake is a 4xx: a malformed parameter or a cursor from another query (400), no such
record (404), a method the path does not take (405, with `Allow`), a body over the limit (413),
a parameter outside its schema (422), too many expensive requests (429, with `Retry-After`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from discovery.server.limits import TooManyRequests
from discovery.server.methods import allowed_methods
from discovery.server.search_params import BadRequest
from discovery.server.services import ServiceUnavailable
from discovery.errors import DiscoveryError, NotFoundError
from discovery.index.columns import FilterError
from discovery.search.cursor import CursorError
from discovery.search.deadline import SearchTimeout

PageRenderer = Callable[[Request, int, str, str | None], Response]
TOO_LARGE = "the request body is larger than this server accepts"
TOO_LARGE_HINT = "send fewer or shorter items; run `discovery harmonise` on files for large jobs"


def status_of(error: DiscoveryError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, BadRequest | CursorError | FilterError):
        return 400
    if isinstance(error, TooManyRequests):
        return 429
    if isinstance(error, ServiceUnavailable | SearchTimeout):
        return 503
    return 500


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_response(request: Request, status: int, message: str, hint: str | None = None,
                   record: str | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """The error body under /api, the error page elsewhere (the renderer `install_error_handlers`
    was given)."""
    if is_api(request):
        body = {"status": status, "message": message, "hint": hint, "record": record}
        response: Response = JSONResponse({"error": body}, status_code=status)
    else:
        response = request.app.state.render_error(request, status, message, hint)
    response.headers.update(headers or {})
    return response


def install_error_handlers(app: FastAPI, render_page: PageRenderer) -> None:
    app.state.render_error = render_page

    @app.exception_handler(DiscoveryError)
    async def discovery_error(request: Request, error: DiscoveryError) -> Response:
        retry_after = getattr(error, "retry_after", None)
        return error_response(request, status_of(error), error.reason, error.hint, error.record,
                              {"Retry-After": str(retry_after)} if retry_after else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"] if p not in ("query", "path", "body"))
            problems.append(f"{where or 'request'}: {item['msg']}")
        return error_response(request, 422, "invalid request: " + "; ".join(problems),
                              "see /docs for the parameters each route takes")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        status, headers = error.status_code, dict(error.headers or {})
        message, hint = str(error.detail), None
        if status == 404:
            message, hint = "no such page", "see /docs for the API routes"
        elif status == 405:
            allowed = allowed_methods(request.app, request.scope)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not a method {request.url.path} takes"
            hint = f"use {', '.join(allowed)}"
        elif status == 413:
            message, hint = TOO_LARGE, TOO_LARGE_HINT
        return error_response(request, status, message, hint, headers=headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> Response:
        """A bug, answered in the usual error shape (the server logs the traceback)."""
        return error_response(request, 500, "the server failed on this request",
                              "this is a bug; please report the URL")
