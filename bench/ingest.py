"""Ingest throughput: records/s and variables/s, parsed and stored, for the corpus and a replica.

    python bench/ingest.py [--corpus ../shared/corpus] [--replicas 100] [--backend sqlite|postgres]

The first run ingests the corpus as `discovery ingest` does. The replicated run ingests every
corpus document `--replicas` times, each copy under its own location with its ids suffixed, so
the catalogue grows as it would with that many distinct studies; the renaming is timed with the
rest, which makes the figures conservative, and the time spent storing (`apply`) is also given
on its own. `--backend postgres` stores into databases on a temporary server (the tests' own,
`tests/postgres_server.py`) instead of SQLite folders. "Variables" counts Variable records (from DDI and
variable lists) and Question records (questionnaire items): both are what a researcher searches
and harmonises. Target: >= 5,000 variables/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/postgres_server.py

from discovery.catalogue.backends import migrate, open_catalogue  # noqa: E402
from discovery.catalogue.ingest import IngestReport, ingest  # noqa: E402
from discovery.catalogue.rules import PARENT_FIELDS  # noqa: E402
from discovery.errors import DiscoveryError  # noqa: E402
from discovery.harvest.files import documents  # noqa: E402
from discovery.model import Kind, ParseResult, Record, Relation  # noqa: E402
from discovery.sources.base import Document  # noqa: E402
from discovery.sources.registry import parse_document  # noqa: E402

VARIABLE_KINDS = {Kind.VARIABLE.value, Kind.QUESTION.value}


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def renamed(result: ParseResult, suffix: str) -> ParseResult:
    """The same records as another study would have them: every id gets the suffix."""
    def rename(record: Record) -> Record:
        update = {"id": record.id + suffix}
        for name in PARENT_FIELDS.values():
            value = getattr(record, name, None)
            if value:
                update[name] = value + suffix
        return record.model_copy(update=update)

    return ParseResult(
        records=[rename(r) for r in result.records],
        relations=[Relation(subject=r.subject + suffix, predicate=r.predicate,
                            object=r.object + suffix) for r in result.relations],
        problems=result.problems)


def corpus_run(corpus: Path, data: Path | str) -> tuple[IngestReport, float]:
    with open_catalogue(data) as catalogue:
        start = time.perf_counter()
        report = ingest(catalogue, documents([str(corpus)]))
        return report, time.perf_counter() - start


def replicated_run(corpus: Path, data: Path | str, replicas: int) -> tuple[int, int, float, float]:
    """Records, variables, seconds in all and seconds spent storing."""
    docs = [d for d in documents([str(corpus)]) if isinstance(d, Document)]
    records = variables = 0
    storing = 0.0
    with open_catalogue(data) as catalogue:
        start = time.perf_counter()
        for replica in range(replicas):
            suffix = f"-r{replica}"
            for doc in docs:
                try:
                    result = parse_document(doc)
                except DiscoveryError:
                    continue
                result = renamed(result, suffix)
                stored = time.perf_counter()
                catalogue.apply(f"{doc.location}#r{replica}", doc.content,
                                doc.fetched_at.isoformat(), result)
                storing += time.perf_counter() - stored
                records += len(result.records)
                variables += sum(r.kind in VARIABLE_KINDS for r in result.records)
        return records, variables, time.perf_counter() - start, storing


@contextmanager
def sqlite_targets(tmp: Path) -> Iterator[tuple[Path, Path]]:
    yield tmp / "corpus", tmp / "replicated"


@contextmanager
def postgres_targets(tmp: Path) -> Iterator[tuple[str, str]]:
    """Two empty catalogues on a temporary server, stopped after."""
    import psycopg

    from tests.postgres_server import PostgresServer
    server = PostgresServer()
    try:
        with psycopg.connect(server.url(), autocommit=True) as db:
            for name in ("corpus", "replicated"):
                db.execute(f"CREATE DATABASE {name}")
                migrate(server.url(name))
        yield server.url("corpus"), server.url("replicated")
    finally:
        server.stop()


def size_mib(target: Path | str) -> float:
    if isinstance(target, Path):
        return (target / "catalogue.sqlite").stat().st_size / 2**20
    import psycopg

    with psycopg.connect(target) as db:
        found = db.execute("SELECT pg_database_size(current_database())").fetchone()
    return found[0] / 2**20 if found else 0.0


TARGETS = {"sqlite": sqlite_targets, "postgres": postgres_targets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
    parser.add_argument("--replicas", type=int, default=100)
    parser.add_argument("--backend", choices=sorted(TARGETS), default="sqlite")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, backend: {args.backend}")
    with tempfile.TemporaryDirectory() as tmp, TARGETS[args.backend](Path(tmp)) as (first, second):
        report, seconds = corpus_run(args.corpus, first)
        records = sum(report.kinds.values())
        variables = sum(report.kinds[kind] for kind in VARIABLE_KINDS)
        print(f"corpus: {report.documents} documents, {records} records, {variables} "
              f"variables in {seconds:.2f} s: {records / seconds:,.0f} records/s, "
              f"{variables / seconds:,.0f} variables/s "
              f"({len(report.failures)} documents or records quarantined)")
        records, variables, seconds, storing = replicated_run(args.corpus, second, args.replicas)
        print(f"corpus x{args.replicas}: {records:,} records, {variables:,} variables in "
              f"{seconds:.1f} s: {records / seconds:,.0f} records/s, {variables / seconds:,.0f} "
              f"variables/s; storing alone {storing:.1f} s: {records / storing:,.0f} records/s; "
              f"catalogue {size_mib(second):,.0f} MiB; peak RSS {peak_rss_mb():,.0f} MiB")


if __name__ == "__main__":
    main()
