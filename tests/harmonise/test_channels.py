from __future__ import annotations

import numpy as np
import pytest

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.channels import CHANNELS, Encoded, channel_rows, weighted
from discovery.harmonise.polarity import core_text
from discovery.index.embed import EmbeddingCache, get_embedder

TEXTS = ["Feeling nervous, anxious or on edge", "Not being able to stop or control worrying",
         "Poor concentration", "Squirmy, fidgety child"]


def encoded(cache: EmbeddingCache) -> Encoded:
    minilm, e5 = get_embedder("minilm"), get_embedder("e5")
    cores = [core_text(t) for t in TEXTS]
    return Encoded(TEXTS, cores, cache.encode(minilm, TEXTS, "passage"),
                   cache.encode(minilm, cores, "passage"), cache.encode(e5, TEXTS, "passage"))


def test_every_channel_is_unit_rows(small_bank: ItemBank, small_e5_bank: ItemBank,
                                    embedding_cache: EmbeddingCache) -> None:
    rows = channel_rows(encoded(embedding_cache), small_bank, small_e5_bank, CHANNELS)
    assert set(rows) == set(CHANNELS)
    for name, block in rows.items():
        assert block.shape[0] == len(TEXTS), name
        assert np.allclose(np.linalg.norm(block, axis=1), 1, atol=1e-5), name
    # the bank's reading differs from the plain cosine, or it would add nothing
    assert not np.allclose(rows["text"] @ rows["text"].T, rows["plain"] @ rows["plain"].T, atol=0.01)


def test_weighted_rows_multiply_to_the_weighted_sum_of_cosines(small_bank: ItemBank,
                                                                small_e5_bank: ItemBank,
                                                                embedding_cache: EmbeddingCache) -> None:
    weights = {"text": 0.5, "core_context": 0.2, "e5_context": 0.3, "groups": 0.0}
    rows = channel_rows(encoded(embedding_cache), small_bank, small_e5_bank, list(weights))
    joined = weighted(rows, weights)
    expected = sum(w * (rows[name] @ rows[name].T) for name, w in weights.items())
    assert np.allclose(joined @ joined.T, expected, atol=1e-5)
    assert joined.shape[1] == sum(rows[name].shape[1] for name in ("text", "core_context", "e5_context"))
    # the same numbers as scaling in float64, stacking and rounding once (how it was done first)
    stacked = np.hstack([np.sqrt(w) * rows[name] for name, w in weights.items() if w > 0])
    assert joined.dtype == np.float32 and np.array_equal(joined, stacked.astype(np.float32))


def test_unknown_channels_and_a_missing_e5_bank_are_refused(small_bank: ItemBank,
                                                            embedding_cache: EmbeddingCache) -> None:
    items = encoded(embedding_cache)
    with pytest.raises(ValueError, match="unknown channels: shoe size"):
        channel_rows(items, small_bank, None, ["text", "shoe size"])
    with pytest.raises(ValueError, match="e5 bank"):
        channel_rows(items, small_bank, None, ["e5"])
    assert set(channel_rows(items, small_bank, None, ["text", "groups", "e5_plain"])) == {
        "text", "groups", "e5_plain"}
