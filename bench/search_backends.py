"""The two search backends side by side in one run: nDCG@10 of graded judgments on the local index
and on PostgreSQL (issue 13 asks the server to stay within 0.03 of embedded), and each backend's
search latency: p50/p95 over the judgments' queries searched again in hybrid mode once nDCG is
taken, so each query's vector is in memory and the time is retrieval, fusion and the page.

Both targets must hold the same catalogue indexed with the same model (the local one without the
English encoder beside it, `--model e5`, as a database keeps the index model's vectors alone);
the script checks the models. One way to get there from a data folder:

    discovery migrate --data $URL
    discovery ingest <the folder's sources> --data $URL
    mkdir -p CACHE && cp FOLDER/index/embeddings.sqlite CACHE/   # the same vectors, none re-encoded
    discovery index --data $URL --cache-dir CACHE
    python bench/search_backends.py --data FOLDER --database $URL

Judgments default to the development (tuning) files; the check and blind files are for reporting
once, not for this comparison.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from discovery.search.backends import open_searcher
from discovery.search.evaluate import evaluate, load_judgments
from discovery.search.models import Mode, SearchRequest
from discovery.search.searcher import Searcher
from discovery.search.service import SearchService

JUDGMENTS = Path(__file__).parent / "judgments"
TUNING = [JUDGMENTS / "search_tune.tsv", JUDGMENTS / "search_tune_languages.tsv"]
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "semantic")


def timed(searcher: Searcher, spent: list[float]) -> Callable[[SearchRequest], list[str]]:
    """A search function for `evaluate` that also notes each search's wall time."""
    def search(request: SearchRequest) -> list[str]:
        started = time.perf_counter()
        hits = searcher.search(request).hits
        spent.append(time.perf_counter() - started)
        return [hit.id for hit in hits]
    return search


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="data folder with a local index")
    parser.add_argument("--database", required=True, help="postgresql:// URL with a search index")
    parser.add_argument("judgments", nargs="*", type=Path, default=TUNING)
    args = parser.parse_args()
    backends = {"local": open_searcher(args.data), "postgres": open_searcher(args.database)}
    models = {name: searcher.model for name, searcher in backends.items()}
    if len(set(models.values())) != 1:
        raise SystemExit(f"the two indexes were built with different models: {models}")
    local = backends["local"]
    english = local.index.meta.get("english_model") if isinstance(local, SearchService) else None
    if english:  # a database keeps the index model's vectors alone
        raise SystemExit(f"the local index also answers English queries with {english}; for a "
                         "like-for-like comparison build it with `discovery index --model e5`")
    spent: dict[str, list[float]] = {name: [] for name in backends}
    print(f"model {models['local']}; nDCG@10 (mean over queries)")
    print(f"{'judgments':32} {'mode':9} {'local':>7} {'postgres':>9} {'diff':>7}")
    for path in args.judgments:
        judged = load_judgments(path)
        for mode in MODES:
            means = {}
            for name, searcher in backends.items():
                scores = evaluate(timed(searcher, []), judged, mode)[1]
                means[name] = statistics.mean(s.ndcg for s in scores.values())
            print(f"{path.name:32} {mode:9} {means['local']:7.3f} {means['postgres']:9.3f} "
                  f"{means['postgres'] - means['local']:+7.3f}")
        for name, searcher in backends.items():
            evaluate(timed(searcher, spent[name]), judged, "hybrid")
    print("\nhybrid search latency over those queries (ms)")
    for name, times in spent.items():
        ms = [t * 1000 for t in times]
        print(f"{name:9} n={len(ms)} p50 {percentile(ms, 0.5):7.1f}  p95 {percentile(ms, 0.95):7.1f}")
    for searcher in backends.values():
        searcher.close()


if __name__ == "__main__":
    main()
