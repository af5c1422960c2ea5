"""Ingest throughput: records/s and variables/s, parsed and stored, for the corpus and a replica.

    python bench/ingest.py [--corpus ../shared/corpus] [--replicas 100]

The first run ingests the corpus as `discovery ingest` does. The replicated run ingests every
corpus document `--replicas` times, each copy under its own location with its ids suffixed, so
the catalogue grows as it would with that many distinct studies; the renaming is timed with the
rest, which makes the figures conservative. "Variables" counts Variable records (from DDI and
variable lists) and Question records (questionnaire items): both are what a researcher searches
and harmonises. Target: >= 5,000 variables/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.ingest import IngestReport, ingest
from discovery.catalogue.rules import PARENT_FIELDS
from discovery.errors import DiscoveryError
from discovery.harvest.files import documents
from discovery.model import Kind, ParseResult, Record, Relation
from discovery.sources.base import Document
from discovery.sources.registry import parse_document

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


def corpus_run(corpus: Path, data: Path) -> tuple[IngestReport, float]:
    with open_catalogue(data) as catalogue:
        start = time.perf_counter()
        report = ingest(catalogue, documents([str(corpus)]))
        return report, time.perf_counter() - start


def replicated_run(corpus: Path, data: Path, replicas: int) -> tuple[int, int, float]:
    docs = [d for d in documents([str(corpus)]) if isinstance(d, Document)]
    records = variables = 0
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
                catalogue.apply(f"{doc.location}#r{replica}", doc.content,
                                doc.fetched_at.isoformat(), result)
                records += len(result.records)
                variables += sum(r.kind in VARIABLE_KINDS for r in result.records)
        return records, variables, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
    parser.add_argument("--replicas", type=int, default=100)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        report, seconds = corpus_run(args.corpus, Path(tmp) / "corpus")
        records = sum(report.kinds.values())
        variables = sum(report.kinds[kind] for kind in VARIABLE_KINDS)
        print(f"corpus: {report.documents} documents, {records} records, {variables} "
              f"variables in {seconds:.2f} s: {records / seconds:,.0f} records/s, "
              f"{variables / seconds:,.0f} variables/s "
              f"({len(report.failures)} documents or records quarantined)")
        records, variables, seconds = replicated_run(args.corpus, Path(tmp) / "replicated",
                                                     args.replicas)
        size = (Path(tmp) / "replicated" / "catalogue.sqlite").stat().st_size / 2**20
        print(f"corpus x{args.replicas}: {records:,} records, {variables:,} variables in "
              f"{seconds:.1f} s: {records / seconds:,.0f} records/s, {variables / seconds:,.0f} "
              f"variables/s; catalogue {size:,.0f} MiB; peak RSS {peak_rss_mb():,.0f} MiB")


if __name__ == "__main__":
    main()
