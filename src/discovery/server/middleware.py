"""What every response carries and every request must satisfy before a route sees it: the
security headers, a Host header naming this site, and a body of bounded size.

Absolute URLs (canonical links, JSON-LD, the sitemap, API `url` fields) come from `--base-url`
or else from the request's Host header, so a request with a forged Host could plant another
site's address in a cached page; only the configured names are answered.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from discovery.server.errors import TOO_LARGE, TOO_LARGE_HINT, error_response

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# No inline script or style anywhere (the JSON-LD block is data, which CSP does not run), so
# everything may come from this origin only; no page of ours may be framed (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Referrer-Policy": "strict-origin-when-cross-origin",  # no search words to other sites
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """SECURITY_HEADERS on every response (a route's own value of one wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)
        await self.app(scope, receive, with_headers)


def host_name(header: str) -> str:
    """The name in a Host header: 'Example.org:8000' -> 'example.org', '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class AllowedHosts:
    """Requests whose Host is not one of `hosts` get 400 ("*" in `hosts` allows any)."""

    def __init__(self, app: ASGIApp, hosts: Collection[str]) -> None:
        self.app = app
        self.hosts = {host_name(host) for host in hosts}
        self.any = "*" in hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.any:
            await self.app(scope, receive, send)
            return
        name = host_name(Headers(scope=scope).get("host", ""))
        if name in self.hosts:
            await self.app(scope, receive, send)
            return
        response = error_response(Request(scope, receive), 400,
                                  f"this server does not answer to the host name {name!r}",
                                  "its operator can add names to DISCOVERY_ALLOWED_HOSTS or give "
                                  "--base-url")
        await response(scope, receive, send)


class BodyLimit:
    """A body over `max_bytes` is refused with 413: at once when its Content-Length says so, else
    as soon as a route has read that much of it (a 400 MB harmonise body used to be read whole).
    FastAPI's own limit answered an announced one in plain text, not the error body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            response = error_response(Request(scope, receive), 413, TOO_LARGE, TOO_LARGE_HINT)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413)  # the route's reading stops here; the handler answers
            return message
        await self.app(scope, limited, send)
