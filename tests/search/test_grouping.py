"""A hit's score from its own match and its items' evidence, on hand-made pools."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.search import grouping
from discovery.search.grouping import group


def scores_of(rows: list[int], tops: list[int], scores: list[float]) -> dict[int, float]:
    grouped = group(np.array(rows), np.array(tops), np.array(scores, float))
    return dict(zip(grouped.tops.tolist(), grouped.scores.tolist(), strict=True))


def test_one_echoing_item_cannot_beat_a_record_that_matches_itself():
    # record 1 matches with 0.8; record 2 has one item (row 20) matching with 0.9
    scored = scores_of([1, 20], [1, 2], [0.8, 0.9])
    assert scored[2] == pytest.approx(0.9 * grouping.SINGLE)
    assert scored[1] > scored[2]


def test_evidence_grows_with_more_items_and_saturates():
    one = scores_of([20], [2], [0.9])[2]
    three = scores_of([20, 21, 22], [2, 2, 2], [0.9, 0.9, 0.9])[2]
    many = scores_of(list(range(20, 60)), [2] * 40, [0.9] * 40)[2]
    assert one < three < many <= 0.9 + 1e-9


def test_a_record_and_its_items_together_beat_either_alone():
    both = scores_of([1, 10], [1, 1], [0.8, 0.8])[1]
    assert both > 0.8 and both == pytest.approx(0.8 + grouping.BOTH * 0.8 * grouping.SINGLE)


def test_items_are_counted_per_hit():
    grouped = group(np.array([1, 10, 11, 2]), np.array([1, 1, 1, 2]), np.array([0.5, 0.4, 0.3, 0.2]))
    assert grouped.items.tolist() == [2, 0]
    assert len(group(np.zeros(0, int), np.zeros(0, int), np.zeros(0)).tops) == 0
