"""One matcher for the whole session: loading the two models takes seconds, encoding is cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.items import instruments_from_files
from discovery.harmonise.matcher import Matcher
from discovery.index.embed import EmbeddingCache, get_embedder


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingCache:
    return EmbeddingCache(tmp_path_factory.mktemp("harmonise") / "embeddings.sqlite")


@pytest.fixture(scope="session")
def matcher(embedding_cache: EmbeddingCache) -> Matcher:
    return Matcher(None, embedding_cache)


@pytest.fixture(scope="session")
def small_bank(corpus: Path, embedding_cache: EmbeddingCache) -> ItemBank:
    """A few hundred real questionnaire items: enough context to exercise the bank path quickly."""
    files = sorted((corpus / "instruments" / "harmony_original_csv").glob("*.csv"))
    items = [(item.text, instrument.id) for instrument in instruments_from_files([str(p) for p in files])
             for item in instrument.items]
    return ItemBank.from_items(items, get_embedder("minilm"), embedding_cache)


@pytest.fixture(scope="session")
def small_e5_bank(corpus: Path, embedding_cache: EmbeddingCache) -> ItemBank:
    """The same items encoded by e5, for a matcher that reads English equivalence with both."""
    files = sorted((corpus / "instruments" / "harmony_original_csv").glob("*.csv"))
    items = [(item.text, instrument.id) for instrument in instruments_from_files([str(p) for p in files])
             for item in instrument.items]
    return ItemBank.from_items(items, get_embedder("e5"), embedding_cache)
