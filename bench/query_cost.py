"""What a distinct search costs in CPU, and where it goes: `/api/search` of the real app in this
process (no socket) answers `--searches` queries of three words drawn from bench/api_load.py's
vocabulary, none of them asked before, and the CPU time of the search's parts is added up per
thread as they run (each part's function is wrapped by a timer for this run only).

    python bench/query_cost.py --data DIR [--searches 200] [--seed N]

DIR is copied to a scratch folder without its shared query vectors (`index/queries.sqlite`), so
every query is encoded. Prints the process's CPU milliseconds per search (the test client's share
included) and each part's; parts nest (the pipeline holds retrieval, which holds the encoders).
CPU time, not the clock: on a shared machine it moves far less with the load, so two versions can
be compared run against run; alternate them and give the load.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as `discovery serve` sets for its workers
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402

import discovery.index.docstore as docstore  # noqa: E402
import discovery.index.embed as embed  # noqa: E402
import discovery.index.lexical as lexical  # noqa: E402
import discovery.index.vectors as vectors  # noqa: E402
import discovery.search.pipeline as pipeline  # noqa: E402
import discovery.search.ranker as ranker  # noqa: E402
import discovery.server.routes as routes  # noqa: E402
from discovery.server.app import create_app  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from api_load import VOCABULARY  # noqa: E402  (bench/ is not a package)

# (owner, function, label): what is timed
PARTS: list[tuple[Any, str, str]] = [
    (pipeline._Search, "search", "search pipeline, all"),
    (pipeline._Search, "_pool", "  retrieval and fusion"),
    (embed.E5, "encode", "    e5 encoding"),
    (embed.MiniLM, "encode", "    MiniLM encoding"),
    (vectors.VectorIndex, "search", "    faiss searches"),
    (vectors.VectorIndex, "similarities", "    stored-vector cosines"),
    (lexical.LexicalIndex, "search", "    tantivy searches (a helper thread)"),
    (pipeline._Search, "_learned", "  learned ranker"),
    (ranker, "text_features", "    its text features"),
    (pipeline._Search, "_hits", "  page of hits and explanations"),
    (docstore.DocStore, "bodies", "  document bodies read (in both above)"),
    (pipeline._Search, "_facets", "  facet counts"),
    (routes, "search_view", "search view (links, facet options)"),
]


def timed(function: Callable[..., Any], label: str, spent: Counter[str]) -> Callable[..., Any]:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - began
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="an indexed data folder (not changed)")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    spent: Counter[str] = Counter()
    for owner, name, label in PARTS:
        setattr(owner, name, timed(getattr(owner, name), label, spent))
    rng = random.Random(args.seed)
    asked = list(dict.fromkeys(" ".join(rng.choice(VOCABULARY) for _ in range(3))
                               for _ in range(args.searches)))
    with tempfile.TemporaryDirectory(prefix="query-cost-") as scratch:
        data = Path(scratch) / "data"
        shutil.copytree(args.data, data, ignore=shutil.ignore_patterns("queries.sqlite*"))
        with TestClient(create_app(data), base_url="http://127.0.0.1") as client:
            for warm in ("warm up", "the models load"):  # not among the vocabulary's words
                client.get("/api/search", params={"q": warm})
            spent.clear()
            began = time.process_time()
            for query in asked:
                response = client.get("/api/search", params={"q": query})
                if response.status_code != 200:
                    sys.exit(f"{query!r}: HTTP {response.status_code}: {response.text[:200]}")
            total = time.process_time() - began
    print(f"{len(asked)} distinct searches: {1000 * total / len(asked):.2f} ms of CPU each "
          "(the process: app, test client, every thread)")
    for _, _, label in PARTS:
        print(f"{1000 * spent[label] / len(asked):8.2f} ms  {label}")


if __name__ == "__main__":
    main()
