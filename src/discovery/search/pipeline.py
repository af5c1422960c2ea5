"""The search pipeline every backend shares: hybrid retrieval, grouping under studies, filters,
facets, sorting, cursor paging, "similar to", and an explanation for every hit.

The result list of a query is the set of records that fit it: rows sharing enough of its words
(a keyword score at least `LEXICAL_FLOOR` of the query's best), rows close enough in meaning (a
cosine above the model's calibrated cut, `relevance.py`) and records named exactly by it. The
cuts are fixed by the unfiltered query, so a filter only narrows the list: facet counts are the
totals a click on them gives. Rows are then grouped so that a variable or question is shown
under its study or instrument, scored by its own match and its items' evidence (`grouping.py`).
Without a query (browsing), the list is every record that passes the filters. When nothing fits,
the nearest records are offered as such. Each retriever reads at most `DEPTH` rows; a list that
reached it says its total is a lower bound.

What differs by backend (how rows are found, filtered, counted and read) is an `engine.Engine`;
the rules above are here once, so the local index and PostgreSQL answer a request alike.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from discovery.errors import NotFoundError
from discovery.index.aliases import query_phrases
from discovery.index.lexical import LexicalQuery
from discovery.model import ITEM_KINDS
from discovery.search import cursor as cursors
from discovery.search.deadline import FACET_SECONDS, SEARCH_SECONDS, Deadline
from discovery.search.dense_pair import PairQuery, reads_english
from discovery.search.engine import Engine
from discovery.search.explain import matched_fields, summary
from discovery.search.fusion import Fused, Ranked, fuse
from discovery.search.grouping import Grouped, group
from discovery.search.models import (FACETS, Explanation, FacetValue, Hit, SearchRequest,
                                     SearchResults, VariableHit, Version)
from discovery.search.query import Understood, understand
from discovery.search.ranker import Sides, learned_scores
from discovery.search.relevance import LEXICAL_FLOOR

DEPTH = 1000  # candidate rows per retriever
NEAREST = 10  # records offered when nothing fits
VERSIONS_LISTED = 10  # other versions named under a hit
FACET_VALUES = 20  # values listed per facet
DEFAULT_FUSION = "weighted"
DEFAULT_WEIGHT = 0.5  # the semantic weight the learned ranker was fitted at
T = TypeVar("T")
NOTHING = Ranked(np.zeros(0, np.int64), np.zeros(0, np.float32))  # a retriever that was not asked


@dataclass
class Pool:
    """Candidate rows with their fused scores, the top-level row each is grouped under, and what
    kind of list it is."""

    fused: Fused
    tops: np.ndarray
    complete: bool = True  # no retriever stopped at DEPTH: the list holds every fitting record
    nearest: bool = False  # nothing fits: these are the nearest records, not matches
    sides: Sides | None = None  # what a hybrid query's retrievers handed to fusion
    model: str | None = None  # the encoders that read the query, where not the index model alone

    @property
    def rows(self) -> np.ndarray:
        return self.fused.rows


@dataclass
class Versions:
    """The sorted hits' families: `first` indexes the hit shown for each family."""

    first: np.ndarray
    families: np.ndarray
    tops: np.ndarray


@dataclass(frozen=True)
class Settings:
    """How deep each retriever reads, the fusion rule, the time limits of one search, whether
    a hybrid query's two retrievers run side by side (`side_by_side`: an engine whose searches
    release the GIL and may be called from two threads at once), and whether its first hits are
    reordered by the learned ranker where the engine keeps both encoders (`ranker.py`)."""

    depth: int = DEPTH
    fusion: str = DEFAULT_FUSION
    seconds: float = SEARCH_SECONDS
    facet_seconds: float = FACET_SECONDS
    side_by_side: bool = False
    learned: bool = True


def run_search(engine: Engine, request: SearchRequest, settings: Settings | None = None) -> SearchResults:
    """Answer `request` from `engine`, which stays one view of the index for the whole query."""
    return _Search(engine, settings or Settings()).search(request)


class _Search:
    """One request against one engine."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.depth = settings.depth
        self.fusion = settings.fusion
        self.seconds = settings.seconds
        self.facet_seconds = settings.facet_seconds
        self.side_by_side = settings.side_by_side
        self.learned = settings.learned

    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        deadline = Deadline(self.seconds, started)
        query = understand(request.q, self.engine.speller, request.spellcheck)
        pool = self._pool(request, query)
        deadline.check("finding candidates")
        grouped = self._group(pool, request)
        keys = self._sort_keys(request, grouped.tops)
        scores = grouped.scores
        learned = self._learned(pool, grouped, request, query)
        if learned is not None:
            scores = _relevance_order(scores, learned)
        order = np.lexsort((self.engine.order(grouped.tops), -scores, -keys))
        hit_tops, hit_scores, keys = grouped.tops[order], scores[order], keys[order]
        versions = self._versions(hit_tops, request, query)
        if versions is not None:
            hit_tops, hit_scores, keys = hit_tops[versions.first], hit_scores[versions.first], \
                keys[versions.first]
        deadline.check("ordering the results")
        start = 0
        if request.cursor:
            start = self._after(cursors.decode(request.cursor, request), hit_tops, hit_scores, keys)
        page = slice(start, start + request.size)
        at = np.searchsorted(grouped.tops, hit_tops[page])
        hits = self._hits(pool, request, query, hit_tops[page], hit_scores[page], grouped.scores[at],
                          learned[at] if learned is not None else None)
        if versions is not None:
            self._add_versions(hits, hit_tops[page], versions)
        deadline.check("building the page of results")
        facets: dict[str, list[FacetValue]] = {}
        uncounted: list[str] = []
        if request.facets and not pool.nearest:
            facets, uncounted = self._facets(pool, grouped.tops, request)
        next_cursor = None
        if start + request.size < len(hit_tops) and hits:
            last = start + request.size - 1
            next_cursor = cursors.encode(
                cursors.Position(float(keys[last]), float(hit_scores[last]), hits[-1].id), request)
        return SearchResults(request=request, total=0 if pool.nearest else len(hit_tops),
                             total_exact=pool.complete, nothing_fits=pool.nearest, hits=hits,
                             facets=facets, facets_uncounted=uncounted, next_cursor=next_cursor,
                             offset=start, model=pool.model or self.engine.model,
                             searched_for=query.text if query.correction else None,
                             took_ms=round((time.perf_counter() - started) * 1000, 2))

    # ---- candidates --------------------------------------------------------------------

    def _pool(self, request: SearchRequest, query: Understood) -> Pool:
        allowed = self._allowed(request)
        if request.similar_to:
            return self._pool_of(self._similar(request, allowed), complete=False)
        if not request.q.strip():
            rows = self.engine.browse(allowed).astype(np.int64)
            return self._pool_of(fuse(NOTHING, Ranked(rows, np.zeros(len(rows))), 1.0, self.fusion))
        pool = self._query(request, query, allowed)
        if len(pool.rows) and (query.known or pool.fused.exact.any()):
            return pool
        vector = self.engine.embed_query(query.text)
        nearest = Ranked(*self.engine.semantic_search(vector, NEAREST, allowed))
        return Pool(fuse(NOTHING, nearest, 1.0, self.fusion),
                    self.engine.tops(nearest.rows).astype(np.int64), complete=True,
                    nearest=True)

    def _allowed(self, request: SearchRequest) -> Any | None:
        """The request's filters; None when nothing is filtered."""
        filters = {name: values for name, values in request.filters.items() if values}
        within = self._top_row(request.within) if request.within else None
        if not (filters or request.ranges or within is not None):
            return None
        return self.engine.allowed(filters, dict(request.ranges), within)

    def _pool_of(self, fused: Fused, complete: bool = True) -> Pool:
        return Pool(fused, self.engine.tops(fused.rows).astype(np.int64), complete)

    def _query(self, request: SearchRequest, query: Understood, allowed: Any | None) -> Pool:
        """The rows that fit the query within `allowed`, by the cuts of the unfiltered query."""
        lexical = semantic = NOTHING
        weight = {"lexical": 0.0, "semantic": 1.0}.get(request.mode, request.semantic_weight)
        complete = True
        lexical_side = None
        if request.mode in ("hybrid", "lexical"):
            lexical_side = _started(lambda: self._lexical(query.lexical, allowed),
                                    self.side_by_side and request.mode == "hybrid")
        sides = self.engine.english_pair() if request.mode != "lexical" else None
        pair = PairQuery(sides, query.text, self.depth) if sides and reads_english(query.text) else None
        if request.mode in ("hybrid", "semantic"):
            semantic, full = (pair.semantic(self.engine.allows, allowed) if pair
                              else self._semantic(query.text, allowed))
            complete &= full
        if lexical_side is not None:
            lexical, full = lexical_side()
            complete &= full
        exact = self._exact(query.text, allowed) if request.mode != "semantic" else {}
        titles = None
        if request.mode == "hybrid":
            titles = (pair.titles(np.union1d(lexical.rows, semantic.rows).astype(np.int64)) if pair
                      else self._titles(query.text, lexical, semantic))
        pool = self._pool_of(fuse(lexical, semantic, weight, self.fusion, exact, titles), complete)
        if request.mode == "hybrid":
            pool.sides = Sides(lexical, semantic, titles, english=pair is not None)
        if pair is not None:
            pool.model = " + ".join(part.side.model for part in pair.lists)
        return pool

    def _titles(self, q: str, lexical: Ranked, semantic: Ranked) -> Ranked:
        """The cosines of the candidates' titles with the query, for those that have a title
        vector (hits, not items); hybrid fusion mixes them into the semantic side."""
        rows = np.union1d(lexical.rows, semantic.rows).astype(np.int64)
        return Ranked(*self.engine.title_similarities(self.engine.embed_query(q), rows))

    # The cuts are set by the unfiltered query. tantivy filters inside its own query
    # (`lexical.LexicalFilter`), so a filtered lexical search asks for the unfiltered best score
    # alone (top 1) and then the best `depth` rows inside the filter: at a million rows that took
    # a median 4.2-4.6 ms of CPU against 5.5-6.0 ms for reading the unfiltered best `depth` first
    # and filtering those when they reached below the cut. The semantic side still reads its
    # unfiltered best `depth` rows (fusion scales cosines by the one at that depth); when those
    # already reach below the cut, every row that fits is among them and the filter checks just
    # those; only a query with more fitting rows than `depth` asks faiss again, inside the filter.

    def _lexical(self, query_terms: LexicalQuery, allowed: Any | None
                 ) -> tuple[Ranked, bool]:
        if allowed is None:
            rows, scores = self.engine.lexical_search(query_terms, self.depth)
            best = float(scores[0]) if len(scores) else 0.0
        else:
            top = self.engine.lexical_search(query_terms, 1)[1]
            best = float(top[0]) if len(top) else 0.0
            rows, scores = self.engine.lexical_search(query_terms, self.depth, allowed)
        keep = scores >= LEXICAL_FLOOR * best
        return Ranked(rows[keep], scores[keep], best=best), bool(len(rows) < self.depth or not keep.all())

    def _semantic(self, q: str, allowed: Any | None) -> tuple[Ranked, bool]:
        vector = self.engine.embed_query(q)
        rows, scores = self.engine.semantic_search(vector, self.depth)
        if not len(scores):
            return NOTHING, True
        best, low = float(scores[0]), float(scores[-1])
        threshold = self.engine.cut.threshold(best)
        if allowed is not None:
            if len(rows) < self.depth or low < threshold:
                inside = self.engine.allows(allowed, rows)
                rows, scores = rows[inside], scores[inside]
            else:
                rows, scores = self.engine.semantic_search(vector, self.depth, allowed)
        keep = scores >= threshold
        return (Ranked(rows[keep], scores[keep], best=best, low=low),
                bool(len(rows) < self.depth or not keep.all()))

    def _exact(self, q: str, allowed: Any | None) -> dict[int, float]:
        """Rows named exactly by the whole query (1.0) or by a code in it (0.5)."""
        whole, phrases = query_phrases(q)
        named: dict[int, float] = {}
        for rows in self.engine.named(phrases, codes_only=True).values():
            named.update(dict.fromkeys(rows, 0.5))
        for rows in self.engine.named([whole]).values():
            named.update(dict.fromkeys(rows, 1.0))
        found = np.fromiter(named, np.int64, len(named))
        return {row: named[row] for row in found[self.engine.allows(allowed, found)].tolist()}

    def _similar(self, request: SearchRequest, allowed: Any | None) -> Fused:
        rid = self.engine.resolve(request.similar_to or "")
        row = self.engine.row_of(rid)
        vector = self.engine.vector_of(row) if row is not None else None
        if vector is None:
            raise NotFoundError(f"{rid!r} is not in the search index", record=rid,
                                hint="run `discovery index` to bring it up to date")
        rows, scores = self.engine.semantic_search(vector, self.depth + 1, allowed)
        others = rows != row  # the record itself is not similar to itself
        semantic = Ranked(rows[others][:self.depth], scores[others][:self.depth])
        return fuse(NOTHING, semantic, 1.0, self.fusion)

    def _top_row(self, key: str) -> int:
        """The row of `key`, whose items (its variables or questions) a search `within` it reads."""
        rid = self.engine.resolve(key)
        row = self.engine.row_of(rid)
        if row is None:
            raise NotFoundError(f"{rid!r} is not in the search index", record=rid,
                                hint="run `discovery index` to bring it up to date")
        return row

    # ---- grouping, facets, order -------------------------------------------------------

    def _group(self, pool: Pool, request: SearchRequest) -> Grouped:
        """Distinct hits, each scored by its own match and its items' evidence."""
        tops = pool.tops if request.group else pool.rows
        return group(pool.rows, tops, pool.fused.scores)

    def _learned(self, pool: Pool, grouped: Grouped, request: SearchRequest, query: Understood
                 ) -> np.ndarray | None:
        """The learned ranker's score of the hand rule's first hits (NaN for the rest), where it
        applies: a hybrid query at the default weight, hits grouped, on an engine that keeps both
        encoders (the indexes it was fitted on); else None. It orders by relevance, and so the
        hits that tie on another sort's key (and which version stands for a family)."""
        if not (self.learned and pool.sides is not None and not pool.nearest and request.group
                and not request.similar_to
                and request.semantic_weight == DEFAULT_WEIGHT and len(grouped.tops)
                and self.engine.english_pair() is not None):
            return None
        return learned_scores(self.engine, pool.fused, pool.tops, grouped, pool.sides, query.text,
                              set(query.words))

    def _facets(self, pool: Pool, hits: np.ndarray, request: SearchRequest
                ) -> tuple[dict[str, list[FacetValue]], list[str]]:
        """Counts of the hits as they are shown (versions collapsed into one count once), facet
        by facet until their time runs out; then the facets left uncounted."""
        deadline = Deadline(self.facet_seconds)
        engine = self.engine
        owners = pool.tops if request.group else pool.rows  # the hit each matched row counts for
        groups: np.ndarray | None = None
        if request.collapse and request.group:  # versions shown as one hit count once
            owners, groups = engine.families(owners), engine.families(hits)
            if _distinct(groups):  # no two hits are versions of one: each counts once anyway
                groups = None  # (deduplicating every facet's values cost a third of the counts)
        found: dict[str, list[FacetValue]] = {}
        for name in FACETS:
            if deadline.passed():
                return found, [n for n in FACETS if n not in found]
            counts = (engine.kind_counts(pool.rows, owners) if name == "kind"
                      else engine.value_counts(name, hits, FACET_VALUES, groups))
            found[name] = [FacetValue(value=v, count=n) for v, n in counts]
        return found, []

    def _versions(self, hit_tops: np.ndarray, request: SearchRequest, query: Understood
                  ) -> Versions | None:
        """Which hit stands for each family of versions: its first in the query's language (a
        GAD-7 search in English is answered by the English GAD-7, not the Kannada one that
        scored a hair higher), else its first."""
        if not (request.collapse and request.group) or not len(hit_tops):
            return None
        families = self.engine.families(hit_tops)
        if _distinct(families):  # each hit is its family's only one
            return Versions(np.arange(len(hit_tops)), families, hit_tops)
        language = next(iter(query.lexical.native), "") or "en"
        speaks = self.engine.speaks(hit_tops, language)
        place = np.arange(len(hit_tops))
        order = np.lexsort((np.where(speaks, place, place + len(place)), families))
        ordered = families[order]
        first = order[np.r_[True, ordered[1:] != ordered[:-1]]]
        return Versions(np.sort(first), families, hit_tops)

    def _add_versions(self, hits: list[Hit], tops: np.ndarray, versions: Versions) -> None:
        family = dict(zip(tops.tolist(), self.engine.families(tops).tolist(), strict=True))
        members = {int(top): versions.tops[versions.families == family[top]] for top in tops.tolist()}
        others = {top: rows[rows != top] for top, rows in members.items()}
        titles = self.engine.titles([int(r) for rows in others.values()
                                         for r in rows[:VERSIONS_LISTED]])
        for hit, top in zip(hits, tops.tolist(), strict=True):
            hit.versions = len(members[top])
            hit.other_versions = [Version(id=titles[r][0], title=titles[r][1])
                                  for r in others[top][:VERSIONS_LISTED].tolist()]

    def _sort_keys(self, request: SearchRequest, hit_tops: np.ndarray) -> np.ndarray:
        if request.sort == "relevance":
            return np.zeros(len(hit_tops))
        return self.engine.sort_key(request.sort, hit_tops)

    def _after(self, position: cursors.Position, tops: np.ndarray, scores: np.ndarray,
               keys: np.ndarray) -> int:
        """Index of the first hit that sorts after the cursor's position."""
        mark = self.engine.order_mark(position.id)
        ranks = self.engine.order(tops)
        after = (keys < position.key) | ((keys == position.key) & (
            (scores < position.score) | ((scores == position.score) & (ranks > mark))))
        found = np.flatnonzero(after)
        return int(found[0]) if len(found) else len(tops)

    # ---- hits ----------------------------------------------------------------------------

    def _hits(self, pool: Pool, request: SearchRequest, query: Understood, tops: np.ndarray,
              scores: np.ndarray, hand: np.ndarray, learned: np.ndarray | None) -> list[Hit]:
        """The page's hits: `scores` order them, `hand` is the hand rule's score of each and
        `learned` the learned ranker's (NaN where it did not place the hit; None when it was
        not asked)."""
        if not len(tops):
            return []
        fused = pool.fused
        children: dict[int, list[int]] = {int(t): [] for t in tops}
        if request.group:
            members = np.flatnonzero(np.isin(pool.tops, tops) & (pool.rows != pool.tops))
            members = members[np.lexsort((fused.rows[members], -fused.scores[members]))]
            for i in members:
                children[int(pool.tops[i])].append(int(fused.rows[i]))
        shown = {t: rows[:request.variables_per_hit] for t, rows in children.items()}
        position = _positions(fused.rows, list(children) + [r for rows in shown.values() for r in rows])
        bodies = self.engine.bodies(list(children) + [r for rows in shown.values() for r in rows])
        words = query.words if not request.similar_to else {}
        hits = []
        placed = learned if learned is not None else np.full(len(tops), np.nan)
        for top, score, own, model in zip(tops.tolist(), scores.tolist(), hand.tolist(),
                                          placed.tolist(), strict=True):
            body = bodies[top]
            variables = [self._variable_hit(bodies[r], fused, position[r], words, request)
                         for r in shown[top]]
            noun = _child_noun(bodies, shown[top])
            explanation = self._explain(body, fused, position.get(top), words, own,
                                        len(children[top]), noun, request,
                                        None if np.isnan(model) else model)
            ranges = body["ranges"]
            display = body["display"]
            hits.append(Hit(
                id=body["id"], kind=body["kind"], title=body["title"],
                snippet=_snippet(explanation, display), url=display.get("url"),
                catalogues=display.get("catalogues", []), countries=display.get("countries", []),
                start_year=_int(ranges.get("year_start")), end_year=_int(ranges.get("year_end")),
                sample_size=_int(ranges.get("sample_size")), variable_count=_int(ranges.get("variables")),
                item_count=_int(display.get("items")),
                score=round(score, 6), explanation=explanation, variables=variables))
        return hits

    def _variable_hit(self, body: dict[str, Any], fused: Fused, i: int, words: dict[str, str],
                      request: SearchRequest) -> VariableHit:
        explanation = self._explain(body, fused, i, words, float(fused.scores[i]), 0, "variable", request)
        display = body["display"]
        return VariableHit(id=body["id"], kind=body["kind"], name=display.get("name"), label=body["title"],
                           question=display.get("question"), score=round(float(fused.scores[i]), 6),
                           explanation=explanation)

    def _explain(self, body: dict[str, Any], fused: Fused, i: int | None, words: dict[str, str],
                 score: float, matched_children: int, noun: str, request: SearchRequest,
                 learned: float | None = None) -> Explanation:
        fields = matched_fields(body["fields"], words)
        lex_rank = sem_rank = None
        lex_score = sem_score = None
        if i is not None:
            if fused.lexical_rank[i]:
                lex_rank, lex_score = int(fused.lexical_rank[i]), round(float(fused.lexical_score[i]), 4)
            if fused.semantic_rank[i]:
                sem_rank, sem_score = int(fused.semantic_rank[i]), round(float(fused.semantic_score[i]), 4)
        named = i is not None and bool(fused.exact[i])
        return Explanation(
            lexical_rank=lex_rank, lexical_score=lex_score, semantic_rank=sem_rank,
            semantic_score=sem_score, fused_score=round(score, 6), fields=fields,
            matched_variables=matched_children, named=named,
            learned_score=None if learned is None else round(learned, 6),
            summary=summary(fields if lex_rank else [], sem_score, sem_rank, matched_children, noun,
                            request.similar_to, named, learned))



# A hybrid query's lexical side runs in a helper thread while its own thread searches the vectors:
# tantivy and faiss both release the GIL, so on a second free core the query takes about as long
# as its slower retriever rather than both. HELPERS threads per process serve every query; a query
# that finds none free runs both in its own thread, as a busy server's cores are taken anyway.
# The threads are kept, not started per query: starting one waited for the new thread to be
# scheduled, about 3% of a query on a loaded machine.
HELPERS = 2


@dataclass
class _Helpers:
    process: int  # the id of the process whose threads these are
    threads: ThreadPoolExecutor
    free: threading.BoundedSemaphore


_helpers: _Helpers | None = None
_making_helpers = threading.Lock()


def _started(call: Callable[[], T], beside: bool) -> Callable[[], T]:
    """`call` begun in a helper thread when `beside` and a helper is free, else run now; the
    function returned gives its result (or raises its error) once it is done."""
    helpers = _helper_threads() if beside else None
    if helpers is None or not helpers.free.acquire(blocking=False):
        value = call()
        return lambda: value
    try:
        future = helpers.threads.submit(call)
    except BaseException:
        helpers.free.release()
        raise
    future.add_done_callback(lambda _: helpers.free.release())
    return future.result


def _helper_threads() -> _Helpers:
    """This process's helpers, made again in a child forked from a process that had them (the
    child has none of its parent's threads)."""
    global _helpers
    with _making_helpers:
        if _helpers is None or _helpers.process != os.getpid():
            _helpers = _Helpers(os.getpid(), ThreadPoolExecutor(HELPERS, "discovery-lexical"),
                                threading.BoundedSemaphore(HELPERS))
        return _helpers


def _relevance_order(hand: np.ndarray, learned: np.ndarray) -> np.ndarray:
    """One score per hit that orders by relevance: the hits the learned ranker placed (`learned`
    not NaN) above the rest, by its score mapped into (0, 1) above the rest's best hand score;
    the rest by their hand score. One score keeps cursors and ties as they were."""
    placed = ~np.isnan(learned)
    floor = float(hand[~placed].max()) if not placed.all() else 0.0
    return np.where(placed, floor + 1 + np.arctan(np.nan_to_num(learned)) / np.pi + 0.5, hand)


def _distinct(numbers: np.ndarray) -> bool:
    return len(np.unique(numbers)) == len(numbers)


def _positions(rows: np.ndarray, wanted: list[int]) -> dict[int, int]:
    """Where each of `wanted` is in `rows` (sorted, distinct: a fused pool's), for those it holds:
    looked up for a page's rows, not mapped for the whole pool."""
    asked = np.asarray(wanted, np.int64)
    at = np.minimum(np.searchsorted(rows, asked), max(len(rows) - 1, 0))
    held = rows[at] == asked if len(rows) else np.zeros(len(asked), bool)
    return dict(zip(asked[held].tolist(), at[held].tolist(), strict=True))


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

