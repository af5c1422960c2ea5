"""What the English encoder costs a search on PostgreSQL: one catalogue indexed `e5+minilm` against
a copy of it indexed `e5` alone, the 75 tuning queries as the site asks them.

    python bench/postgres_pair.py PAIR_URL E5_URL [--rounds 2]

Each database answers every query once to warm up (query vectors, planner statistics, pages);
then the two take turns query by query, `--rounds` times, so load on a shared machine falls on
both alike. Prints p50 and p95 per database. Make the copy with `CREATE DATABASE copy TEMPLATE
original` and `discovery index --data COPY_URL --model e5` (the vectors come from the cache).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from discovery.search.backends import open_searcher  # noqa: E402
from discovery.search.models import SearchRequest  # noqa: E402
from discovery.search.searcher import Searcher  # noqa: E402

JUDGMENTS = Path(__file__).resolve().parent / "judgments"
TUNING = ("search_tune.tsv", "search_tune_languages.tsv", "search_tune_more.tsv")  # never check/blind


def tuning_queries() -> list[str]:
    queries: set[str] = set()
    for name in TUNING:
        with open(JUDGMENTS / name, encoding="utf-8", newline="") as rows:
            queries |= {row["query"] for row in csv.DictReader(rows, delimiter="\t")}
    return sorted(queries)


def timed(searchers: dict[str, Searcher], queries: list[str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per search of each searcher, the searchers taking turns on each query."""
    for searcher in searchers.values():
        for q in queries:
            searcher.search(SearchRequest(q=q))
    times: dict[str, list[float]] = {name: [] for name in searchers}
    for _ in range(rounds):
        for q in queries:
            for name, searcher in searchers.items():
                start = time.perf_counter()
                searcher.search(SearchRequest(q=q))
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pair", help="postgresql:// URL of the catalogue indexed e5+minilm")
    parser.add_argument("alone", help="postgresql:// URL of its copy indexed e5")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    searchers = {"e5+minilm": open_searcher(args.pair), "e5 alone": open_searcher(args.alone)}
    try:
        queries = tuning_queries()
        for name, found in timed(searchers, queries, args.rounds).items():
            found.sort()
            print(f"{name}: {len(found)} searches of {len(queries)} queries, p50 "
                  f"{statistics.median(found):.1f} ms, p95 {found[int(0.95 * (len(found) - 1))]:.1f} ms")
    finally:
        for searcher in searchers.values():
            searcher.close()


if __name__ == "__main__":
    main()
