"""Fetching one URL into a Document, patiently with flaky servers and strictly with bad ones.

Repositories time out, restart, and rate-limit; a harvest of thousands of pages must ride that
out, so connection errors, timeouts, 429 and 5xx are retried with exponential backoff (and the
server's Retry-After when it is reasonable). Other 4xx are the caller's mistake and fail at once.
Bodies are streamed and cut off past a size limit, counted after decompression, so neither a
huge export nor a gzip bomb fills memory.

A URL is as hostile as the metadata it came from, so the harvester must not become a way into
the network it runs in: every connection, the first and each redirect's, goes through
`_CheckedBackend`, which resolves the name itself, checks every address it resolves to, and
connects to a checked address (so a DNS answer that changes between check and connect cannot
slip through). Private, loopback, link-local, shared and cloud metadata addresses are refused
before a socket is opened, unless the operator allows them (`Allowance`). And every fetch ends
by its deadline: a read timeout alone let a server sending 1 byte/s keep a fetch open past 100 s.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from discovery.errors import HarvestError
from discovery.sources.base import MAX_DOCUMENT_BYTES, Document

USER_AGENT = "discovery/0.1 (research metadata harvester)"
MAX_RETRY_AFTER = 60.0  # seconds; a server asking for longer is told "later" by failing
DEADLINE = 300.0  # seconds for a whole fetch, retries included: 256 MiB at 0.9 MB/s
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
SCHEMES = ("http", "https")
# cloud instance metadata services (AWS, ECS, AWS IPv6, Alibaba, Azure): they hand out
# credentials, so `allow_private` does not reach them; only an exact allowance does
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv6 addresses that reach an IPv4 address
REFUSED_HINT = ("a harvester must not reach internal services; if this repository is yours, "
                "allow it with --allow-host HOST (or --allow-private)")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_STATUS_HINTS = {
    401: "the server wants credentials; this harvester only reads public endpoints",
    403: "the server refuses access; check the URL or ask the repository",
    404: "check the URL; the endpoint or page does not exist",
    410: "the resource is gone; remove it from the sources",
}
# when the fetch running in this thread must end (time.monotonic()); read by every socket call
_deadline: ContextVar[float | None] = ContextVar("fetch_deadline", default=None)


@dataclass(frozen=True)
class Allowance:
    """The non-public addresses the operator lets the harvester reach: none by default.

    `names` are host names allowed whatever they resolve to, `networks` addresses or networks
    allowed by address; `private` allows every non-public address except cloud metadata ones.
    """

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()
    private: bool = False

    @classmethod
    def of(cls, hosts: Iterable[str] = (), *, private: bool = False) -> Allowance:
        """From what an operator writes: `127.0.0.1`, `10.1.0.0/16`, `[::1]`, `repo.internal`."""
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for host in hosts:
            host = host.strip().strip("[]").lower().rstrip(".")
            try:
                networks.append(ipaddress.ip_network(host, strict=False))
            except ValueError:
                names.add(host)
        return cls(frozenset(names), tuple(networks), private)

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why `host` must not be reached at `address`, or None when it may."""
        reached = _reached(address)
        if host.lower().rstrip(".") in self.names or any(reached in network
                                                          for network in self.networks):
            return None
        if reached in METADATA_ADDRESSES:
            kind = "cloud metadata"
        elif reached.is_global or self.private:
            return None
        else:
            kind = next((name for name in ("unspecified", "loopback", "link-local", "private")
                         if getattr(reached, f"is_{name.replace('-', '_')}")), "non-public")
        shown = host if host == str(address) else f"{host} ({address})"
        return f"refused to connect to {shown}: a {kind} address"


PUBLIC_ONLY = Allowance()


def _reached(address: IPAddress) -> IPAddress:
    """The IPv4 address that an IPv4-mapped or NAT64 IPv6 address actually reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


class _Refused(Exception):
    """A connection the allowance does not permit; raised before any socket is opened."""


def _within_deadline(timeout: float | None, expired: type[Exception]) -> float | None:
    """The timeout for one socket operation: never past the current fetch's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the fetch's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the fetch's deadline, so a server that
    trickles its headers or body is cut off there, however often it sends a byte."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.stream.start_tls(
            ssl_context, server_hostname, _within_deadline(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class _CheckedBackend(httpcore.NetworkBackend):
    """Opens every connection the client makes, to an address the allowance permits."""

    def __init__(self, allowance: Allowance) -> None:
        self.allowance = allowance
        self.system = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        *others, last = self.checked_addresses(host, port)
        for address in others:  # the next address when one does not answer, as browsers do
            try:
                return self._connect(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
        return self._connect(last, port, timeout, local_address, socket_options)

    def _connect(self, address: IPAddress, port: int, timeout: float | None,
                 local_address: str | None,
                 socket_options: Iterable[Any] | None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.system.connect_tcp(
            str(address), port, _within_deadline(timeout, httpcore.ConnectTimeout),
            local_address, socket_options))

    def checked_addresses(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` stands for; all of them must be permitted, since which one a
        connection would use is not ours to choose."""
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as error:
                raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
            addresses = list(dict.fromkeys(ipaddress.ip_address(entry[4][0]) for entry in found))
        for address in addresses:
            if reason := self.allowance.refusal(host, address):
                raise _Refused(reason)
        return addresses


class _CheckedTransport(httpx.HTTPTransport):
    """httpx's own transport over the checked backend. httpx takes no network backend, so its
    connection pool is replaced by one built with ours (the pool is where httpx keeps it)."""

    def __init__(self, allowance: Allowance) -> None:
        context = httpx.create_ssl_context()
        super().__init__(verify=context)
        self._pool = httpcore.ConnectionPool(ssl_context=context,
                                             max_keepalive_connections=20, keepalive_expiry=5.0,
                                             network_backend=_CheckedBackend(allowance))


class _Retry(Exception):
    """A failed attempt worth repeating, with what went wrong and how long the server asks."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def fetch(url: str, *, client: httpx.Client | None = None, allow: Allowance = PUBLIC_ONLY,
          retries: int = 3, backoff: float = 0.5, timeout: float = 30, deadline: float = DEADLINE,
          max_bytes: int = MAX_DOCUMENT_BYTES, headers: dict[str, str] | None = None) -> Document:
    """GET `url` into a Document (location = `url` as asked, before redirects).

    Retries up to `retries` times after the first attempt, waiting `backoff * 2**n` seconds.
    `timeout` bounds each connect and each read; `deadline` the whole fetch, every attempt,
    read and wait included. `allow` is for the client this call opens: a `client` (from
    `open_client`) carries its own.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise HarvestError(f"unsupported URL scheme {scheme or '(none)'!r}", file=url,
                           hint="only http:// and https:// URLs can be fetched")
    ends = time.monotonic() + deadline
    running = _deadline.set(ends)
    try:
        with session(client, timeout, allow) as http_client:
            attempt = 0
            while True:
                try:
                    return _get(http_client, url, timeout=timeout, max_bytes=max_bytes,
                                headers=headers)
                except _Retry as failure:
                    if attempt == retries:
                        raise HarvestError(f"{failure.reason} (after {retries + 1} attempts)",
                                           file=url, hint="the server is unreachable or "
                                                          "overloaded; try again later") from None
                    wait = failure.wait if failure.wait is not None else backoff * 2 ** attempt
                    if time.monotonic() + wait >= ends:
                        raise HarvestError(f"{failure.reason}; gave up at the {deadline:g} s "
                                           "deadline of one fetch", file=url,
                                           hint="the server is too slow; try again later") from None
                    time.sleep(wait)
                    attempt += 1
    finally:
        _deadline.reset(running)


def open_client(timeout: float = 30, allow: Allowance = PUBLIC_ONLY) -> httpx.Client:
    """A client to share across many fetches (connection reuse), announcing who is asking and
    connecting only where `allow` permits (environment proxies are not used: a proxy would
    connect on our behalf, to addresses we never see)."""
    return httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT},
                        transport=_CheckedTransport(allow))


@contextmanager
def session(client: httpx.Client | None = None, timeout: float = 30,
            allow: Allowance = PUBLIC_ONLY) -> Iterator[httpx.Client]:
    """The caller's client (left open for its next requests), or a fresh one for this call."""
    if client is not None:
        yield client
        return
    with open_client(timeout, allow) as fresh:
        yield fresh


def _get(client: httpx.Client, url: str, *, timeout: float, max_bytes: int,
         headers: dict[str, str] | None) -> Document:
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout,
                         follow_redirects=True) as response:
            _check_status(response, url)
            content = _read_limited(response, url, max_bytes)
            return Document(location=url, content=content, media_type=_media_type(response))
    except _Refused as refusal:  # before the first request, or before following a redirect
        raise HarvestError(str(refusal), file=url, hint=REFUSED_HINT) from None
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
