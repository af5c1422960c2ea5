"""Kill `discovery ingest` with SIGKILL at random moments, run it again, and check the result
equals an uninterrupted run's: the corpus-sized version of `tests/cli/test_interrupted.py`.

    .venv/bin/python bench/kill.py [--kills 50] [--seed 1] [--cache data/index/embeddings.sqlite]

The base is the corpus without the files the update brings (a GtR grant the dataset seed links
to, five DDI studies, the CESSDA CMM files) and with the first 400 rows of the variables file,
linked and indexed with MiniLM; the update brings those files and changes the variables file
(rows 301-400: the first relabelled, the rest gone; rows 401-500 new). Each kill: a copy of the
base, `discovery ingest UPDATE` killed after a random delay inside one of `--kills` equal slices
of an uninterrupted run, the same command run again, then the comparison (catalogue records,
links and clusters; the index's documents, vocabulary, and answers to six queries with their
scores; no folder left beside the published generation). `--cache` starts the base from an
existing embedding cache (`make demo` leaves one), so only texts it lacks are encoded.

Prints each kill (delay, where it landed, differences) and `kills survived: K/N`.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the harness is the test suite's, so both check the same thing

from tests.cli.kills import PHASES, VARIABLES, scenario  # noqa: E402

UPDATE = ["seeds/002_c114f96cc0523e31.txt", "ddi/ddi25_gesis_ZA5300_gles_2009_preelection.xml",
          "ddi/ddi32_gesis_ZA5300_gles_2009_preelection.xml",
          "ddi/ddi25_ukds_SN1683_machinery_of_government_1976.xml",
          "ddi/ddi25_ukds_SN6684_childcare_early_years_parents_2009.xml",
          "ddi/ddi25_ukds_SN2000_family_life_work_before_1918.xml", "cessda_cmm_json"]
LEFT_OUT = ["matching_benchmarks", "SOURCES.md", VARIABLES]  # not catalogue input; the variables: rows


def base_files(corpus: Path) -> list[str]:
    """Every corpus file the update does not bring."""
    skip = [corpus / part for part in UPDATE + LEFT_OUT]
    return sorted(str(path.relative_to(corpus)) for path in corpus.rglob("*")
                  if path.is_file() and not any(path == s or s in path.parents for s in skip))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "index" / "embeddings.sqlite")
    parser.add_argument("--rows", type=int, default=400, help="variables-file rows in the base")
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kill-bench-") as work:
        harness = scenario(args.corpus, Path(work), base_files(args.corpus), UPDATE, args.rows,
                           cache=args.cache if args.cache.is_file() else None)
        print(f"base and uninterrupted run ready in {time.perf_counter() - began:.0f} s; "
              f"an uninterrupted forked run takes {harness.seconds:.2f} s", flush=True)
        trials = []
        for trial in harness.trials(args.kills, args.seed):
            trials.append(trial)
            print(f"  kill {len(trials):3}: {trial.delay:5.2f} s, {trial.phase:8} "
                  f"{'survived' if trial.survived else 'NOT SURVIVED: ' + '; '.join(trial.differences)}",
                  flush=True)
    phases = collections.Counter(trial.phase for trial in trials)
    print("landed: " + ", ".join(f"{phases[p]} {p}" for p in PHASES))
    print(f"kills survived: {sum(t.survived for t in trials)}/{len(trials)} "
          f"({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
