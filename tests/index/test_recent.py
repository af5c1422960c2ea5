"""The unfiltered lists a reader keeps for its recent queries: which depths a kept list answers,
that it is read-only, and that the least recently used goes first."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.index.recent import RecentLists


def lists(depth: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(depth, dtype=np.int64), np.linspace(1.0, 0.1, depth).astype(np.float32)


def test_a_deeper_list_answers_a_shallower_call_where_the_top_k_is_exact():
    recent = RecentLists(shallower=True)
    rows, scores = lists(100)
    recent.put("q", 100, rows, scores)
    found = recent.get("q", 1)
    assert found is not None
    assert found[0].tolist() == [0] and found[1].tolist() == [pytest.approx(1.0)]
    assert recent.get("q", 101) is None  # never deeper than it was read
    recent.put("q", 1, rows[:1], scores[:1])  # a shallower list does not replace it
    assert recent.get("q", 100) is not None


def test_where_the_depth_changes_the_search_a_list_answers_its_own_depth_only():
    recent = RecentLists(shallower=False)
    recent.put("v", 100, *lists(100))
    assert recent.get("v", 10) is None
    found = recent.get("v", 100)
    assert found is not None and len(found[0]) == 100


def test_kept_lists_are_read_only_copies():
    recent = RecentLists(shallower=True)
    rows, scores = lists(5)
    kept_rows, _ = recent.put("q", 5, rows, scores)
    rows[0] = 99  # the caller's own array changes: the kept one does not
    found = recent.get("q", 5)
    assert found is not None and found[0][0] == 0
    with pytest.raises(ValueError):
        kept_rows[0] = 7
    with pytest.raises(ValueError):
        found[1][0] = 7.0


def test_the_least_recently_used_list_goes_first():
    recent = RecentLists(shallower=True, size=2)
    recent.put("a", 3, *lists(3))
    recent.put("b", 3, *lists(3))
    assert recent.get("a", 3) is not None  # "a" used: "b" is now the oldest
    recent.put("c", 3, *lists(3))
    assert len(recent) == 2
    assert recent.get("b", 3) is None
    assert recent.get("a", 3) is not None and recent.get("c", 3) is not None
    recent.clear()
    assert len(recent) == 0 and recent.get("a", 3) is None
