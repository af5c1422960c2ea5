"""Fetching one URL into a Document, patiently with flaky servers and strictly with bad ones.

Repositories time out, restart, and rate-limit; a harvest of thousands of pages must ride that
out, so connection errors, timeouts, 429 and 5xx are retried with exponential backoff (and the
server's Retry-After when it is reasonable). Other 4xx are the caller's mistake and fail at once.
Bodies are streamed and cut off past a size limit, counted after decompression, so neither a
huge export nor a gzip bomb fills memory.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from discovery.errors import HarvestError
from discovery.sources.base import MAX_DOCUMENT_BYTES, Document

USER_AGENT = "discovery/0.1 (research metadata harvester)"
MAX_RETRY_AFTER = 60.0  # seconds; a server asking for longer is told "later" by failing
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
SCHEMES = ("http", "https")

_STATUS_HINTS = {
    401: "the server wants credentials; this harvester only reads public endpoints",
    403: "the server refuses access; check the URL or ask the repository",
    404: "check the URL; the endpoint or page does not exist",
    410: "the resource is gone; remove it from the sources",
}


class _Retry(Exception):
    """A failed attempt worth repeating, with what went wrong and how long the server asks."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def fetch(url: str, *, client: httpx.Client | None = None, retries: int = 3,
          backoff: float = 0.5, timeout: float = 30, max_bytes: int = MAX_DOCUMENT_BYTES,
          headers: dict[str, str] | None = None) -> Document:
    """GET `url` into a Document (location = `url` as asked, before redirects).

    Retries up to `retries` times after the first attempt, waiting `backoff * 2**n` seconds.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise HarvestError(f"unsupported URL scheme {scheme or '(none)'!r}", file=url,
                           hint="only http:// and https:// URLs can be fetched")
    with session(client, timeout) as http_client:
        attempt = 0
        while True:
            try:
                return _get(http_client, url, timeout=timeout, max_bytes=max_bytes, headers=headers)
            except _Retry as failure:
                if attempt == retries:
                    raise HarvestError(f"{failure.reason} (after {retries + 1} attempts)",
                                       file=url, hint="the server is unreachable or overloaded; "
                                                      "try again later") from None
                time.sleep(failure.wait if failure.wait is not None else backoff * 2 ** attempt)
                attempt += 1


def open_client(timeout: float = 30) -> httpx.Client:
    """A client to share across many fetches (connection reuse), announcing who is asking."""
    return httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})


@contextmanager
def session(client: httpx.Client | None = None, timeout: float = 30) -> Iterator[httpx.Client]:
    """The caller's client (left open for its next requests), or a fresh one for this call."""
    if client is not None:
        yield client
        return
    with open_client(timeout) as fresh:
        yield fresh


def _get(client: httpx.Client, url: str, *, timeout: float, max_bytes: int,
         headers: dict[str, str] | None) -> Document:
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout,
                         follow_redirects=True) as response:
            _check_status(response, url)
            content = _read_limited(response, url, max_bytes)
            return Document(location=url, content=content, media_type=_media_type(response))
    except httpx.UnsupportedProtocol as error:  # e.g. a redirect to ftp://; retrying won't help
        raise HarvestError(f"unsupported protocol: {error}", file=url) from None
    except httpx.TooManyRedirects:
        raise HarvestError("too many redirects", file=url,
                           hint="the server redirects in a loop; open the URL in a browser") from None
    except httpx.TransportError as error:  # connection refused/reset, timeouts, broken streams
        raise _Retry(_describe(error)) from None
    except httpx.HTTPError as error:  # e.g. a body that does not decompress
        raise HarvestError(_describe(error), file=url) from None


def _describe(error: Exception) -> str:
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _check_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    if status in RETRY_STATUSES:
        wait = _retry_after(response)
        if wait is not None and wait > MAX_RETRY_AFTER:
            raise HarvestError(f"{reason}; the server asks to wait {wait:.0f} s", file=url,
                               hint="the repository is busy or rate-limiting; try again later")
        raise _Retry(reason, wait)
    raise HarvestError(reason, file=url, hint=_STATUS_HINTS.get(status))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait: Retry-After as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    """The body, refused as soon as it is known to exceed `max_bytes`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_big(url, f"{int(declared)} bytes declared", max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _too_big(url, f"more than {max_bytes} bytes received", max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(url: str, what: str, max_bytes: int) -> HarvestError:
    return HarvestError(f"response too large: {what}, limit {max_bytes}", file=url,
                        hint="raise the size limit if this document is genuine")


def _media_type(response: httpx.Response) -> str | None:
    content_type = response.headers.get("Content-Type", "")
    return content_type.split(";", 1)[0].strip().lower() or None
