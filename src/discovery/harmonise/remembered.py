"""The vectors a matcher read from its embedding cache lately, kept in memory: reading 2,000
items' three vectors (e5, MiniLM of the text and of its core) back from SQLite was the largest
part of a warm 1,000 x 1,000 match (0.10 of 0.25 s of its item features, cProfile)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from discovery.index.embed import Embedder, EmbeddingCache

KEPT_VECTORS = 20_000  # per model (1.5 kB each at 384 dimensions)


class RememberedVectors:
    """An embedding cache with the latest `kept` vectors of each model in front of it; a vector
    comes back exactly as the cache gave it, so remembering changes no score."""

    def __init__(self, cache: EmbeddingCache, kept: int = KEPT_VECTORS) -> None:
        self.cache = cache
        self.kept = kept
        self._vectors: dict[str, OrderedDict[str, np.ndarray]] = {}
        self._lock = threading.Lock()  # a server's threads share one matcher

    def encode(self, model: Embedder, texts: Sequence[str],
               on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Passage vectors of `texts` (distinct), from memory, else through the cache."""
        out = np.empty((len(texts), model.dim), np.float32)
        todo = []
        with self._lock:
            recent = self._vectors.setdefault(model.name, OrderedDict())
            for position, text in enumerate(texts):
                vector = recent.get(text)
                if vector is None:
                    todo.append(position)
                else:
                    recent.move_to_end(text)
                    out[position] = vector
        if todo:
            read = self.cache.encode(model, [texts[i] for i in todo], "passage", on_batch=on_batch)
            out[todo] = read
            with self._lock:
                for position, vector in zip(todo, read, strict=True):
                    recent[texts[position]] = vector
                    recent.move_to_end(texts[position])
                while len(recent) > self.kept:
                    recent.popitem(last=False)
        return out
