"""HTTP methods beyond the routes' own: HEAD for every GET, OPTIONS for every path, and the
`Allow` header that a 405 and an OPTIONS answer carry (RFC 9110). FastAPI's routes take only the
methods they declare, so HEAD and OPTIONS were 405, and its 405 lost its `Allow` header.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: ASGIApp, scope: Scope) -> list[str]:
    """The methods some route of `app` takes at this scope's path, with HEAD beside GET and
    OPTIONS; empty when no route has the path. Asks each route through its public `matches`,
    which FastAPI's included routers answer for the routes inside them."""
    routes = getattr(getattr(app, "router", None), "routes", [])
    allowed = [method for method in METHODS if any(_takes(route, scope, method) for route in routes)]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(1, "HEAD")
    return allowed + ["OPTIONS"] if allowed else []


def _takes(route: BaseRoute, scope: Scope, method: str) -> bool:
    if isinstance(route, Mount) and method != "GET":  # static files: GET and HEAD only
        return False
    return route.matches({**scope, "method": method})[0] == Match.FULL


class HeadAndOptions:
    """HEAD runs the GET route and sends its headers without the body; OPTIONS answers 204 with
    `Allow` for a path some route has (others fall through to 404)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(scope["app"], scope)
            if allowed:
                await send({"type": "http.response.start", "status": 204,
                            "headers": [(b"allow", ", ".join(allowed).encode())]})
                await send({"type": "http.response.body", "body": b""})
                return
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)
        await self.app({**scope, "method": "GET"}, receive, without_body)
