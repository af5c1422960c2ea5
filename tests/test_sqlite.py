"""The shared SQLite helpers on a real database file."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from discovery.sqlite import CHUNK, connect, immediate, select_in

OPENER = """
import sys, time
from pathlib import Path
from discovery.sqlite import connect
start = float(sys.argv[1])
while time.time() < start:
    pass
for name in sys.argv[2:]:
    connect(Path(name)).close()
"""


def test_a_connection_keeps_a_write_ahead_log_and_runs_the_pragmas_given(tmp_path):
    db = connect(tmp_path / "a.sqlite", ("PRAGMA busy_timeout=1234",))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    db.close()


def test_processes_creating_the_same_new_files_at_once_all_open_them(tmp_path):
    """SQLite refused the switch to a write-ahead log, without waiting, to the second of two
    processes creating one file (about one pair in four here), so a catalogue opened by two
    ingests at once failed with "database is locked"."""
    files = [str(tmp_path / f"{n}.sqlite") for n in range(12)]
    start = time.time() + 1.5  # after every interpreter has started
    runs = [subprocess.Popen([sys.executable, "-c", OPENER, str(start), *files],
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    assert [(run.wait(timeout=60), run.stderr.read() if run.stderr else "") for run in runs] \
        == [(0, "")] * 3


def test_a_failed_transaction_leaves_nothing_written(tmp_path):
    db = connect(tmp_path / "a.sqlite")
    db.execute("CREATE TABLE t (n INTEGER)")
    with pytest.raises(RuntimeError):
        with immediate(db):
            db.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("a failure after the write")
    with immediate(db):
        db.execute("INSERT INTO t VALUES (2)")
    assert db.execute("SELECT n FROM t").fetchall() == [(2,)]
    db.close()


def test_an_in_query_over_more_ids_than_one_statement_binds(tmp_path):
    db = connect(tmp_path / "a.sqlite")
    db.execute("CREATE TABLE t (n INTEGER, tag TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(n, "even" if n % 2 == 0 else "odd")
                                                   for n in range(3 * CHUNK)])
    wanted = list(range(0, 3 * CHUNK, 2))
    found = [n for (n,) in select_in(db, "SELECT n FROM t WHERE tag = ? AND n IN ({marks})", wanted,
                                     ["even"])]
    assert sorted(found) == wanted
    db.close()
