"""The dense side of the index: faiss, keyed by row.

Exact inner product (`IndexFlatIP`) while the index is small enough to scan in a few
milliseconds; HNSW over float16 vectors beyond that (half the memory of float32, recall close
to exact). Filters are a bitmap of allowed rows handed to faiss, so a filtered query still
returns its nearest allowed neighbours rather than a post-filtered remnant; a bitmap that serves
many queries (the live rows of an HNSW index, whose dead rows stay in the graph) is packed once,
as a `RowSelector`. An unfiltered exact search takes no bitmap at all: its dead rows are removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import faiss
import numpy as np

EXACT_LIMIT = 200_000  # vectors; an exact scan of this many 384-d rows takes ~15 ms on 2 cores
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80


class RowSelector:
    """Allowed rows packed into the bitmap faiss reads; the selector borrows the bits, so both
    live as long as this object."""

    def __init__(self, allowed: np.ndarray) -> None:
        self.bits = np.packbits(allowed, bitorder="little")
        self.selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(self.bits))


class VectorIndex:
    def __init__(self, index: faiss.IndexIDMap2) -> None:
        self.index = index
        self._positions: tuple[np.ndarray, np.ndarray] | None = None  # see `_stored`

    @classmethod
    def for_size(cls, dim: int, expected: int) -> "VectorIndex":
        return cls(_new_index(dim, exact=expected <= EXACT_LIMIT))

    @classmethod
    def flat(cls, dim: int) -> "VectorIndex":
        """Exact storage whatever the size, for vectors read back by row and never searched
        (the titles' beside the records', `similarities`)."""
        return cls(_new_index(dim, exact=True))

    @classmethod
    def load(cls, path: Path) -> "VectorIndex":
        # `save` wrote an IndexIDMap2, and read_index hands back the concrete class
        return cls(cast(faiss.IndexIDMap2, faiss.read_index(str(path))))

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        faiss.write_index(self.index, str(tmp))
        tmp.replace(path)

    @property
    def exact(self) -> bool:
        return isinstance(faiss.downcast_index(self.index.index), faiss.IndexFlat)

    def add(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        if len(rows):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.asarray(rows, dtype=np.int64))

    def remove(self, rows: np.ndarray) -> None:
        """Drop rows where the index can; HNSW cannot, and its dead rows are masked at search."""
        if len(rows) and self.exact:
            # faiss's stubs omit the array form its Python layer accepts (as an IDSelectorBatch)
            self.index.remove_ids(np.asarray(rows, dtype=np.int64))  # type: ignore[arg-type]

    def vector(self, row: int) -> np.ndarray | None:
        try:
            return self.index.reconstruct(int(row)).reshape(1, -1)
        except RuntimeError:
            return None

    def nearest_among(self, query: np.ndarray, k: int, rows: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` of `rows` nearest to `query` by the stored vectors themselves, best first:
        for a filter that allows a few thousand rows, scoring them is cheaper than faiss with a
        bitmap, which walks most of an HNSW graph to find them (and is exact)."""
        rows, stored = self._stored(np.asarray(rows, np.int64))
        if not len(rows) or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, found = faiss.knn(np.ascontiguousarray(query, dtype=np.float32), stored,
                                  min(k, len(rows)), metric=faiss.METRIC_INNER_PRODUCT)
        return rows[found[0]], scores[0]

    def similarities(self, query: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Those of `rows` the index holds, in their order, and their cosines with `query`."""
        held, stored = self._stored(np.asarray(rows, np.int64))
        return held, stored @ np.asarray(query, np.float32).reshape(-1)

    def _stored(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Those of `rows` the index holds, and their vectors decoded from the index's own storage
        (float32 when exact, float16 in HNSW), found through its id map (read once while the
        index keeps its size)."""
        inner = faiss.downcast_index(self.index.index)
        storage = faiss.downcast_index(inner.storage) if isinstance(inner, faiss.IndexHNSW) else inner
        if not isinstance(storage, faiss.IndexFlatCodes):  # both kinds `_new_index` makes are
            raise TypeError(f"vectors stored as {type(storage).__name__}, not as flat codes")
        total = self.index.ntotal
        if self._positions is None or len(self._positions[0]) != total:
            ids = faiss.vector_to_array(self.index.id_map)
            order = np.argsort(ids, kind="stable")
            self._positions = ids[order], order
        ids, order = self._positions
        at = np.minimum(np.searchsorted(ids, rows), max(total - 1, 0))
        held = ids[at] == rows if total else np.zeros(len(rows), bool)
        if not held.any():
            return rows[:0], np.zeros((0, self.index.d), np.float32)
        codes = faiss.rev_swig_ptr(storage.codes.data(), total * storage.code_size)
        if isinstance(storage, faiss.IndexFlat):  # its codes are the float32 vectors themselves:
            # read them in place rather than through sa_decode's copy (the same bits either way)
            return rows[held], codes.view(np.float32).reshape(total, self.index.d)[order[at[held]]]
        chosen = codes.reshape(total, storage.code_size)[order[at[held]]]
        return rows[held], storage.sa_decode(chosen)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | RowSelector | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosine similarities of the `k` nearest rows where `allowed[row]` is true."""
        if k <= 0 or self.index.ntotal == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, self.index.ntotal)
        params = None
        inner = faiss.downcast_index(self.index.index)
        if allowed is not None:
            chosen = allowed if isinstance(allowed, RowSelector) else RowSelector(allowed)
            # faiss's stubs lack SearchParametersHNSW and the keyword arguments every
            # SearchParameters class takes at run time (set as attributes by faiss's Python layer)
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=chosen.selector, efSearch=max(k, 64)) if isinstance(inner, faiss.IndexHNSW) \
                else faiss.SearchParameters(sel=chosen.selector)  # type: ignore[call-arg]
        elif isinstance(inner, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(efSearch=max(k, 64))  # type: ignore[attr-defined]
        scores, rows = self.index.search(np.ascontiguousarray(query, dtype=np.float32), k,
                                         params=params)
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep]


def _new_index(dim: int, exact: bool) -> faiss.IndexIDMap2:
    if exact:
        inner: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        # faiss's stubs type the quantizer argument as a ScalarQuantizer; the constructor takes
        # its QuantizerType, a number
        inner = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16,  # type: ignore[arg-type]
                                  HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return faiss.IndexIDMap2(inner)
