"""Crawl the whole site from `/` and list every internal link that fails: an error status, a link
that opens JSON, a search that finds nothing (`discovery.server.crawler`). The test suite runs the
same crawler on a small catalogue; this runs it on a full one.

    .venv/bin/python bench/crawl.py --data DIR [--workers 4] [--search-pages 2] [--max N]
    .venv/bin/python bench/crawl.py --url http://127.0.0.1:8000
    .venv/bin/python bench/crawl.py --url http://127.0.0.1:8000 --counts

Without --url it serves DIR itself on 127.0.0.1 (a free port). Prints progress, then what was
fetched by section, the problems grouped by reason with the page that linked to each, and exits
1 when there is any. With --counts it also checks every count a page shows against the list its
link leads to, followed over all its pages (`discovery.server.count_check`), and lists the counts
that disagree.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test suite's server harness, so both crawl the same app

from discovery.server.count_check import check_counts  # noqa: E402
from discovery.server.crawler import CrawlReport, crawl  # noqa: E402
from tests.server.site import serve  # noqa: E402

SHOWN_PER_REASON = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", type=Path, help="catalogue folder to serve and crawl")
    where.add_argument("--url", help="a running site to crawl instead")
    parser.add_argument("--workers", type=int, default=4, help="requests in flight")
    parser.add_argument("--search-pages", type=int, default=2,
                        help="pages of one search read for links (later ones are only checked)")
    parser.add_argument("--max", type=int, default=None, help="stop after this many fetches")
    parser.add_argument("--counts", action="store_true",
                        help="check every count against its list (the whole site: --max is ignored)")
    args = parser.parse_args()
    base = args.url.rstrip("/") if args.url else serve(args.data)
    print(f"crawling {base}", flush=True)
    if args.counts:
        checked = check_counts(base, search_pages=args.search_pages, workers=args.workers)
        print(checked.crawl.summary())
        for problem in checked.crawl.problems[:SHOWN_PER_REASON]:
            print(f"  {problem.reason}: {problem.url} (linked from {problem.linked_from})")
        print(checked.summary())
        for mismatch in checked.mismatches[:SHOWN_PER_REASON * 10]:
            print(f"  {mismatch.line()}")
        return 1 if checked.mismatches or checked.crawl.problems else 0
    marks = iter(range(1000, 10**9, 1000))
    mark = next(marks)

    def progress(report: CrawlReport) -> None:
        nonlocal mark
        if report.fetched >= mark:
            print(f"  {report.summary()}", flush=True)
            while report.fetched >= mark:
                mark = next(marks)

    report = crawl(base, search_pages=args.search_pages, workers=args.workers,
                   max_fetches=args.max, progress=progress)
    print(report.summary())
    grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for problem in report.problems:
        grouped[problem.reason].append((problem.url, problem.linked_from))
    for reason, found in sorted(grouped.items(), key=lambda item: -len(item[1])):
        print(f"\n{reason}: {len(found)}")
        for url, linked_from in found[:SHOWN_PER_REASON]:
            print(f"  {url}\n    linked from {linked_from}")
        if len(found) > SHOWN_PER_REASON:
            print(f"  ... and {len(found) - SHOWN_PER_REASON} more")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
