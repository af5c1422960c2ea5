"""The JSON answers of a fixed set of distinct searches, written one a line, so that a change made
to cut what a search costs can show it changes no result: run it before and after, then compare
the two files byte for byte (`cmp`).

    python bench/search_answers.py --data DIR --out FILE [--words 300] [--seed 15]

The searches: the 75 tuning judgments' queries, and `--words` queries of three words drawn with a
fixed seed from bench/api_load.py's vocabulary (its distinct searches); each plain, every third
also with one of api_load's facet filters. Each is answered by `GET /api/search` of the real app in
this process (no socket), and written as its response body with the `took_ms` value blanked, the
one field that is a timing. DIR is copied to a scratch folder first and the copy is searched:
serving remembers query vectors in the index folder (`index/queries.sqlite`), so a second run on
the same folder would reuse the first run's vectors and hide a change to an encoder. Only tuning
queries are read: the check half and the blind set are never run here.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from discovery.search.evaluate import load_judgments
from discovery.server.app import create_app

sys.path.insert(0, str(Path(__file__).parent))
from api_load import FILTERS, VOCABULARY  # noqa: E402  (bench/ is not a package)

TUNING = (Path("bench/judgments/search_tune.tsv"), Path("bench/judgments/search_tune_languages.tsv"),
          Path("bench/judgments/search_tune_more.tsv"))
TOOK = re.compile(rb'"took_ms":[-0-9.e]+')


def queries(words: int, seed: int) -> list[str]:
    """The tuning queries, then `words` three-word queries, without repeats, in a fixed order."""
    found = [query for path in TUNING for query in load_judgments(path)]
    rng = random.Random(seed)
    drawn = [" ".join(rng.choice(VOCABULARY) for _ in range(3)) for _ in range(words)]
    return list(dict.fromkeys(found + drawn))


def paths(texts: list[str]) -> list[str]:
    """Each query as an API address, plain and, for every third, filtered as well."""
    out = []
    for number, text in enumerate(texts):
        out.append("/api/search?" + urlencode({"q": text}))
        facet = FILTERS[1 + number % (len(FILTERS) - 1)]
        if number % 3 == 0 and facet:
            out.append("/api/search?" + urlencode({"q": text, "filter": facet}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="an indexed data folder (not changed)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the answers")
    parser.add_argument("--words", type=int, default=300, help="three-word queries besides the tuning ones")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    asked = paths(queries(args.words, args.seed))
    with tempfile.TemporaryDirectory(prefix="search-answers-") as scratch:
        data = Path(scratch) / "data"
        shutil.copytree(args.data, data, ignore=shutil.ignore_patterns("queries.sqlite*"))
        with TestClient(create_app(data), base_url="http://127.0.0.1") as client, open(args.out, "wb") as out:
            for path in asked:
                response = client.get(path)
                if response.status_code != 200:
                    sys.exit(f"{path}: HTTP {response.status_code}: {response.text[:200]}")
                out.write(TOOK.sub(b'"took_ms":0', response.content) + b"\n")
    print(f"{len(asked)} answers written to {args.out}")


if __name__ == "__main__":
    main()
