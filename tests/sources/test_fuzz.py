"""Fuzzing each parser from the real corpus files, briefly (Hypothesis; `bench/fuzz.py --minutes N`
runs the same mutations for as long as asked).

A mutated corpus file (1-8 random flips, inserts, deletions, repeats, truncations, splices of
other corpus files or format tokens) must give records or one DiscoveryError, from the parser
`discovery ingest` would pick, within a small time budget: any other exception is a parser bug
that the registry would only have reported as "parser failed".
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery.sources.budgets import Budget, spending
from tests.sources import hostile

FORMATS = ("ddi", "tabular", "questionnaire", "oai-pmh", "dublin-core", "dcat", "ckan",
           "cessda-cmm", "gtr", "schema.org")
SECONDS = 5.0  # per input; they take ~10 ms, the slowest seen in long runs about 1.5 s


@pytest.fixture(scope="module")
def seeds(corpus: Path) -> dict[str, list[tuple[str, bytes]]]:
    return {name: [(path.name, path.read_bytes()) for path in paths]
            for name, paths in hostile.seeds(max_bytes=200_000).items()}


@pytest.mark.parametrize("name", FORMATS)
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_corpus_files_give_records_or_one_discovery_error(
        seeds: dict[str, list[tuple[str, bytes]]], name: str, data: st.DataObject) -> None:
    file_name, original = seeds[name][data.draw(st.integers(0, len(seeds[name]) - 1), label="seed")]
    donors = [content for files in seeds.values() for _, content in files]
    mutated = hostile.mutate(original, data.draw(st.randoms(use_true_random=False)), donors)
    started = time.perf_counter()
    with spending(Budget(seconds=2.0, seconds_per_mb=0)):
        crash = hostile.crash_of(f"fuzz/{file_name}", mutated)
    assert crash is None, f"{file_name} mutated ({len(mutated)} bytes): {crash}"
    assert time.perf_counter() - started < SECONDS, f"{file_name} mutated took too long"


def test_every_parser_has_corpus_files_to_start_from(seeds: dict[str, list[tuple[str, bytes]]]) -> None:
    assert set(FORMATS) <= set(seeds)
