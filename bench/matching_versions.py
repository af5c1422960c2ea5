"""Warm matching speed of two checkouts side by side, alternated in one run.

    python bench/matching_versions.py OLD_SRC [NEW_SRC]

Runs one worker process per checkout's `src` folder (NEW_SRC defaults to this one's), each with
its matcher and item banks built once from bench/matching.py's cache (filled by a run of
`python bench/matching.py --speed`), and asks them for the same warm 1,000 x 1,000 English match
(`matching.timed_match`) in turn, so a busy machine slows both alike. Prints each one's best and
median seconds and the ratio of medians, and the largest score difference between the two over
every benchmark pair (`matching.SETS`, both halves, raw scores only: no quality figure is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 10


def worker() -> None:
    """Answer each line of standard input with one timed warm match, as JSON."""
    sys.path.insert(0, str(ROOT / "bench"))
    import matching

    from discovery.harmonise.language import detect_languages
    from discovery.index.embed import EmbeddingCache

    texts = matching.corpus_texts()
    english = [text for text, lang in zip(texts, detect_languages(texts), strict=True) if lang == "en"]
    a = random.Random(4).sample(english, 1000)  # the sample bench/matching.py --speed times
    b = random.Random(5).sample(english, 1000)
    matcher = matching.our_matcher(EmbeddingCache(matching.CACHE))
    matching.timed_match(matcher, a, b)
    matching.timed_match(matcher, a, b)
    for line in sys.stdin:
        if line.strip() == "scores":
            out = {}
            for benchmark in matching.SETS:
                pairs = matching.load(benchmark)
                scored = matcher.score_pairs(pairs.left, pairs.right)
                out[benchmark.name] = {kind: getattr(scored, kind).tolist()
                                       for kind in ("score", "equivalence", "relatedness", "polarity")}
            print(json.dumps(out), flush=True)
            continue
        features, match, _ = matching.timed_match(matcher, a, b)
        print(json.dumps([features, match]), flush=True)


def start(src: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(src))
    return subprocess.Popen([sys.executable, __file__, "--worker"], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def ask(process: subprocess.Popen[str], line: str) -> Any:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, nargs="?")
    parser.add_argument("new", type=Path, nargs="?", default=ROOT / "src")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return
    if args.old is None:
        parser.error("give the old checkout's src folder")
    workers = {"old": start(args.old), "new": start(args.new)}
    times: dict[str, list[list[float]]] = {name: [] for name in workers}
    for _ in range(ROUNDS):
        for name, process in workers.items():
            times[name].append(ask(process, "time"))
    scores = {name: ask(process, "scores") for name, process in workers.items()}
    for process in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    print(f"warm 1,000 x 1,000 English items, {ROUNDS} rounds alternated; load average "
          f"{os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} cores visible")
    medians = {}
    for name, runs in times.items():
        total = np.array([sum(run) for run in runs])
        medians[name] = float(np.median(total))
        best = runs[int(total.argmin())]
        print(f"  {name} ({args.old if name == 'old' else args.new}): best {total.min():.3f} s "
              f"(item features {best[0]:.3f} + matrix, polarity and best matches {best[1]:.3f}), "
              f"median {medians[name]:.3f} s")
    print(f"  new / old, medians: {medians['new'] / medians['old']:.2f}")
    worst = 0.0
    for benchmark, kinds in scores["old"].items():
        for kind, values in kinds.items():
            other = scores["new"][benchmark][kind]
            worst = max(worst, float(np.abs(np.array(values) - np.array(other)).max()))
    print(f"  largest difference between their scores over every benchmark pair: {worst:.3g}")


if __name__ == "__main__":
    main()
