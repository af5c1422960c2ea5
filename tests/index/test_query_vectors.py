"""The query-vector cache the server's processes share: what one process encodes, another reads;
it holds no query text, stays within its size, and never waits on another process's write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from discovery.index.query_vectors import PRUNE_EVERY, QueryVectors, open_query_vectors


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((1, 384), dtype=np.float32)


def test_a_vector_one_process_stored_is_read_by_another(tmp_path: Path):
    first = QueryVectors(tmp_path / "queries.sqlite", "model-a")
    second = QueryVectors(tmp_path / "queries.sqlite", "model-a")
    assert second.get("loneliness in older adults") is None
    first.put("loneliness in older adults", vector(1))
    found = second.get("loneliness in older adults")
    assert found is not None and found.shape == (1, 384)
    assert np.array_equal(found, vector(1))
    other_model = QueryVectors(tmp_path / "queries.sqlite", "model-b")
    assert other_model.get("loneliness in older adults") is None  # vectors of two models differ


def test_the_query_text_is_not_stored(tmp_path: Path):
    cache = QueryVectors(tmp_path / "queries.sqlite", "model-a")
    cache.put("my private search about debt", vector(2))
    cache.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert b"private search" not in stored


def test_the_oldest_vectors_leave_past_the_limit(tmp_path: Path):
    cache = QueryVectors(tmp_path / "queries.sqlite", "model-a", limit=100)
    for n in range(PRUNE_EVERY):
        cache.put(f"query {n}", vector(n))
    assert len(cache) == 100
    assert cache.get(f"query {PRUNE_EVERY - 1}") is not None
    assert cache.get("query 0") is None


def test_a_write_while_another_process_writes_is_skipped_not_waited_for(tmp_path: Path):
    cache = QueryVectors(tmp_path / "queries.sqlite", "model-a")
    writer = sqlite3.connect(tmp_path / "queries.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        cache.put("anxiety", vector(3))  # returns at once instead of raising or blocking
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert cache.get("anxiety") is None
    cache.put("anxiety", vector(3))
    assert cache.get("anxiety") is not None


def test_a_folder_it_cannot_write_means_no_shared_cache(tmp_path: Path):
    assert open_query_vectors(tmp_path / "missing" / "queries.sqlite", "model-a") is None
