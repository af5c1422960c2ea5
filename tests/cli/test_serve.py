"""`discovery serve` answers kept-alive requests without Nagle's delay, with any worker count."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from discovery.catalogue.store import Catalogue
from discovery.cli.serve import listening_socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accepted_nodelay(loop_factory: Callable[[], asyncio.AbstractEventLoop]) -> int:
    """TCP_NODELAY of a connection accepted on our socket as a worker gets it: rebuilt from a
    duplicated descriptor with the family, type and protocol it was made with (what
    multiprocessing's spawn does)."""
    made = listening_socket("127.0.0.1", 0)
    worker = socket.socket(made.family, made.type, made.proto, fileno=os.dup(made.fileno()))
    made.close()
    seen: list[int] = []

    async def main() -> None:
        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP,
                                                                    socket.TCP_NODELAY))
            writer.close()
        server = await asyncio.start_server(connected, sock=worker)
        async with server:
            port = worker.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    loop = loop_factory()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return seen[0]


def test_connections_accepted_by_a_worker_have_nodelay_with_asyncio():
    assert accepted_nodelay(asyncio.new_event_loop) != 0


def test_connections_accepted_by_a_worker_have_nodelay_with_uvloop():
    uvloop = pytest.importorskip("uvloop")
    assert accepted_nodelay(uvloop.new_event_loop) != 0


@pytest.mark.parametrize("workers, loop, parser", [(2, "asyncio", "h11"), (1, "auto", "auto")])
def test_kept_alive_requests_do_not_wait_for_delayed_acks(tmp_path: Path, workers: int, loop: str,
                                                          parser: str):
    """Twenty requests on one connection: with two workers on asyncio and h11 each waited about
    40 ms (the body's write held back until the client ACKed the head's; uvloop sets TCP_NODELAY
    itself); now a few ms, on a loaded machine too."""
    Catalogue(tmp_path).close()
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "discovery"), "serve", "--port", str(port),
                               "--workers", str(workers), "--loop", loop, "--http", parser,
                               "--data", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        deadline = time.monotonic() + 60
        while True:
            try:
                connection.request("GET", "/robots.txt")
                connection.getresponse().read()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not start"
                connection.close()
                time.sleep(0.2)
        took = []
        for _ in range(20):
            began = time.perf_counter()
            connection.request("GET", "/robots.txt")
            response = connection.getresponse()
            response.read()
            took.append((time.perf_counter() - began) * 1000)
            assert response.status == 200
        connection.close()
        assert statistics.median(took) < 25, took
    finally:
        server.terminate()
        server.wait(20)


def test_read_from_needs_a_database_on_both_sides_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from discovery.cli import app
    result = CliRunner().invoke(app, ["serve", "--data", str(tmp_path),
                                      "--read-from", "postgresql://replica/db"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "--read-from names a replica of a PostgreSQL catalogue (hint: pass --data "
        "postgresql://PRIMARY/DB --read-from postgresql://REPLICA/DB, or leave --read-from out)")
