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

import httpx
import psycopg
import pytest

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.ingest import ingest as ingest_documents
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents
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


def served(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`discovery serve` started with `command`'s options on `port`, once it answers."""
    server = subprocess.Popen([str(Path(sys.executable).parent / "discovery"), "serve", "--port",
                               str(port), "--workers", "1", *command],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/robots.txt").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise AssertionError(f"discovery serve did not start: {server.communicate()[1]!r}")
        time.sleep(0.1)


def replayed(url: str, seconds: float = 20) -> None:
    """Wait until the replica has replayed the creation of the database at `url`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(url) as db:
                db.execute("SELECT version FROM discovery_data_version").fetchone()
                return
        except psycopg.Error:
            assert time.monotonic() < deadline, "the replica never showed the database"
            time.sleep(0.05)


def ingesting(path: Path, database: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([str(Path(sys.executable).parent / "discovery"), "ingest", str(path),
                             "--data", database], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def committed(database: str, title: str, ingest: subprocess.Popen[str]) -> tuple[str, float]:
    """The id of the study titled `title` and when the primary first showed it (polled every few
    milliseconds while the ingest runs)."""
    with psycopg.connect(database, autocommit=True) as db:
        while True:
            row = db.execute("SELECT id FROM records WHERE kind = 'study' AND title = %s",
                             (title,)).fetchone()
            if row:
                return str(row[0]), time.monotonic()
            assert ingest.poll() is None, ingest.communicate()[1]
            time.sleep(0.005)


def shown_at(ports: tuple[int, ...], study: str, seconds: float = 10) -> list[float]:
    """When each server first answered the study's item page."""
    seen: dict[int, float] = {}
    deadline = time.monotonic() + seconds
    while len(seen) < len(ports):
        for port in ports:
            answer = None if port in seen else httpx.get(f"http://127.0.0.1:{port}/api/items/{study}")
            if answer is not None and answer.status_code == 200:
                seen[port] = time.monotonic()
        assert time.monotonic() < deadline, f"only {sorted(seen)} of {ports} showed {study}"
    return [seen[port] for port in ports]


def searched(port: int, query: str, seconds: float = 30) -> list[str]:
    """The ids of the first page of hits once the server answers the search (it opens search
    again a few seconds after finding no index)."""
    deadline = time.monotonic() + seconds
    address = f"http://127.0.0.1:{port}/api/search"
    while (answer := httpx.get(address, params={"q": query})).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text
    return [hit["id"] for hit in answer.json()["hits"]]


def pilot(folder: Path, title: str) -> Path:
    path = folder / f"{title.replace(' ', '-').lower()}.csv"
    path.write_text(f"survey_name,year,item_name,item_text\n{title},2026,R1,How often do you read "
                    "from a standby?\n", encoding="utf-8")
    return path


def test_an_ingest_on_the_primary_is_seen_through_two_servers_reading_the_replica(
        database, postgres_replica, tmp_path, record_property):
    """Two `discovery serve` processes read a streaming replica (one told by --read-from, one
    by DISCOVERY_READ_URL) while `discovery ingest` writes to the primary: each shows the new
    record once the replica has replayed it, and the lag from the primary's commit until each
    shows it is reported; once `discovery index` has indexed it on the primary, each finds it by
    search. With the replica's replay paused they do not show the next one (so they read the
    replica, not the primary) until it resumes."""
    replica = postgres_replica.url(database.rsplit("/", 1)[1])
    replayed(replica)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DISCOVERY_")}
    ports = free_port(), free_port()
    servers = [served(["--data", database, "--read-from", replica, "--cache-dir", str(tmp_path / "a")],
                      ports[0], env),
               served(["--data", database, "--cache-dir", str(tmp_path / "b")], ports[1],
                      {**env, "DISCOVERY_READ_URL": replica})]
    try:
        for port in ports:
            assert httpx.get(f"http://127.0.0.1:{port}/api/stats").json()["totals"]["records"] == 0
        ingest = ingesting(pilot(tmp_path, "Replica Pilot"), database, env)
        study, at = committed(database, "Replica Pilot", ingest)
        lags = [seen - at for seen in shown_at(ports, study)]
        assert ingest.wait(120) == 0, ingest.communicate()[1]
        record_property("replication_lag_seconds", lags)
        print(f"replication lag, from the primary's commit until each server showed the record: "
              f"{', '.join(f'{lag * 1000:.0f} ms' for lag in lags)}")

        index = subprocess.run([str(Path(sys.executable).parent / "discovery"), "index", "--data",
                                database, "--model", "minilm", "--cache-dir", str(tmp_path / "index")],
                               env=env, capture_output=True, text=True, timeout=300)
        assert index.returncode == 0, index.stderr
        for port in ports:  # the index is in the database: it reaches the servers by the replica too
            assert study in searched(port, "read from a standby")

        with psycopg.connect(replica, autocommit=True) as standby:
            standby.execute("SELECT pg_wal_replay_pause()")
            try:
                with open_catalogue(database) as catalogue:
                    assert ingest_documents(catalogue, documents([str(pilot(tmp_path, "Paused Pilot"))])).ok
                    (paused,) = [rid for rid, *_ in catalogue.list_records(kind="study")
                                 if rid != study]
                for port in ports:
                    assert httpx.get(f"http://127.0.0.1:{port}/api/items/{paused}").status_code == 404
            finally:
                standby.execute("SELECT pg_wal_replay_resume()")
        shown_at(ports, paused)
    finally:
        for server in servers:
            server.terminate()
            server.wait(20)


def descendants(pid: int) -> list[int]:
    """The processes under `pid`, from /proc."""
    found = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
             for child in (task / "children").read_text().split()]
    return found + [grandchild for child in found for grandchild in descendants(child)]


def started_with(pid: int) -> set[str]:
    """The environment a process was started with (not what it set later)."""
    return set(Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0"))


def test_one_worker_answers_from_a_process_started_with_one_thread_per_library(tmp_path: Path):
    """The thread limits reach numpy and faiss only as they load. One worker served inside the
    command's own process had them loaded already, a thread per core spinning beside each
    search: 85 ms of CPU a distinct search against 37 ms (README, "Serving under load")."""
    Catalogue(tmp_path).close()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    server = served(["--data", str(tmp_path)], free_port(), env)
    try:
        started = [started_with(pid) for pid in descendants(server.pid)]
        assert any({"OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1"} <= names for names in started)
    finally:
        server.terminate()
        server.wait(20)


def test_serve_on_a_database_that_is_down_fails_in_one_line_without_the_password():
    from typer.testing import CliRunner

    from discovery.cli import app
    result = CliRunner().invoke(app, ["serve", "--data", f"postgresql://reader:s3cret@127.0.0.1:{free_port()}/db"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and "s3cret" not in line
    assert line.startswith("postgresql://reader@127.0.0.1:") and ": cannot connect to PostgreSQL: " in line
