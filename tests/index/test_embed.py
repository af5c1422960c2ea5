"""MiniLM batches by tokens to bound onnxruntime's memory; its vectors are those of the old
batches of 64 texts padded to the longest."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from discovery.catalogue.store import Catalogue
from discovery.errors import DiscoveryError
from discovery.index.build import read_documents
from discovery.index.embed import MiniLM, get_embedder, normalise

ITEMS = "instruments/variables_alspac_sws_advance_ahms_aesop_items.csv"


@pytest.fixture(scope="module")
def texts(index_data: Path, corpus: Path) -> list[str]:
    """500 real texts: every embedded text of the shared index (up to 256 tokens), then items."""
    with Catalogue(index_data) as catalogue:
        found = [doc.embed_text for doc in read_documents(catalogue, catalogue.all_ids())]
    with open(corpus / ITEMS, newline="", encoding="utf-8") as handle:
        found += [row["item_text"] for row in csv.DictReader(handle)]
    found = list(dict.fromkeys(text for text in found if text.strip()))[:500]
    assert len(found) == 500
    return found


def padded_to_longest(model: MiniLM, texts: list[str]) -> np.ndarray:
    """The vectors as MiniLM made them before: batches of 64 in the cache's order (by length),
    each padded to its longest text by the tokenizer."""
    tokenizer = model.tokenizer.from_str(model.tokenizer.to_str())
    tokenizer.enable_padding()
    rows = []
    for start in range(0, len(texts), 64):
        encoded = tokenizer.encode_batch(texts[start:start + 64])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = model.session.run(None, {k: v for k, v in feeds.items() if k in model.inputs})[0]
        rows.append(normalise((hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)))
    return np.vstack(rows)


def test_token_batches_give_the_vectors_of_padded_batches(texts, monkeypatch):
    model = get_embedder("minilm")
    assert isinstance(model, MiniLM)
    by_length = sorted(texts, key=len)
    lengths = [len(model.tokenizer.encode(text).ids) for text in by_length]
    assert max(lengths) == 256 and min(lengths) < 16  # both ends of the batching are exercised
    shapes = []
    run = model._batch
    monkeypatch.setattr(model, "_batch", lambda ids, width: shapes.append((len(ids), width))
                        or run(ids, width))
    cosines = (padded_to_longest(model, by_length) * model.encode(by_length)).sum(1)
    assert cosines.min() > 0.9999
    assert sum(n for n, _ in shapes) == len(texts)
    assert all(n <= model.batch and n * width <= model.tokens for n, width in shapes)
    assert max(n for n, _ in shapes) == model.batch  # short texts still run 64 at a time


def test_vectors_come_back_in_the_callers_order(texts):
    model = get_embedder("minilm")
    sample = texts[:40] + texts[-40:]  # long and short texts mixed, unsorted
    vectors = model.encode(sample)
    alone = np.vstack([model.encode([text]) for text in sample[::9]])
    assert (vectors[::9] * alone).sum(1).min() > 0.9999
    assert model.encode([]).shape == (0, model.dim)


def test_a_server_loads_its_models_with_one_thread(tmp_path):
    """create_app asks for one thread a model: two per model in two workers on 2 cores spun
    each other out (1 query/s against 40)."""
    from discovery.server.app import create_app
    from discovery.index import embed

    try:
        embed._load.cache_clear()
        with pytest.raises(DiscoveryError):  # no catalogue here; the threads are set before that
            create_app(tmp_path)
        model = get_embedder("minilm")
        assert model.session.get_session_options().intra_op_num_threads == 1
    finally:
        embed.use_threads(2)
        embed._load.cache_clear()
