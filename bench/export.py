"""Bulk export at scale: peak memory and rate of `discovery export` on the corpus times N.

The large catalogue is made by copying a built catalogue's `records` and `record_sources` rows
N times in SQL, each copy's ids suffixed `~k` (parents too, so every variable stays with its
study): exports read only those two tables, so this is the catalogue an export of N times the
corpus reads, without N ingests. Each format then runs as its own `discovery export` process
writing to /dev/null, and its peak RSS is that process's own (wait4).

    python bench/export.py --data /work/demo --copies 100 [--work DIR [--reuse]]

prints records, seconds, records per second and peak RSS per format. The copies are built once
in --work (default: a temporary folder, removed afterwards).

Measured on the demo catalogue x100 (1,629,600 records, 3.2 GB; 3,200 studies and datasets with
147,100 variables), 2 shared cores under a load average of 9-15 from other work, so the rates
are low bounds: jsonl 99.7 s (16,351 records/s) peak RSS 112 MiB; parquet 71.4 s (22,812
records/s) 243 MiB (pyarrow); ddi 140.0 s (23 studies/s with their variables) 136 MiB. A
single jsonl run at load ~9 took 60.8 s (26,800 records/s), 112 MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COPY_RECORDS = """INSERT INTO records SELECT id || :suffix, kind, title,
    CASE WHEN parent IS NULL THEN NULL ELSE parent || :suffix END, data, data_hash, created_at,
    updated_at FROM source.records"""
COPY_SOURCES = """INSERT INTO record_sources SELECT record_id || :suffix, location, source, record_key,
    catalogue, document_hash, fetched_at, data, data_hash FROM source.record_sources"""


def build(source: Path, target: Path, copies: int) -> None:
    """A catalogue in `target` holding `copies` copies of `source`'s records."""
    target.mkdir(parents=True, exist_ok=True)
    path = target / "catalogue.sqlite"
    if path.exists():
        path.unlink()
    from discovery.catalogue.store import Catalogue  # creates the schema
    Catalogue(target).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("ATTACH DATABASE ? AS source", (f"file:{source / 'catalogue.sqlite'}?mode=ro",))
    for k in range(copies):
        suffix = "" if k == 0 else f"~{k}"
        db.execute(COPY_RECORDS, {"suffix": suffix})
        db.execute(COPY_SOURCES, {"suffix": suffix})
        db.commit()
    db.close()


def run(data: Path, fmt: str) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of one export process."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen([str(Path(sys.executable).parent / "discovery"), "export",
                                    "--format", fmt, "--output", "-", "--data", str(data)], stdout=sink)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export --format {fmt} failed")
    return seconds, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="a built catalogue")
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--formats", default="jsonl,parquet,ddi")
    parser.add_argument("--work", type=Path, default=None, help="where the copies are built")
    parser.add_argument("--reuse", action="store_true", help="use the copies already in --work")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="discovery-export-bench-"))
    try:
        started = time.perf_counter()
        if not (args.reuse and (work / "catalogue.sqlite").is_file()):
            build(args.data, work, args.copies)
            print(f"built {args.copies} copies in {time.perf_counter() - started:.0f} s")
        db = sqlite3.connect(work / "catalogue.sqlite")
        total = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        studies = db.execute("SELECT COUNT(*) FROM records WHERE kind IN ('study','dataset')").fetchone()[0]
        db.close()
        for fmt in args.formats.split(","):
            seconds, peak = run(work, fmt)
            count = studies if fmt == "ddi" else total
            print(f"{fmt:8} {count:>10,} records {seconds:7.1f} s {count / seconds:>9,.0f} records/s "
                  f"peak RSS {peak / 2**20:,.0f} MiB")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
