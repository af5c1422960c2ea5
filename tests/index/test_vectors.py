"""The vector index: the nearest of a few given rows, scored from the stored vectors."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.index.vectors import EXACT_LIMIT, VectorIndex


@pytest.mark.parametrize("expected", [100, EXACT_LIMIT + 1])  # exact float32, HNSW float16
def test_the_nearest_among_given_rows_are_those_a_full_scan_of_them_finds(expected):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = np.arange(400, dtype=np.int64) * 3 + 5  # rows are not positions
    index = VectorIndex.for_size(16, expected)
    index.add(rows[:200], vectors[:200])
    index.add(rows[200:], vectors[200:])
    index.remove(rows[:10])  # the exact index drops them; HNSW keeps them
    query = rng.normal(size=(1, 16)).astype(np.float32)
    asked = np.r_[rows[::2], [2, 10_000]]  # two rows the index never held
    found, scores = index.nearest_among(query, 25, asked)
    held = asked[np.isin(asked, rows[10:] if index.exact else rows)]
    truth = vectors[(held - 5) // 3] @ query[0]
    best = np.argsort(-truth, kind="stable")[:25]
    assert found.tolist() == held[best].tolist()
    assert np.allclose(scores, truth[best], atol=1e-3 if not index.exact else 1e-6)
    assert index.nearest_among(query, 5, np.array([2, 10_000]))[0].size == 0


def test_similarities_are_the_cosines_of_the_rows_held_in_the_order_asked():
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = np.arange(50, dtype=np.int64) * 2  # even rows only
    index = VectorIndex.flat(8)
    index.add(rows, vectors)
    index.remove(rows[:5])
    query = rng.normal(size=(1, 8)).astype(np.float32)
    held, scores = index.similarities(query, np.array([40, 3, 2, 98, 10, 500]))
    assert held.tolist() == [40, 98, 10]  # 3 and 500 were never held, 2 was removed
    assert np.allclose(scores, vectors[held // 2] @ query[0], atol=1e-6)
    assert index.exact
    # the exact index's vectors are read in place, bit for bit as added: the same product
    assert np.array_equal(scores, vectors[held // 2] @ query[0])
