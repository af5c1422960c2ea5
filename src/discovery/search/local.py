"""The local index as a search engine (`engine.Engine`): tantivy for keywords, faiss for vectors,
numpy facet columns for filters and counts, the document table for a page's fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from discovery.catalogue.backends import open_catalogue
from discovery.index.columns import RowFilter
from discovery.index.lexical import LexicalQuery
from discovery.index.reader import IndexReader
from discovery.search.relevance import SemanticCut, semantic_cut
from discovery.search.spelling import Speller


class ReaderSide:
    """The index model's vectors, or the English encoder's, as one side of the dense pair
    (`engine.VectorSide`)."""

    def __init__(self, index: IndexReader, cut: SemanticCut, english: bool) -> None:
        self.index = index
        self.cut = cut
        self.english = english

    @property
    def model(self) -> str:
        english = self.index.english
        return english.model if self.english and english is not None else self.index.model

    def embed_query(self, text: str) -> np.ndarray:
        return self.index.embed_query(text, self.english)

    def semantic_search(self, vector: np.ndarray, k: int, allowed: RowFilter | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        return self.index.semantic_search(vector, k, allowed, self.english)

    def similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.index.similarities(vector, rows, self.english)

    def title_similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.index.title_similarities(vector, rows, self.english)


class LocalEngine:
    """One published generation opened for searching: a reader, the model's cut, the speller
    over its vocabulary, and how many queries are using it (`service.SearchService`)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.index = IndexReader(data_dir)
        self.cut: SemanticCut = semantic_cut(self.index.model)
        self.speller = Speller(self.index.docs.vocabulary.frequencies())
        self.users = 0
        self.retired = False  # a newer generation replaced it: close once the last user leaves

    @property
    def model(self) -> str:
        return self.index.model

    def close(self) -> None:
        self.index.close()

    def embed_query(self, text: str) -> np.ndarray:
        return self.index.embed_query(text)

    def allowed(self, filters: dict[str, list[str]], ranges: dict[str, tuple[float | None, float | None]],
                within: int | None) -> RowFilter:
        return RowFilter(self.index.columns, filters, ranges, within)

    def allows(self, allowed: RowFilter | None, rows: np.ndarray) -> np.ndarray:
        columns = self.index.columns
        if allowed is not None:
            return allowed.allows(rows)
        inside = rows < columns.size
        inside[inside] = columns.alive[rows[inside]]
        return inside

    def browse(self, allowed: RowFilter | None) -> np.ndarray:
        return self.index.live_rows if allowed is None else allowed.rows()

    def lexical_search(self, query: LexicalQuery, k: int, allowed: RowFilter | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        return self.index.lexical_search(query, k, allowed)

    def semantic_search(self, vector: np.ndarray, k: int, allowed: RowFilter | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        return self.index.semantic_search(vector, k, allowed)

    def title_similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.index.title_similarities(vector, rows)

    def english_pair(self) -> tuple[ReaderSide, ReaderSide] | None:
        if self.index.english is None:
            return None
        return (ReaderSide(self.index, self.cut, False),
                ReaderSide(self.index, semantic_cut(self.index.english.model), True))

    def named(self, keys: list[str], codes_only: bool = False) -> dict[str, list[int]]:
        return self.index.docs.alias_rows(keys, codes_only)

    def vector_of(self, row: int) -> np.ndarray | None:
        return self.index.vectors.vector(row)

    def row_of(self, rid: str) -> int | None:
        return self.index.row_of(rid)

    def resolve(self, key: str) -> str:
        if self.index.row_of(key) is not None:
            return key
        with open_catalogue(self.data_dir) as catalogue:
            return catalogue.resolve(key)

    def tops(self, rows: np.ndarray) -> np.ndarray:
        return self.index.columns.top[rows]

    def families(self, rows: np.ndarray) -> np.ndarray:
        return self.index.columns.family[rows]

    def order(self, rows: np.ndarray) -> np.ndarray:
        return self.index.columns.order[rows]

    def order_mark(self, rid: str) -> float:
        row = self.index.row_of(rid)
        if row is not None:
            return float(self.index.columns.order[row]) + 0.5
        return self.index.docs.count_below(rid) - 0.5

    def sort_key(self, sort: str, rows: np.ndarray) -> np.ndarray:
        return self.index.columns.sort_key(sort, rows)

    def speaks(self, rows: np.ndarray, language: str) -> np.ndarray:
        columns = self.index.columns
        speaks = columns.holds("language", rows, language)
        if language == "en":
            speaks |= columns.lacks("language", rows)
        return speaks

    def kind_counts(self, rows: np.ndarray, owners: np.ndarray) -> list[tuple[str, int]]:
        return self.index.columns.kind_counts(rows, owners)

    def value_counts(self, name: str, hits: np.ndarray, limit: int, groups: np.ndarray | None
                     ) -> list[tuple[str, int]]:
        return self.index.columns.counts(name, hits, limit, groups)

    def bodies(self, rows: list[int]) -> dict[int, dict[str, Any]]:
        return self.index.docs.bodies(rows)

    def titles(self, rows: list[int]) -> dict[int, tuple[str, str]]:
        return self.index.docs.titles(rows)
