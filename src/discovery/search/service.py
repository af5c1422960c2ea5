"""Search over the index: hybrid retrieval, grouping under studies, filters, facets, sorting,
cursor paging, "similar to", and an explanation for every hit.

The result list of a query is its candidate pool: the best `depth` allowed rows of each
retriever, fused, then grouped so that a variable or question is shown under its study or
instrument (whose score is its best matching row). Without a query (browsing), the pool is every
record that passes the filters. Facet counts and `total` describe that whole list; the cursor walks
all of it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from discovery.catalogue.store import Catalogue
from discovery.errors import NotFoundError
from discovery.index.columns import FACETS
from discovery.model import ITEM_KINDS
from discovery.index.lexical import terms
from discovery.index.reader import IndexReader
from discovery.search import cursor as cursors
from discovery.search.explain import matched_fields, query_words, summary
from discovery.search.fusion import Fused, Ranked, fuse
from discovery.search.models import (Explanation, FacetValue, Hit, SearchRequest, SearchResults,
                                     VariableHit)

DEPTH = 1000  # candidate rows per retriever
FACET_VALUES = 20  # values listed per facet
DEFAULT_FUSION = "weighted"
NOTHING = Ranked(np.zeros(0, np.int64), np.zeros(0, np.float32))  # a retriever that was not asked


@dataclass
class Pool:
    """Candidate rows with their fused scores, and the top-level row each is grouped under."""

    fused: Fused
    tops: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        return self.fused.rows


class SearchService:
    """One opened index, cheap to query many times, from several threads (it only reads; the
    query-vector cache has its own lock). Reopen it to see a later `discovery index`."""

    def __init__(self, data_dir: Path, depth: int = DEPTH, fusion: str = DEFAULT_FUSION) -> None:
        self.data_dir = Path(data_dir)
        # one query is too small to split across threads; queries run side by side instead
        # (measured on the corpus: a 16k-vector exact scan 2.5x faster on one thread)
        faiss.omp_set_num_threads(1)
        self.index = IndexReader(self.data_dir)
        self.depth = depth
        self.fusion = fusion

    @property
    def model(self) -> str:
        return self.index.model

    def close(self) -> None:
        self.index.close()

    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        pool = self._pool(request)
        hit_tops, hit_scores = self._group(pool, request)
        facets = self._facets(pool, hit_tops) if request.facets else {}
        keys = self._sort_keys(request, hit_tops)
        order = np.lexsort((self.index.columns.order[hit_tops], -hit_scores, -keys))
        hit_tops, hit_scores, keys = hit_tops[order], hit_scores[order], keys[order]
        start = 0
        if request.cursor:
            start = self._after(cursors.decode(request.cursor, request), hit_tops, hit_scores, keys)
        page = slice(start, start + request.size)
        hits = self._hits(pool, request, hit_tops[page], hit_scores[page])
        next_cursor = None
        if start + request.size < len(hit_tops) and hits:
            last = start + request.size - 1
            next_cursor = cursors.encode(
                cursors.Position(float(keys[last]), float(hit_scores[last]), hits[-1].id), request)
        return SearchResults(request=request, total=len(hit_tops), hits=hits, facets=facets,
                             next_cursor=next_cursor, model=self.model,
                             took_ms=round((time.perf_counter() - started) * 1000, 2))

    def facets(self, request: SearchRequest) -> dict[str, list[FacetValue]]:
        """Facet counts alone (what a filter sidebar needs), for the same result list."""
        pool = self._pool(request)
        return self._facets(pool, self._group(pool, request)[0])

    # ---- candidates --------------------------------------------------------------------

    def _pool(self, request: SearchRequest) -> Pool:
        columns = self.index.columns
        allowed = columns.mask(request.filters, request.ranges)
        if request.similar_to:
            fused = self._similar(request, allowed)
        elif request.q.strip():
            fused = self._query(request, allowed)
        else:
            rows = np.flatnonzero(allowed).astype(np.int64)
            zeros = np.zeros(len(rows), np.int64)
            fused = Fused(rows, np.zeros(len(rows)), zeros, zeros.astype(float), zeros,
                          zeros.astype(float))
        return Pool(fused, columns.top[fused.rows].astype(np.int64))

    def _query(self, request: SearchRequest, allowed: np.ndarray) -> Fused:
        lexical = semantic = NOTHING
        weight = {"lexical": 0.0, "semantic": 1.0}.get(request.mode, request.semantic_weight)
        if request.mode in ("hybrid", "lexical"):
            lexical = Ranked(*self.index.lexical_search(terms(request.q), self.depth, allowed))
        if request.mode in ("hybrid", "semantic"):
            vector = self.index.embed_query(request.q)
            semantic = Ranked(*self.index.semantic_search(vector, self.depth, allowed))
        return fuse(lexical, semantic, weight, self.fusion)

    def _similar(self, request: SearchRequest, allowed: np.ndarray) -> Fused:
        rid = self._resolve(request.similar_to or "")
        row = self.index.row_of(rid)
        vector = self.index.vectors.vector(row) if row is not None else None
        if vector is None:
            raise NotFoundError(f"{rid!r} is not in the search index", record=rid,
                                hint="run `discovery index` to bring it up to date")
        allowed = allowed.copy()
        allowed[row] = False
        semantic = Ranked(*self.index.semantic_search(vector, self.depth, allowed))
        return fuse(NOTHING, semantic, 1.0, self.fusion)

    def _resolve(self, key: str) -> str:
        if self.index.row_of(key) is not None:
            return key
        with Catalogue(self.data_dir) as catalogue:
            return catalogue.resolve(key)

    # ---- grouping, facets, order -------------------------------------------------------

    def _group(self, pool: Pool, request: SearchRequest) -> tuple[np.ndarray, np.ndarray]:
        """Distinct hits and the score of each: its best matching row."""
        tops = pool.tops if request.group else pool.rows
        if not len(tops):
            return np.zeros(0, np.int64), np.zeros(0)
        order = np.lexsort((-pool.fused.scores, tops))
        sorted_tops = tops[order]
        first = np.ones(len(order), bool)
        first[1:] = sorted_tops[1:] != sorted_tops[:-1]
        return sorted_tops[first], pool.fused.scores[order][first]

    def _facets(self, pool: Pool, hit_tops: np.ndarray) -> dict[str, list[FacetValue]]:
        columns = self.index.columns
        found = {"kind": [FacetValue(value=v, count=n)
                          for v, n in columns.kind_counts(pool.rows, pool.tops)]}
        for name in FACETS:
            found[name] = [FacetValue(value=v, count=n)
                           for v, n in columns.counts(name, hit_tops, FACET_VALUES)]
        return found

    def _sort_keys(self, request: SearchRequest, hit_tops: np.ndarray) -> np.ndarray:
        if request.sort == "relevance":
            return np.zeros(len(hit_tops))
        return self.index.columns.sort_key(request.sort, hit_tops)

    def _after(self, position: cursors.Position, tops: np.ndarray, scores: np.ndarray,
               keys: np.ndarray) -> int:
        """Index of the first hit that sorts after the cursor's position."""
        row = self.index.row_of(position.id)
        order = self.index.columns.order
        mark = order[row] + 0.5 if row is not None else self.index.docs.count_below(position.id) - 0.5
        ranks = order[tops]
        after = (keys < position.key) | ((keys == position.key) & (
            (scores < position.score) | ((scores == position.score) & (ranks > mark))))
        found = np.flatnonzero(after)
        return int(found[0]) if len(found) else len(tops)

    # ---- hits ----------------------------------------------------------------------------

    def _hits(self, pool: Pool, request: SearchRequest, tops: np.ndarray, scores: np.ndarray
              ) -> list[Hit]:
        if not len(tops):
            return []
        fused = pool.fused
        position = {int(row): i for i, row in enumerate(fused.rows)}
        children: dict[int, list[int]] = {int(t): [] for t in tops}
        if request.group:
            members = np.flatnonzero(np.isin(pool.tops, tops) & (pool.rows != pool.tops))
            members = members[np.lexsort((fused.rows[members], -fused.scores[members]))]
            for i in members:
                children[int(pool.tops[i])].append(int(fused.rows[i]))
        shown = {t: rows[:request.variables_per_hit] for t, rows in children.items()}
        bodies = self.index.docs.bodies(list(children) + [r for rows in shown.values() for r in rows])
        words = query_words(request.q) if not request.similar_to else {}
        hits = []
        for top, score in zip(tops.tolist(), scores.tolist(), strict=True):
            body = bodies[top]
            variables = [self._variable_hit(bodies[r], fused, position[r], words, request)
                         for r in shown[top]]
            noun = _child_noun(bodies, shown[top])
            explanation = self._explain(body, fused, position.get(top), words, score,
                                        len(children[top]), noun, request)
            ranges = body["ranges"]
            display = body["display"]
            hits.append(Hit(
                id=body["id"], kind=body["kind"], title=body["title"],
                snippet=_snippet(explanation, display), url=display.get("url"),
                catalogues=display.get("catalogues", []), countries=display.get("countries", []),
                start_year=_int(ranges.get("year_start")), end_year=_int(ranges.get("year_end")),
                sample_size=_int(ranges.get("sample_size")), variable_count=_int(ranges.get("variables")),
                score=round(score, 6), explanation=explanation, variables=variables))
        return hits

    def _variable_hit(self, body: dict[str, Any], fused: Fused, i: int, words: dict[str, str],
                      request: SearchRequest) -> VariableHit:
        explanation = self._explain(body, fused, i, words, float(fused.scores[i]), 0, "variable", request)
        display = body["display"]
        return VariableHit(id=body["id"], name=display.get("name"), label=body["title"],
                           question=display.get("question"), score=round(float(fused.scores[i]), 6),
                           explanation=explanation)

    def _explain(self, body: dict[str, Any], fused: Fused, i: int | None, words: dict[str, str],
                 score: float, matched_children: int, noun: str, request: SearchRequest) -> Explanation:
        fields = matched_fields(body["fields"], words)
        lex_rank = sem_rank = None
        lex_score = sem_score = None
        if i is not None:
            if fused.lexical_rank[i]:
                lex_rank, lex_score = int(fused.lexical_rank[i]), round(float(fused.lexical_score[i]), 4)
            if fused.semantic_rank[i]:
                sem_rank, sem_score = int(fused.semantic_rank[i]), round(float(fused.semantic_score[i]), 4)
        return Explanation(
            lexical_rank=lex_rank, lexical_score=lex_score, semantic_rank=sem_rank,
            semantic_score=sem_score, fused_score=round(score, 6), fields=fields,
            matched_variables=matched_children,
            summary=summary(fields if lex_rank else [], sem_score, sem_rank, matched_children, noun,
                            request.similar_to))


def _child_noun(bodies: dict[int, dict[str, Any]], rows: list[int]) -> str:
    kinds = {bodies[r]["kind"] for r in rows}
    if len(kinds) != 1:
        return "item"
    kind = kinds.pop()
    return kind if kind in ITEM_KINDS else "record"


def _snippet(explanation: Explanation, display: dict[str, Any]) -> str | None:
    for matched in explanation.fields:
        if matched.field in ("description", "keywords") and matched.snippet:
            return matched.snippet
    return display.get("snippet")


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)

