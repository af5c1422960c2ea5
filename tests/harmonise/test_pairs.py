from __future__ import annotations

from pathlib import Path

import numpy as np

from discovery.harmonise.pairs import read_pairs, split_halves, text_parts


def texts_of(left: list[str], right: list[str], rows: np.ndarray) -> set[str]:
    return {left[i] for i in rows} | {right[i] for i in rows}


def test_benchmark_halves_share_no_text_and_no_construct(corpus: Path) -> None:
    _, rows = read_pairs(corpus / "matching_benchmarks" / "mcelroy_2020_childhood_binary.tsv")
    left, right = [r["text_1"] for r in rows], [r["text_2"] for r in rows]
    y = [float(r["y"]) for r in rows]
    tune, check = split_halves(left, right, y)
    assert not texts_of(left, right, tune) & texts_of(left, right, check)
    # every positive pair lies inside one half: a construct is never split
    positives = {i for i, label in enumerate(y) if label == 1}
    assert positives <= set(tune) | set(check)
    # balanced by texts, and both halves hold both labels
    sizes = [len(texts_of(left, right, half)) for half in (tune, check)]
    assert abs(sizes[0] - sizes[1]) <= 0.1 * sum(sizes)
    assert all(0 < np.mean([y[i] for i in half]) < 1 for half in (tune, check))
    again = split_halves(list(reversed(left)), list(reversed(right)), list(reversed(y)))
    n = len(y) - 1
    assert sorted(n - i for i in again[0]) == sorted(tune)  # row order does not change the split


def test_graded_tables_split_each_text_alone() -> None:
    # in a graded table a label of 1 joins nothing; in a 0/1 table it joins the two texts
    left = ["a", "a", "b", "c", "d", "e"]
    right = ["b", "c", "c", "d", "e", "f"]
    graded = split_halves(left, right, [1.0, 0.2, 0.5, 0.1, 0.9, 0.3])
    binary = split_halves(left, right, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert sum(map(len, binary)) == len(left)  # one chain of positives: every pair in one half
    assert 0 < sum(map(len, graded)) < len(left)  # pairs across the halves are dropped


def test_white_space_does_not_make_a_new_text() -> None:
    # each pair's two sides are one text but for spacing, so no pair can straddle the halves
    left = [f"item number {n}" for n in range(20)]
    right = [f" item  number {n}" for n in range(20)]
    tune, check = split_halves(left, right, [0.5] * 20)
    assert sorted([*tune, *check]) == list(range(20))


def test_parts_keep_positive_pairs_together_and_are_balanced() -> None:
    left = [f"item {n}" for n in range(30)]
    right = [f"other {n}" for n in range(30)]
    y = [1.0 if n % 3 == 0 else 0.0 for n in range(30)]
    part = text_parts(left, right, y, 3, "seed")
    assert set(part.values()) == {0, 1, 2}
    assert all(part[a] == part[b] for a, b, label in zip(left, right, y, strict=True) if label == 1.0)
    sizes = [list(part.values()).count(n) for n in range(3)]
    assert max(sizes) - min(sizes) <= 2  # a positive pair is two texts dealt together
    assert text_parts(left, right, y, 3, "another seed") != part  # the seed reorders the deal
    halves = split_halves(left, right, y)
    unseeded = text_parts(left, right, y, 2)
    assert all(unseeded[left[i]] == 0 == unseeded[right[i]] for i in halves[0])
