"""The CPU one page costs when nothing is cached: each URL asked again and again of one app in
this process (page cache off, the services' view and search caches emptied before every request,
so each answer is built as on a first visit; query vectors stay cached), with the median CPU time
of the process per request. CPU time rather than the clock, so a loaded machine does not decide
the figure; run it alternately on two versions of the code (PYTHONPATH=OTHER/src) to compare.

    .venv/bin/python bench/page_cost.py --data DIR [--repeats 15] [URL...]

Default URLs: the page mix's costliest kinds on the demo catalogue (bench/api_load.py
--first-pass): a study with 271 variables, its variables through the API, a study with 573, the
catalogue's counts, and a variable page with its look-alike search.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from fastapi.testclient import TestClient

from discovery.server.app import create_app
from discovery.server.cache import ResponseCache

URLS = ["/items/alspac", "/api/items/alspac/variables?size=50",
        "/items/european-social-survey-in-switzerland-2004", "/api/stats", "/variables/alspac.q165"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("urls", nargs="*", default=URLS)
    args = parser.parse_args()
    app = create_app(args.data, page_cache_bytes=0)
    services = app.state.services
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for url in args.urls:  # models loaded, the index opened
            if client.get(url).status_code != 200:
                raise SystemExit(f"{url} did not answer 200 from {args.data}")
        for url in args.urls:
            spent = []
            for _ in range(args.repeats):
                services.cache = ResponseCache(services.cache.max_bytes)  # a first visit
                began = time.process_time()
                client.get(url)
                spent.append((time.process_time() - began) * 1000)
            print(f"{statistics.median(spent):7.1f} ms CPU (median of {args.repeats})  {url}")


if __name__ == "__main__":
    main()
