"""Content negotiation: a program that asks a page's address for JSON gets the record's API
response, so the pages never need a link that opens JSON and programs need no second address.

`GET /items/relations-study-data-2021-2022` with `Accept: application/json` is answered as
`GET /api/items/relations-study-data-2021-2022`; a browser's Accept header (HTML first, `*/*`
after it) keeps the page. Responses at these addresses say `Vary: Accept`, so a cache between
the two never hands one the other's body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A page path prefix -> the API path prefix of the same record. Questionnaires, questions and
# any other record are served whole, with their relations, by /api/records.
API_OF_PAGE = {"/items/": "/api/items/", "/projects/": "/api/projects/",
               "/variables/": "/api/variables/", "/questionnaires/": "/api/records/",
               "/questions/": "/api/records/", "/records/": "/api/records/"}
JSON_TYPES = ("application/json", "application/ld+json")
HTML_TYPES = ("text/html", "application/xhtml+xml")


def _quality(accept: str, types: tuple[str, ...]) -> float:
    """The highest q an Accept header gives any of these media types by name (not by `*/*`)."""
    best = 0.0
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() not in types:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_json(accept: str) -> bool:
    """Whether the client prefers JSON to HTML; a header naming neither gets the page."""
    json_q = _quality(accept, JSON_TYPES)
    return json_q > 0 and json_q > _quality(accept, HTML_TYPES)


def api_prefix(path: str) -> tuple[str, str] | None:
    """(page prefix, API prefix) for a page path that has an API twin; None for others."""
    if path == "/":
        return "/", "/api/search"
    for page, api in API_OF_PAGE.items():
        if path.startswith(page) and len(path) > len(page):
            return page, api
    return None


class NegotiatedJson:
    """ASGI middleware: GET and HEAD of a page path that asks for JSON are routed to the API."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefixes = api_prefix(scope["path"]) if scope["type"] == "http" else None
        if prefixes is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        accept = b",".join(v for k, v in scope["headers"] if k == b"accept").decode("latin-1")
        if wants_json(accept):
            page, api = prefixes
            raw = scope.get("raw_path") or scope["path"].encode()  # the page prefix is plain ASCII
            scope = {**scope, "path": api + scope["path"][len(page):],
                     "raw_path": api.encode() + raw[len(page):]}

        async def varied(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"vary", b"Accept")]}
            await send(message)
        await self.app(scope, receive, varied)
