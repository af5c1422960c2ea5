"""What a search backend supplies to the shared pipeline (`pipeline.py`): candidates, filters and
stored fields, addressed by integer row numbers that are stable for one query.

Everything that decides what a result list is (query understanding, the relevance cuts, fusion,
grouping, sorting, cursors, explanations and which facet counts to take) lives in the pipeline,
so two backends answer one request alike; an engine only says how its own storage finds rows
(BM25 or full-text search, faiss or pgvector), evaluates a query's filters, counts facet values
of given rows and reads the fields of a page of hits. The local index (`local.py`) and
PostgreSQL (`postgres.py`) are the two engines.

An engine is one consistent view of an index: the pipeline holds it for a whole query, so pages,
facets and explanations of one query all read the same generation.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from discovery.index.lexical import LexicalQuery
from discovery.search.relevance import SemanticCut
from discovery.search.spelling import Speller

Rows = np.ndarray  # int64 row numbers
Scores = np.ndarray


class VectorSide(Protocol):
    """One encoder's vectors in an index, as the dense pair reads them (`dense_pair.py`)."""

    @property
    def model(self) -> str:
        """The encoder's name, as the results name what read the query."""
        ...

    @property
    def cut(self) -> SemanticCut: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def semantic_search(self, vector: np.ndarray, k: int, allowed: Any | None = None
                        ) -> tuple[Rows, Scores]:
        """The `k` allowed rows nearest to `vector`, with their cosines, best first."""
        ...

    def similarities(self, vector: np.ndarray, rows: Rows) -> tuple[Rows, Scores]:
        """Those of `rows` with a vector, in their order, and their cosines with `vector`."""
        ...

    def title_similarities(self, vector: np.ndarray, rows: Rows) -> tuple[Rows, Scores]:
        """Those of `rows` with a title vector, in their order, and their titles' cosines."""
        ...


class Engine(Protocol):
    """One index generation, read by the pipeline for one query."""

    def english_pair(self) -> tuple[VectorSide, VectorSide] | None:
        """The index model's vectors and an English encoder's, where the index keeps both
        (English queries are then answered by the two together); None where it keeps one."""
        ...

    @property
    def model(self) -> str: ...

    @property
    def cut(self) -> SemanticCut: ...

    @property
    def speller(self) -> Speller: ...

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector, by the model the index was built with."""
        ...

    # ---- finding rows ------------------------------------------------------------------

    def allowed(self, filters: dict[str, list[str]], ranges: dict[str, tuple[float | None, float | None]],
                within: int | None) -> Any:
        """An engine's own form of a query's filters (raises `FilterError` naming an unknown
        facet, kind or range). Facet values and ranges are read from the record a row is
        grouped under; `kind` from the row itself; `within` keeps only that row's items."""
        ...

    def allows(self, allowed: Any | None, rows: Rows) -> np.ndarray:
        """Whether each of `rows` is live and passes `allowed` (None: live only)."""
        ...

    def browse(self, allowed: Any | None) -> Rows:
        """Every live row that passes `allowed`, ascending."""
        ...

    def lexical_search(self, query: LexicalQuery, k: int, allowed: Any | None = None
                       ) -> tuple[Rows, Scores]:
        """The best `k` allowed rows by keyword score (rows hold the query's terms), best first."""
        ...

    def semantic_search(self, vector: np.ndarray, k: int, allowed: Any | None = None
                        ) -> tuple[Rows, Scores]:
        """The `k` allowed rows nearest to `vector`, with their cosines, best first."""
        ...

    def title_similarities(self, vector: np.ndarray, rows: Rows) -> tuple[Rows, Scores]:
        """Those of `rows` with a title vector (hits, not items), in their order, and the cosine
        of each title with `vector`."""
        ...

    def named(self, keys: list[str], codes_only: bool = False) -> dict[str, list[int]]:
        """Rows named exactly by each alias key (`index/aliases.py`); with `codes_only`, only by
        an abbreviation or identifier."""
        ...

    def vector_of(self, row: int) -> np.ndarray | None:
        """A row's stored vector (for "similar to")."""
        ...

    def row_of(self, rid: str) -> int | None: ...

    def resolve(self, key: str) -> str:
        """The id a key names: an indexed id as it is, else what the catalogue resolves it to."""
        ...

    # ---- columns of given rows -----------------------------------------------------------

    def tops(self, rows: Rows) -> Rows:
        """The row each row is grouped under (a variable's study; a record's own row)."""
        ...

    def families(self, rows: Rows) -> np.ndarray:
        """One number per row: versions of one instrument or study share it; others are unique."""
        ...

    def order(self, rows: Rows) -> np.ndarray:
        """Each row's rank in id order among live rows: ties between equal scores break by id."""
        ...

    def order_mark(self, rid: str) -> float:
        """Where `rid` falls in that order (between ranks when it is no longer live)."""
        ...

    def sort_key(self, sort: str, rows: Rows) -> np.ndarray:
        """The descending key of a sort other than relevance; -inf where a value is missing."""
        ...

    def speaks(self, rows: Rows, language: str) -> np.ndarray:
        """Whether each row declares `language` (English: or declares none)."""
        ...

    def kind_counts(self, rows: Rows, owners: np.ndarray) -> list[tuple[str, int]]:
        """How many owners (hits, or groups of versions) hold a matched row of each kind, most
        first."""
        ...

    def value_counts(self, name: str, hits: Rows, limit: int, groups: np.ndarray | None
                     ) -> list[tuple[str, int]]:
        """How many hits carry each value of facet `name` (an item its grouping record's), most
        first, ties by value; with `groups`, a group of hits counts once per value."""
        ...

    def bodies(self, rows: list[int]) -> dict[int, dict[str, Any]]:
        """id, kind, title, parent, ranges, fields and display values of the given rows."""
        ...

    def titles(self, rows: list[int]) -> dict[int, tuple[str, str]]:
        """(id, title) of the given rows."""
        ...
