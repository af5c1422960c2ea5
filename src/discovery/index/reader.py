"""The built index opened for reading: retrieval primitives the search layer composes.

A reader opens the published generation and holds it (`generations.py`) until `close`, so an
update that publishes a newer one meanwhile never changes or deletes what it reads.
Both retrievers search inside a query's filters (`columns.RowFilter`): faiss by scoring the
allowed rows' vectors directly when they are few, else through a bitmap of them; tantivy with the
filters as clauses of its own query, over the filter values every document carries. Without
filters (`allowed=None`) they search as they are, and no mask of the whole index is built for the
query: 2.5 ms a query at a million rows. Unfiltered lists, which every request of a query reads
whatever its filters, are kept for the query's next requests (`recent.py`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
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
from discovery.index.query_vectors import QueryVectors, open_query_vectors
from discovery.index.recent import RecentLists
from discovery.index.vectors import RowSelector, VectorIndex


FETCH_LIMIT = 20_000  # matches read at most to find enough allowed ones
SCORED_LIMIT = 20_000  # allowed rows up to which their vectors are scored directly, not via faiss
QUERY_CACHE = 1024  # query vectors kept in this process's memory


@dataclass
class EnglishVectors:
    """The English encoder's vectors of every row and of the hits' titles, beside the index
    model's, and the query vectors its processes share."""

    model: str
    key: str
    vectors: VectorIndex
    titles: VectorIndex
    shared: QueryVectors | None = None


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
            # an English encoder's vectors beside the model's (`build.model_keys`), if built
            self.english: EnglishVectors | None = None
            if meta.get("english_key"):
                self.english = EnglishVectors(meta["english_model"], meta["english_key"],
                                              VectorIndex.load(held.files.english_vectors),
                                              VectorIndex.load(held.files.english_titles))
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
        # unfiltered lists of recent queries: by their terms, and by query vector and encoder
        self.recent_lexical = RecentLists(shallower=True)
        self.recent_semantic = RecentLists(shallower=False)
        self._queries: dict[tuple[str, str], np.ndarray] = {}  # by model key and text, oldest first
        self._encoding = threading.Lock()  # a web server may search from several threads
        self._shared = open_query_vectors(root / QUERY_VECTORS, self.meta["model"])
        if self.english:
            self.english.shared = open_query_vectors(root / QUERY_VECTORS, self.english.model)

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
        if self.english and self.english.shared:
            self.english.shared.close()
        self._held.close()

    def embed_query(self, text: str, english: bool = False) -> np.ndarray:
        """The query's vector (by the English encoder's when `english`): from this process's
        memory (paging, facets), else from the cache the server's processes share
        (`query_vectors.py`), else encoded and shared."""
        key, shared = self.meta["model_key"], self._shared
        if english:
            if self.english is None:
                raise IndexBuildError("this index has no English vectors",
                                      hint="build it with `discovery index --model e5+minilm`")
            key, shared = self.english.key, self.english.shared
        with self._encoding:
            vector = self._queries.pop((key, text), None)
            if vector is None and shared is not None:
                vector = shared.get(text)
            if vector is None:
                vector = get_embedder(key).encode([text], "query")
                if shared is not None:
                    shared.put(text, vector)
            if len(self._queries) >= QUERY_CACHE:
                self._queries.pop(next(iter(self._queries)))
            self._queries[(key, text)] = vector
            return vector

    def lexical_search(self, query_terms: LexicalQuery, k: int, allowed: RowFilter | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The best `k` allowed rows by BM25 (any live row when `allowed` is None), best first.

        Tantivy applies the filters itself (`lexical.LexicalFilter`). What it does not carry (a
        range of variable counts; `within`'s own row) is checked on the rows found, reading
        deeper, up to FETCH_LIMIT matches, when too few of the first `k` pass."""
        if allowed is not None:
            return self._lexical_search(query_terms, k, allowed)
        key = _terms_key(query_terms)
        found = self.recent_lexical.get(key, k)
        if found is None:
            found = self.recent_lexical.put(key, k, *self._lexical_search(query_terms, k, None))
        return found

    def _lexical_search(self, query_terms: LexicalQuery, k: int, allowed: RowFilter | None
                        ) -> tuple[np.ndarray, np.ndarray]:
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

    def semantic_search(self, vector: np.ndarray, k: int, allowed: RowFilter | None = None,
                        english: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The `k` allowed rows (any live row when `allowed` is None) nearest to `vector` (by the
        English encoder's vectors when `english`). Few allowed rows are scored exactly; faiss with
        a bitmap of a few thousand allowed rows among a million walks most of its graph for them."""
        vectors = self._vectors(english)[0]
        if allowed is None:
            key = (english, np.ascontiguousarray(vector, np.float32).tobytes())
            found = self.recent_semantic.get(key, k)
            if found is None:
                found = self.recent_semantic.put(
                    key, k, *self._kept(*vectors.search(vector, k, self._live_selector), None))
            return found
        if allowed.bounded() and allowed.size_bound() <= SCORED_LIMIT:
            rows = allowed.rows()
            rows, scores = vectors.nearest_among(vector, k, rows)
        else:
            rows, scores = vectors.search(vector, k, allowed.mask())
        return self._kept(rows, scores, allowed)

    def similarities(self, vector: np.ndarray, rows: np.ndarray, english: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Those of `rows` with a vector, in their order, and their cosines with `vector`."""
        return self._vectors(english)[0].similarities(vector, rows)

    def title_similarities(self, vector: np.ndarray, rows: np.ndarray, english: bool = False
                           ) -> tuple[np.ndarray, np.ndarray]:
        """Those of `rows` with a title vector (hits, not items), in their order, and the cosines
        of their titles with `vector`."""
        return self._vectors(english)[1].similarities(vector, rows)

    def _vectors(self, english: bool) -> tuple[VectorIndex, VectorIndex]:
        """The rows' and the titles' vectors of the index model, or of the English encoder."""
        if not english:
            return self.vectors, self.titles
        if self.english is None:
            raise IndexBuildError("this index has no English vectors",
                                  hint="build it with `discovery index --model e5+minilm`")
        return self.english.vectors, self.english.titles

    def _kept(self, rows: np.ndarray, scores: np.ndarray, allowed: RowFilter | None
              ) -> tuple[np.ndarray, np.ndarray]:
        """The rows found that are live and allowed, in their order."""
        inside = rows < self.columns.size
        rows, scores = rows[inside], scores[inside]
        keep = self.columns.alive[rows] if allowed is None else allowed.allows(rows)
        return rows[keep], scores[keep]

    def row_of(self, rid: str) -> int | None:
        return self.docs.rows_of([rid]).get(rid)


def _terms_key(query_terms: LexicalQuery) -> tuple[object, ...]:
    """What a lexical query searches for (its terms, in order), as a key of `recent_lexical`."""
    return (tuple(tuple(spellings) for spellings in query_terms.english),
            tuple((code, tuple(found)) for code, found in query_terms.native.items()))
