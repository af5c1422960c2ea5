"""`discovery serve`: the web pages and the JSON API on one port (FastAPI under uvicorn).

Every worker count is served from one listening socket that this module binds itself. uvicorn's
own socket for `--workers N` is made as `socket.socket(AF_INET)`, protocol 0; multiprocessing
hands it to the workers as it was made, protocol 0 included, and asyncio switches Nagle's
algorithm off (TCP_NODELAY) only on connections whose socket says IPPROTO_TCP. Its h11 protocol
writes a response's head and body in two writes, so on a kept-alive connection the body waited
for the client's delayed ACK: about 40 ms per request with two workers, none with one. Here the
socket is made with IPPROTO_TCP, and TCP_NODELAY is set on it as well (Linux hands it on to the
connections it accepts), so no worker count waits on Nagle whatever the event loop.

One worker, too, runs as a process of its own, started fresh: the thread limits set here reach
numpy's OpenBLAS and faiss's OpenMP only as they load, and this command's process has loaded
them already, with a thread per core that spins beside each request.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from discovery.catalogue.backends import cache_folder
from discovery.catalogue.postgres_connection import is_database_url, shown
from discovery.cli.common import CACHE_DIR, DataDir, app, console, fail
from discovery.errors import DiscoveryError

Loop = Literal["auto", "asyncio", "uvloop"]
Http = Literal["auto", "h11", "httptools"]
# Measured with bench/api_load.py (README, "Serving under load"): uvloop and httptools where
# installed; one worker per core, at most two (a request's Python holds one core; each worker
# opens its own index and model, about 350 MB for the corpus and 1.3 GB at a million records).
DEFAULT_LOOP: Loop = "auto"
DEFAULT_HTTP: Http = "auto"
DEFAULT_WORKERS = min(2, len(os.sched_getaffinity(0)))
FACTORY = "discovery.server.app:app_from_environment"


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket whose accepted connections send without Nagle's delay."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_server(factory: str, host: str, port: int, workers: int = 1, loop: Loop = DEFAULT_LOOP,
               http: Http = DEFAULT_HTTP) -> None:
    """Serve the app that the import string `factory` makes (each worker calls it) until stopped.
    bench/api_load.py serves its trivial app through here too, so both are served the same way."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(factory, factory=True, host=host, port=port, workers=workers,
                            loop=loop, http=http, log_level="warning", access_log=False)
    Multiprocess(config, sockets=[listening_socket(host, port)]).run()


@app.command("serve")
def serve_command(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        base_url: Annotated[Optional[str], typer.Option(
            "--base-url", help="Public URL of the site, for canonical links behind a proxy.")] = None,
        workers: Annotated[int, typer.Option(
            min=1, help="Server processes, each using a core and opening the index "
                        "(default: the cores, at most 2).")] = DEFAULT_WORKERS,
        loop: Annotated[str, typer.Option(
            help="Event loop: auto (uvloop when installed), asyncio or uvloop.")] = DEFAULT_LOOP,
        http: Annotated[str, typer.Option(
            help="HTTP parser: auto (httptools when installed), h11 or httptools.")] = DEFAULT_HTTP,
        read_from: Annotated[Optional[str], typer.Option(
            "--read-from", envvar="DISCOVERY_READ_URL",
            help="postgresql:// URL of a streaming replica of the --data database to read from "
                 "(the server never writes to the catalogue; the CLI writes to --data).")] = None,
        cache_dir: Annotated[Optional[Path], typer.Option(
            "--cache-dir", envvar=CACHE_DIR,
            help="Folder for what the server derives from a database (OAI-PMH ledger, embedding "
                 "cache); default: one per database under ~/.cache/discovery. A data folder keeps "
                 "them inside itself.")] = None,
        page_cache_mb: Annotated[Optional[int], typer.Option(
            "--page-cache-mb", envvar="DISCOVERY_PAGE_CACHE_MB", min=0,
            help="Memory per worker for whole pages and API answers kept while the data is "
                 "unchanged (default 64); 0 serves every request afresh.")] = None,
        data: DataDir = "data") -> None:
    """Serve search, item pages and the API (docs at /docs) from the catalogue in --data."""
    from discovery.server.app import PAGE_CACHE_MB, create_app

    if loop not in ("auto", "asyncio", "uvloop") or http not in ("auto", "h11", "httptools"):
        raise typer.BadParameter(f"unknown --loop {loop!r} or --http {http!r}")
    if read_from and not (is_database_url(data) and is_database_url(read_from)):
        raise fail(DiscoveryError("--read-from names a replica of a PostgreSQL catalogue",
                                  hint="pass --data postgresql://PRIMARY/DB --read-from "
                                       "postgresql://REPLICA/DB, or leave --read-from out"))
    target = read_from or data
    cache = cache_folder(data, cache_dir)  # the primary's: a replica holds the same catalogue
    try:
        create_app(target, base_url=base_url, cache_dir=cache)  # fails here, once, on a missing catalogue
    except DiscoveryError as error:
        raise fail(error) from None
    os.environ["DISCOVERY_DATA"] = target
    os.environ[CACHE_DIR] = str(cache)
    os.environ["DISCOVERY_BASE_URL"] = base_url or ""
    if page_cache_mb is not None:
        os.environ[PAGE_CACHE_MB] = str(page_cache_mb)  # what each worker's app reads
    for threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # read by each worker's libraries
        os.environ.setdefault(threads, "1")  # as they load: one request, one core (embed.use_threads)
    where = shown(target) if is_database_url(target) else target
    console.print(f"Serving {where} at http://{host}:{port}/ (API docs at /docs). Ctrl+C stops.",
                  markup=False)
    try:
        run_server(FACTORY, host, port, workers, loop, http)  # type: ignore[arg-type]
    except OSError as error:
        raise fail(DiscoveryError(f"cannot listen on {host}:{port}: {error.strerror}",
                                  hint="pick another --port, or stop what uses this one")) from None
