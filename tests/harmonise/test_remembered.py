"""Vectors the matcher read lately, remembered in front of the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from discovery.harmonise.remembered import RememberedVectors
from discovery.index.embed import EmbeddingCache, get_embedder

TEXTS = ["Feeling nervous, anxious or on edge", "Trouble relaxing", "Poor concentration"]


def test_remembered_vectors_are_the_caches_and_outlive_its_rows(tmp_path: Path) -> None:
    minilm = get_embedder("minilm")
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    remembered = RememberedVectors(cache)
    first = remembered.encode(minilm, TEXTS)
    assert np.array_equal(first, cache.encode(minilm, TEXTS))  # bit for bit what the cache holds
    with cache.db:
        cache.db.execute("DELETE FROM vectors")
    assert cache.missing(minilm.name, TEXTS) == len(TEXTS)
    assert np.array_equal(remembered.encode(minilm, TEXTS[::-1]), first[::-1])  # from memory
    assert cache.missing(minilm.name, TEXTS) == len(TEXTS)  # the cache was not asked


def test_only_the_latest_vectors_are_kept(tmp_path: Path) -> None:
    minilm = get_embedder("minilm")
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    remembered = RememberedVectors(cache, kept=2)
    remembered.encode(minilm, TEXTS)
    with cache.db:
        cache.db.execute("DELETE FROM vectors")
    remembered.encode(minilm, TEXTS[1:])  # remembered: nothing goes back to the cache
    assert cache.missing(minilm.name, TEXTS) == 3
    remembered.encode(minilm, TEXTS[:1])  # forgotten: encoded again, through the cache
    assert cache.missing(minilm.name, TEXTS) == 2
