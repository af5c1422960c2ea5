"""The unfiltered result lists of a reader's recent queries, kept so that the next requests of
one query (its next page, a click on a facet) do not search the whole index for them again.

Every request of a query reads its unfiltered lists, whatever its filters: the relevance cuts and
the scaling of scores are the unfiltered query's (`search/pipeline.py`). At a million rows those
calls are most of a filtered query's CPU: tantivy's unfiltered best (top 1) took a median 2.1 ms
and faiss's unfiltered top 1,000 4.4 ms of a 11.4 ms query (bench/search.py's 100 filtered
queries, their retrievers in turn). A reader reads one published generation, which never
changes, so a kept list stays exactly what searching again would find.

Lists are kept by key, the least recently used dropped beyond `size`. Where the engine's top k is
exact (tantivy), a list read to some depth also answers a shallower call with its first rows (the
best k by score; among rows of equal score it may list others than a fresh call would). Where the
depth changes the search itself (HNSW reads as wide as its depth), a list answers its own depth
only. The arrays handed out are read-only: a caller that changed one in place would change every
later answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

SIZE = 256  # queries kept per list kind: at a depth of 1,000, 12 KB each


@dataclass(frozen=True)
class _Kept:
    depth: int
    rows: np.ndarray
    scores: np.ndarray


class RecentLists:
    """Recent (rows, scores) lists by query key; thread-safe."""

    def __init__(self, shallower: bool, size: int = SIZE) -> None:
        self.shallower = shallower  # whether a deeper list answers a shallower call
        self.size = size
        self._lists: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The kept list's best `k` rows and scores, or None when none is kept deep enough."""
        slot = key if self.shallower else (key, k)
        with self._lock:
            kept = self._lists.get(slot)
            if kept is None or kept.depth < k:
                return None
            self._lists.move_to_end(slot)
        return kept.rows[:k], kept.scores[:k]

    def put(self, key: Hashable, k: int, rows: np.ndarray, scores: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
        """Keep the best `k` rows found for `key` (all of them when fewer matched); returns them
        as kept, read-only like every later answer."""
        slot = key if self.shallower else (key, k)
        kept = _Kept(k, _frozen(rows), _frozen(scores))
        with self._lock:
            held = self._lists.get(slot)
            if held is None or held.depth <= k:  # a shallower list never replaces a deeper one
                self._lists[slot] = kept
            self._lists.move_to_end(slot)
            while len(self._lists) > self.size:
                self._lists.popitem(last=False)
        return kept.rows, kept.scores

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()

    def __len__(self) -> int:
        return len(self._lists)


def _frozen(values: np.ndarray) -> np.ndarray:
    kept = np.array(values, copy=True)
    kept.setflags(write=False)
    return kept
