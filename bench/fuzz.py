"""Fuzz every parser from the real corpus files for N minutes; report inputs tried and crashes.

    python bench/fuzz.py --minutes N [--format ddi] [--seed S] [--out DIR]
    python bench/fuzz.py --blowups [--out DIR]

A crash is any exception other than a DiscoveryError from the parser `discovery ingest` would
pick (the registry wraps those as "parser failed", which hides the bug), or an input that takes
longer than --slow seconds. Each input is 1-8 random edits of a corpus file (flips, inserts,
deletions, repeats, truncation, splices of other corpus files, tokens of the formats' syntax);
crashing inputs are written to --out, one per distinct exception and place. The suite runs the
same mutations briefly (tests/sources/test_fuzz.py).

--blowups builds the issue's full-sized hostile files (a 200 MB DDI, XLSX bombs, a 2,000-page PDF,
a 60 KB CSV) and parses each in a fresh process, printing seconds and peak RSS growth.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/sources/hostile.py

from discovery.sources.budgets import Budget, spending  # noqa: E402
from tests.sources import hostile  # noqa: E402

BLOWUPS = {
    "ddi_200mb.xml": lambda: hostile.codebook(200),
    "ddi_50mb_same_names.xml": lambda: hostile.codebook(50, renamed=False),
    "xlsx_rows_2m.xlsx": lambda: hostile.workbook("rows", 2_000_000),
    "xlsx_numbered_rows_500k.xlsx": lambda: hostile.workbook("numbered_rows", 500_000),
    "xlsx_empty_rows_10m.xlsx": lambda: hostile.workbook("empty_rows", 10_000_000),
    "xlsx_shared_strings_20m.xlsx": lambda: hostile.workbook("shared_strings", 20_000_000),
    "xlsx_dimension_20k.xlsx": lambda: hostile.workbook("huge_dimension", 20_000),
    "pdf_2000_pages.pdf": lambda: hostile.pdf(pages=2_000, lines=10_000),
    "pdf_one_huge_stream.pdf": lambda: hostile.pdf(pages=1, lines=1_000_000),
    "csv_sniffer_60kb.csv": lambda: hostile.sniffer_csv(60_000),
}


def fuzz(minutes: float, only: str | None, seed: int, out: Path, slow: float) -> int:
    corpus = {name: [path.read_bytes() for path in paths]
              for name, paths in hostile.seeds().items() if name != "unknown"}
    if only:
        corpus = {only: corpus[only]}
    donors = [data for datas in corpus.values() for data in datas]
    rng = random.Random(seed)
    tried: Counter[str] = Counter()
    crashes: dict[str, tuple[str, bytes]] = {}
    slowest = (0.0, "")
    out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + minutes * 60
    with spending(Budget(seconds=slow, seconds_per_mb=0)):
        while time.monotonic() < deadline:
            name = rng.choice(sorted(corpus))
            seed_data = rng.choice(corpus[name])
            data = hostile.mutate(seed_data, rng, donors)
            suffix = {"tabular": ".csv", "questionnaire": ".txt"}.get(name, ".xml")
            if data[:2] == b"PK":
                suffix = ".xlsx"
            elif data[:5] == b"%PDF-":
                suffix = ".pdf"
            (out / "current.bin").write_bytes(data)  # what was running, if the run stalls
            started = time.perf_counter()
            crash = hostile.crash_of(f"fuzz/input{suffix}", data)
            seconds = time.perf_counter() - started
            tried[name] += 1
            slowest = max(slowest, (seconds, name))
            if crash is None and seconds > slow * 2:
                crash = f"slow: {seconds:.1f} s"
            if crash and crash.split(":")[0] not in crashes:
                key = crash.split(":")[0]
                crashes[key] = (name, data)
                (out / f"crash-{len(crashes)}-{name}{suffix}").write_bytes(data)
                print(f"crash {len(crashes)} ({name}): {crash}", flush=True)
    total = sum(tried.values())
    print(f"{total:,} inputs in {minutes:g} min ({total / (minutes * 60):.0f}/s), "
          f"{len(crashes)} distinct crashes; slowest {slowest[0]:.2f} s ({slowest[1]})")
    for name, count in sorted(tried.items()):
        found = sum(1 for crashed, _ in crashes.values() if crashed == name)
        print(f"  {name:14} {count:8,} inputs  {found} crashes")
    return 1 if crashes else 0


def blowups(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, build in BLOWUPS.items():
        path = out / name
        path.write_bytes(build())
        outcome = hostile.measure(path, timeout=900)
        result = (f"{outcome['records']:,} records" if outcome.get("records") is not None
                  else outcome.get("failure") or outcome.get("crash") or outcome)
        print(f"{name:30} {path.stat().st_size / 1e6:8.2f} MB  "
              f"{outcome.get('seconds', float('nan')):7.1f} s  "
              f"{outcome.get('peak_growth_mb', float('nan')):7.0f} MB  {str(result)[:150]}", flush=True)
        path.unlink()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--format", help="one parser only (ddi, tabular, questionnaire, ...)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slow", type=float, default=5.0, help="seconds that count as a hang")
    parser.add_argument("--out", type=Path, default=Path("fuzz-out"))
    parser.add_argument("--blowups", action="store_true")
    args = parser.parse_args()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged inputs are the point here
    if args.blowups:
        return blowups(args.out)
    return fuzz(args.minutes, args.format, args.seed, args.out, args.slow)


if __name__ == "__main__":
    sys.exit(main())
