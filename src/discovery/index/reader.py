"""The built index opened for reading: retrieval primitives the search layer composes.

A reader opens the published generation and holds it (`generations.py`) until `close`, so an
update that publishes a newer one meanwhile never changes or deletes what it reads.
Both retrievers search inside a query's filters (`columns.RowFilter`): faiss by scoring the
allowed rows' vectors directly when they are few, else through a bitmap of them; tantivy with the
filters as clauses of its own query, over the filter values every document carries. Without
filters (`allowed=None`) they search as they are, and no mask of the whole index is built for the
query: 2.5 ms a query at a million rows.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from discovery.index.build import IndexBuildError, index_paths, read_meta
from discovery.index.columns import KINDS, Columns, RowFilter
from discovery.index.docstore import DocStore
from discovery.index.embed import get_embedder
from discovery.index.generations import hold_current
from discovery.index.lexical import CARRIED_RANGES, LexicalFilter, LexicalIndex, LexicalQuery
from discovery.index.query_vectors import FILE as QUERY_VECTORS
from discovery.index.query_vectors import open_query_vectors
from discovery.index.vectors import RowSelector, VectorIndex


FETCH_LIMIT = 20_000  # matches read at most to find enough allowed ones
SCORED_LIMIT = 20_000  # allowed rows up to which their vectors are scored directly, not via faiss
QUERY_CACHE = 1024  # query vectors kept in this process's memory


class IndexReader:
    def __init__(self, data_dir: Path) -> None:
        root = index_paths(Path(data_dir)).root
        held = hold_current(root)
        meta = read_meta(held.files) if held else None
        if held is None or meta is None:
            if held:
                held.close()
            raise IndexBuildError("no search index here (or one from an older version)",
                                  file=str(root), hint="run `discovery index` first")
        self._held = held
        try:
            self.meta: dict[str, Any] = meta
            self.docs = DocStore(held.files.docs, read_only=True)
            self.lexical = LexicalIndex(held.files.lexical)
            self.vectors = VectorIndex.load(held.files.vectors)
            self.titles = VectorIndex.load(held.files.titles)
            self.columns = Columns.load(held.files.columns)
        except BaseException:
            held.close()
            raise
        self.live_rows = np.flatnonzero(self.columns.alive)
        self.live = len(self.live_rows)
        # an exact index has its dead rows removed; HNSW keeps them in its graph, so its searches
        # carry the live rows, packed once here rather than per query; with no row dead they carry
        # none (checking every visited row against the bitmap was 0.5 ms of a 4.5 ms search of
        # a million rows)
        self._live_selector = None if self.vectors.exact or self.columns.alive.all() \
            else RowSelector(self.columns.alive)
        self._queries: dict[str, np.ndarray] = {}  # oldest first
        self._encoding = threading.Lock()  # a web server may search from several threads
        self._shared = open_query_vectors(root / QUERY_VECTORS, self.meta["model"])

    @property
    def model(self) -> str:
        return self.meta["model"]

    @property
    def generation(self) -> str:
        """The folder name of the generation this reader holds."""
        return self._held.name

    def close(self) -> None:
        """Close the files and let go of the generation (deleted here if it is no longer current
        and unused)."""
        self.docs.close()
        if self._shared:
            self._shared.close()
        self._held.close()

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector: from this process's memory (paging, facets), else from the cache
        the server's processes share (`query_vectors.py`), else encoded and shared."""
        with self._encoding:
            vector = self._queries.pop(text, None)
            if vector is None and self._shared:
                vector = self._shared.get(text)
            if vector is None:
                vector = get_embedder(self.meta["model_key"]).encode([text], "query")
                if self._shared:
                    self._shared.put(text, vector)
            if len(self._queries) >= QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[text] = vector
            return vector

    def lexical_search(self, query_terms: LexicalQuery, k: int, allowed: RowFilter | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The best `k` allowed rows by BM25 (any live row when `allowed` is None), best first.

        Tantivy applies the filters itself (`lexical.LexicalFilter`). What it does not carry (a
        range of variable counts; `within`'s own row) is checked on the rows found, reading
        deeper, up to FETCH_LIMIT matches, when too few of the first `k` pass."""
        filters = None if allowed is None else self._lexical_filter(allowed)
        limit = k
        while True:
            rows, scores, count = self.lexical.search(query_terms, limit, filters)
            rows, scores = self._kept(rows, scores, allowed)
            if len(rows) >= k or limit >= count or limit >= FETCH_LIMIT:
                return rows[:k], scores[:k]
            limit = min(count, FETCH_LIMIT)

    def _lexical_filter(self, allowed: RowFilter) -> LexicalFilter:
        kinds = [] if allowed.kinds is None else [KINDS[code] for code in allowed.kinds]
        group = None if allowed.within is None else self.docs.ids_of([allowed.within])[0]
        return LexicalFilter(kinds, allowed.keys, {name: bounds for name, bounds in allowed.ranges.items()
                                                   if name in CARRIED_RANGES}, group)

    def semantic_search(self, vector: np.ndarray, k: int, allowed: RowFilter | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """The `k` allowed rows (any live row when `allowed` is None) nearest to `vector`. Few
        allowed rows are scored exactly; faiss with a bitmap of a few thousand allowed rows among
        a million walks most of its graph for them."""
        if allowed is None:
            rows, scores = self.vectors.search(vector, k, self._live_selector)
        elif allowed.bounded() and allowed.size_bound() <= SCORED_LIMIT:
            rows = allowed.rows()
            rows, scores = self.vectors.nearest_among(vector, k, rows)
        else:
            rows, scores = self.vectors.search(vector, k, allowed.mask())
        return self._kept(rows, scores, allowed)

    def title_similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Those of `rows` with a title vector (hits, not items), in their order, and the cosines
        of their titles with `vector`."""
        return self.titles.similarities(vector, rows)

    def _kept(self, rows: np.ndarray, scores: np.ndarray, allowed: RowFilter | None
              ) -> tuple[np.ndarray, np.ndarray]:
        """The rows found that are live and allowed, in their order."""
        inside = rows < self.columns.size
        rows, scores = rows[inside], scores[inside]
        keep = self.columns.alive[rows] if allowed is None else allowed.allows(rows)
        return rows[keep], scores[keep]

    def row_of(self, rid: str) -> int | None:
        return self.docs.rows_of([rid]).get(rid)
