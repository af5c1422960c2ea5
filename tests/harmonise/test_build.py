"""The matcher the product builds, and its item bank encoded ahead of time by `discovery index`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from discovery.catalogue.backends import open_catalogue
from discovery.cli import app
from discovery.harmonise.bank import BankTexts, ItemBank, catalogue_question_items
from discovery.harmonise.build import bank_encoders, build_matcher, encode_item_bank, matcher_cache
from discovery.harmonise.matcher import Settings
from discovery.index.embed import MODELS, EmbeddingCache, get_embedder

FILES = ("GAD-7_English.csv", "CES_D_English.csv", "GAD-7_Portuguese.csv")


def ingested(corpus: Path, data: Path) -> Path:
    files = [str(corpus / "instruments" / "harmony_original_csv" / name) for name in FILES]
    result = CliRunner().invoke(app, ["ingest", *files, "--data", str(data)])
    assert result.exit_code == 0, result.output
    return data


def test_bank_encoded_ahead_is_the_bank_a_match_would_encode(corpus: Path, tmp_path: Path) -> None:
    data = ingested(corpus, tmp_path / "data")
    with open_catalogue(str(data)) as catalogue:
        texts = BankTexts.of(catalogue_question_items(catalogue))
    assert 20 < len(texts.texts) < 60  # GAD-7 and CES-D; the Portuguese items are not in the bank

    report = encode_item_bank(str(data))
    encoders = bank_encoders(Settings())
    assert [key for key, _ in encoders] == ["minilm", "e5"]  # the shipped scorer reads e5's bank
    assert (report.texts, report.encoded) == (len(texts.texts), 2 * len(texts.texts))
    cache = matcher_cache(str(data))
    assert cache is not None
    assert all(cache.missing(MODELS[key].name, texts.chosen(most)) == 0 for key, most in encoders)
    assert encode_item_bank(str(data)).encoded == 0  # the second time, all cached

    # bit for bit what a match encodes into an empty cache, for both models
    matcher = build_matcher(str(data))
    fresh = EmbeddingCache(tmp_path / "fresh" / "embeddings.sqlite")
    for built, key in ((matcher.bank, "minilm"), (matcher.multilingual_bank, "e5")):
        assert built is not None
        at_match_time = ItemBank.from_texts(texts, get_embedder(key), fresh)
        assert np.array_equal(built.vectors, at_match_time.vectors)
        assert np.array_equal(built.mean, at_match_time.mean)
        assert np.array_equal(built.group_ids, at_match_time.group_ids)


def test_no_english_questions_no_bank(corpus: Path, tmp_path: Path) -> None:
    portuguese = corpus / "instruments" / "harmony_original_csv" / "GAD-7_Portuguese.csv"
    data = tmp_path / "data"
    assert CliRunner().invoke(app, ["ingest", str(portuguese), "--data", str(data)]).exit_code == 0
    assert encode_item_bank(str(data)).texts == 0
    assert build_matcher(str(data)).bank is None
    assert encode_item_bank(str(tmp_path / "nothing here")).texts == 0
