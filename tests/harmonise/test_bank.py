from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from discovery.harmonise import bank as bank_module
from discovery.harmonise.bank import ItemBank
from discovery.index.embed import EmbeddingCache, get_embedder, normalise


def random_bank(rows: int, dim: int = 16, groups: int = 5, seed: int = 0) -> ItemBank:
    rng = np.random.default_rng(seed)
    vectors = normalise(rng.normal(size=(rows, dim)).astype(np.float32))
    ids = rng.integers(0, groups, size=(rows, 1)).astype(np.int32)
    return ItemBank("test", vectors, np.zeros(dim, np.float32), ids, np.ones((rows, 1), np.float32))


def exact_top(bank: ItemBank, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ bank.vectors.T), axis=1)[:, :k]


def test_neighbours_are_the_nearest_bank_rows_best_first() -> None:
    bank = random_bank(500)
    queries = normalise(np.random.default_rng(1).normal(size=(30, 16)).astype(np.float32))
    found = bank.neighbours([f"q{n}" for n in range(30)], queries, 10)
    assert np.array_equal(found.rows, exact_top(bank, queries, 10))
    assert np.all(np.diff(found.similarity, axis=1) <= 1e-6)
    assert np.array_equal(found.top(3).rows, found.rows[:, :3])


def test_a_text_is_searched_once() -> None:
    bank = random_bank(500)
    rng = np.random.default_rng(2)
    first = normalise(rng.normal(size=(4, 16)).astype(np.float32))
    texts = ["a", "b", "c", "d"]
    remembered = bank.neighbours(texts, first, 10)
    other = normalise(rng.normal(size=(4, 16)).astype(np.float32))
    again = bank.neighbours(texts, other, 10)  # same texts, other vectors: the first answer stands
    assert np.array_equal(again.rows, remembered.rows)
    fewer = bank.neighbours(texts, other, 5)
    assert np.array_equal(fewer.rows, remembered.rows[:, :5])
    more = bank.neighbours(texts, other, 20)  # more neighbours than were kept: searched afresh
    assert np.array_equal(more.rows, exact_top(bank, other, 20))


def test_remembered_texts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bank_module, "KEPT_TEXTS", 10)
    bank = random_bank(100)
    queries = normalise(np.random.default_rng(3).normal(size=(25, 16)).astype(np.float32))
    texts = [f"t{n}" for n in range(25)]
    bank.neighbours(texts, queries, 5)
    other = normalise(np.random.default_rng(4).normal(size=(25, 16)).astype(np.float32))
    again = bank.neighbours(texts, other, 5)
    assert np.array_equal(again.rows[-10:], exact_top(bank, queries, 5)[-10:])  # the latest kept
    assert np.array_equal(again.rows[:15], exact_top(bank, other, 5)[:15])  # the oldest forgotten


def test_a_large_bank_is_searched_through_hnsw_with_high_recall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bank_module, "EXACT_LIMIT", 1_000)
    bank = random_bank(5_000)
    queries = normalise(np.random.default_rng(5).normal(size=(200, 16)).astype(np.float32))
    found = bank.neighbours([f"q{n}" for n in range(200)], queries, 10)
    exact = exact_top(bank, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found.rows, exact, strict=True)])
    assert recall >= 0.95


def test_group_profiles_weigh_the_neighbours_groups() -> None:
    vectors = normalise(np.array([[1, 0.1], [1, -0.1], [0.1, 1], [-0.1, 1]], np.float32))
    ids = np.array([[0, -1], [0, 1], [2, -1], [2, -1]], np.int32)  # row 1 is in groups 0 and 1
    shares = np.array([[1, 0], [0.5, 0.5], [1, 0], [1, 0]], np.float32)
    bank = ItemBank("test", vectors, np.zeros(2, np.float32), ids, shares)
    queries = normalise(np.array([[1, 0], [1, 0.05], [0, 1]], np.float32))
    profile = bank.group_profile(bank.neighbours(["x", "y", "z"], queries, 2))
    assert profile.shape == (3, 3)  # groups 0, 1 and 2 reached
    assert np.allclose(np.linalg.norm(profile, axis=1), 1)
    assert profile[0] @ profile[1] > 0.99  # the same instruments around them
    assert profile[0] @ profile[2] == pytest.approx(0)  # no instrument in common


def test_from_items_keeps_english_texts_with_their_groups(embedding_cache: EmbeddingCache) -> None:
    items = [("Feeling nervous, anxious or on edge", "GAD-7"), ("Trouble relaxing", "GAD-7"),
             ("Trouble relaxing", "PHQ-4"), ("I felt depressed", "CES-D"),
             ("Sentir-se nervoso, ansioso ou muito tenso", "GAD-7 pt"), ("Tells lies", "")]
    bank = ItemBank.from_items(items, get_embedder("minilm"), embedding_cache)
    assert len(bank) == 4  # the Portuguese item is left out
    rows = {float(share) for share in bank.group_shares[bank.group_ids.max(1) >= 0].ravel()}
    assert rows <= {0.0, 0.5, 1.0} and 0.5 in rows  # "Trouble relaxing" is in two groups
    assert (bank.group_ids == -1).all(axis=1).sum() == 1  # "Tells lies" has no group
    with pytest.raises(ValueError, match="English"):
        ItemBank.from_items([("Sentir-se nervoso, ansioso ou muito tenso", "x")],
                            get_embedder("minilm"), embedding_cache)


def test_threads_share_one_bank() -> None:
    """The server's worker threads search one bank at once: every answer stays exact."""
    bank = random_bank(2_000)
    queries = normalise(np.random.default_rng(6).normal(size=(400, 16)).astype(np.float32))
    texts = [f"q{n}" for n in range(400)]
    exact = exact_top(bank, queries, 10)

    def search(start: int) -> np.ndarray:
        rows = slice(start, start + 200)
        return bank.neighbours(texts[rows], queries[rows], 10).rows

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(search, [0, 100, 200, 0, 100, 200] * 4))
    for start, rows in zip([0, 100, 200, 0, 100, 200] * 4, found, strict=True):
        assert np.array_equal(rows, exact[start:start + 200])


def test_most_keeps_texts_evenly_through_the_bank(embedding_cache: EmbeddingCache) -> None:
    """A bank read for its mean only may take a sample: the first, middle and last of the sorted
    texts when three of nine are kept, and the mean is theirs."""
    texts = sorted(f"How often do you feel {word}?" for word in
                   ("tired", "sad", "calm", "angry", "hopeful", "lonely", "restless", "worried", "happy"))
    minilm = get_embedder("minilm")
    whole = ItemBank.from_items([(t, "instrument") for t in texts], minilm, embedding_cache)
    sample = ItemBank.from_items([(t, "instrument") for t in texts], minilm, embedding_cache, most=3)
    assert len(whole) == 9 and len(sample) == 3
    expected = embedding_cache.encode(minilm, [texts[0], texts[4], texts[8]]).mean(0)
    assert np.allclose(sample.mean, expected, atol=1e-5)
    assert not np.allclose(whole.mean, expected, atol=1e-3)


def test_a_texts_context_is_its_neighbourhood_and_is_remembered() -> None:
    bank = random_bank(300)
    rng = np.random.default_rng(3)
    queries = normalise(rng.normal(size=(5, 16)).astype(np.float32))
    texts = [f"t{n}" for n in range(5)]
    context = bank.context(texts, queries, 7)
    assert np.allclose(context, bank.neighbourhood(bank.neighbours(texts, queries, 7)), atol=1e-6)
    other = normalise(rng.normal(size=(5, 16)).astype(np.float32))
    assert np.array_equal(bank.context(texts, other, 7), context)  # same texts: remembered
    assert not np.allclose(bank.context([f"u{n}" for n in range(5)], other, 7), context)
