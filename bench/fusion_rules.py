"""Fusion rules compared on the search tuning judgments (README, "How search quality is measured").

    python bench/fusion_rules.py --data DIR [RULE ...]

Runs the real search service (retrieval cuts, exact names, grouping, ordering) over the three
tuning files with each candidate rule in place of the kept one (`search/fusion.py`, weighted,
w = 0.5, the title cosine mixed in), and prints hybrid nDCG@10 per file and over all their
queries, the gain over each single retriever, and the ratios to the kept rule and to the weighted
rule without titles (the rule before them), each with its paired 95% bootstrap interval
(`search/evaluate.py`).
Each retriever is read once per query and its depth list reused by every rule. Only the tuning
files are read: the check half and the blind set are reported by `discovery eval`, once, for
the rule kept.

Every rule keeps the result set (the cuts decide it) and changes only the order. The title rules
read the index's title vectors (one per hit, not per item: `index/build.py`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import discovery.search.pipeline as pipeline_module
from discovery.index.lexical import LexicalQuery, native_field, terms
from discovery.search.evaluate import evaluate, load_judgments, ratio_interval
from discovery.search.fusion import EXACT_BOOST, Fused, Ranked, fuse
from discovery.search.grouping import Grouped, group
from discovery.search.models import SearchRequest
from discovery.search.relevance import LEXICAL_FLOOR
from discovery.search.service import SearchService

TUNING = (Path("bench/judgments/search_tune.tsv"), Path("bench/judgments/search_tune_languages.tsv"),
          Path("bench/judgments/search_tune_more.tsv"))
WEIGHT = 0.5


@dataclass
class Pool:
    """A hybrid query's candidates, what each retriever said of them, and the unfiltered depth
    lists they came from."""

    rows: np.ndarray
    lexical: Ranked
    semantic: Ranked
    lex_rank: np.ndarray
    lex_score: np.ndarray
    sem_rank: np.ndarray
    sem_score: np.ndarray
    depth_lexical: tuple[np.ndarray, np.ndarray]
    depth_semantic: tuple[np.ndarray, np.ndarray]
    vector: np.ndarray
    query: LexicalQuery
    title_rank: np.ndarray  # > 0 where the row has a title vector
    title_score: np.ndarray

    def bm25(self, start: float = 0.0) -> np.ndarray:
        """BM25 scaled from `start` of the floor (0: from zero, as kept) to the query's best."""
        low = start * LEXICAL_FLOOR * self.lexical.best
        span = max(self.lexical.best - low, 1e-9)
        return np.where(self.lex_rank > 0, np.clip((self.lex_score - low) / span, 0, 1), 0.0)

    def cosine(self, start: float = 0.0, scores: np.ndarray | None = None) -> np.ndarray:
        """Cosine scaled from a point `start` of the way from the depth cosine (as kept) to the
        cut, up to the query's best; `scores` for every row instead of the semantic side's."""
        if not len(self.semantic.rows):
            return np.zeros(len(self.rows))
        cut = SERVICE.cut.threshold(self.semantic.best)
        low = self.semantic.low + start * (cut - self.semantic.low)
        span = max(self.semantic.best - low, 1e-9)
        if scores is None:
            return np.where(self.sem_rank > 0, np.clip((self.sem_score - low) / span, 0, 1), 0.0)
        return np.clip((scores - low) / span, 0, 1)


Rule = Callable[[Pool], np.ndarray]


def weighted(p: Pool) -> np.ndarray:
    return (1 - WEIGHT) * p.bm25() + WEIGHT * p.cosine()


def rrf(k: int) -> Rule:
    def score(p: Pool) -> np.ndarray:
        return ((1 - WEIGHT) * np.where(p.lex_rank > 0, 1 / (k + p.lex_rank), 0)
                + WEIGHT * np.where(p.sem_rank > 0, 1 / (k + p.sem_rank), 0))
    return score


def weighted_and_rrf(share: float, k: int = 60) -> Rule:
    ranks = rrf(k)
    return lambda p: weighted(p) + share * (k + 1) * ranks(p)


def both_found(bonus: float) -> Rule:
    """CombMNZ-like: the weighted score multiplied when both retrievers return the row."""
    return lambda p: weighted(p) * (1 + bonus * ((p.lex_rank > 0) & (p.sem_rank > 0)))


def zscore(p: Pool) -> np.ndarray:
    """Each side standardised by its unfiltered depth list; a row a side did not return gets
    that list's lowest score."""
    def side(rank: np.ndarray, score: np.ndarray, depth: np.ndarray) -> np.ndarray:
        if len(depth) < 2:
            return np.zeros(len(rank))
        spread = float(depth.std()) or 1.0
        return (np.where(rank > 0, score, depth.min()) - depth.mean()) / spread
    return ((1 - WEIGHT) * side(p.lex_rank, p.lex_score, p.depth_lexical[1].astype(float))
            + WEIGHT * side(p.sem_rank, p.sem_score, p.depth_semantic[1].astype(float)))


def every_cosine(p: Pool) -> np.ndarray:
    """Rows found only lexically get their own cosine instead of nothing."""
    return (1 - WEIGHT) * p.bm25() + WEIGHT * p.cosine(scores=_cosines(p))


def from_cuts(lexical_start: float, semantic_start: float) -> Rule:
    return lambda p: (1 - WEIGHT) * p.bm25(lexical_start) + WEIGHT * p.cosine(semantic_start)


def coverage_routed(p: Pool) -> np.ndarray:
    """The lexical side scaled by the share of the query (by IDF) its best row holds: a query
    whose best word match holds one common word leans on meaning."""
    best = int(p.depth_lexical[0][0]) if len(p.depth_lexical[0]) else None
    return (1 - WEIGHT) * _coverage(best, p.query) * p.bm25() + WEIGHT * p.cosine()


def title(share: float, words_only_too: bool = False) -> Rule:
    """The semantic side mixes a hit's cosine with its title's alone (scaled alike), where the
    semantic side found it (and, `words_only_too`, where only the lexical side did); items and
    the rest keep their cosine."""
    def score(p: Pool) -> np.ndarray:
        titled = (p.title_rank > 0) & ((p.sem_rank > 0) | words_only_too)
        title = p.cosine(scores=p.title_score)
        semantic = np.where(titled, (1 - share) * p.cosine() + share * title, p.cosine())
        return (1 - WEIGHT) * p.bm25() + WEIGHT * semantic
    return score


def title_max(p: Pool) -> np.ndarray:
    """The semantic side takes the better of a hit's cosine and its title's."""
    titled = (p.title_rank > 0) & (p.sem_rank > 0)
    semantic = np.where(titled, np.maximum(p.cosine(), p.cosine(scores=p.title_score)), p.cosine())
    return (1 - WEIGHT) * p.bm25() + WEIGHT * semantic


def title_own_scale(share: float) -> Rule:
    """As `title`, the title cosines scaled by their own range among the candidates."""
    def score(p: Pool) -> np.ndarray:
        titled = (p.title_rank > 0) & (p.sem_rank > 0)
        if not titled.any():
            return weighted(p)
        found = p.title_score[titled]
        span = max(float(found.max() - found.min()), 1e-9)
        title = np.clip((p.title_score - found.min()) / span, 0, 1)
        semantic = np.where(titled, (1 - share) * p.cosine() + share * title, p.cosine())
        return (1 - WEIGHT) * p.bm25() + WEIGHT * semantic
    return score


def kept(p: Pool) -> np.ndarray:
    """The rule `search/fusion.py` applies."""
    return np.asarray(CHOSEN["kept"])


# late fusion: each side's rows grouped into hits first (as the single modes rank them), then
# the hits' scores fused
def late_sum(lexical: np.ndarray, semantic: np.ndarray) -> np.ndarray:
    return (1 - WEIGHT) * lexical + WEIGHT * semantic


def late_rrf(k: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def ranks(scores: np.ndarray) -> np.ndarray:
        order = np.empty(len(scores))
        order[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        return np.where(scores > 0, 1 / (k + order), 0.0)
    return lambda lexical, semantic: (1 - WEIGHT) * ranks(lexical) + WEIGHT * ranks(semantic)


RULES: dict[str, Rule] = {
    "weighted, no title": weighted, "kept": kept, "rrf k=10": rrf(10), "rrf k=30": rrf(30),
    "rrf k=60": rrf(60), "rrf k=100": rrf(100), "weighted + 0.25 rrf": weighted_and_rrf(0.25),
    "both found x1.5": both_found(0.5), "z-score": zscore, "every row's cosine": every_cosine,
    "from the cuts": from_cuts(1.0, 0.5), "coverage-routed": coverage_routed,
    **{f"title {share}": title(share) for share in (0.15, 0.25, 0.35, 0.5, 0.75)},
    "title 0.25, word-only hits too": title(0.25, words_only_too=True), "title max": title_max,
    "title 0.25, own scale": title_own_scale(0.25)}
LATE = {"late sum": late_sum, "late rrf k=60": late_rrf(60)}


# ---- plumbing: the real service, its retrievers read once, a rule swapped in --------------

SERVICE: SearchService
LAST: dict[str, object] = {}
CHOSEN: dict[str, object] = {}


def _memoised(read: Callable, name: str) -> Callable:
    seen: dict = {}

    def reading(what, k, allowed=None):  # noqa: ANN001, ANN202: the reader's own signature
        key = (what.tobytes() if isinstance(what, np.ndarray) else repr(what), k, allowed is None)
        if key not in seen:
            seen[key] = read(what, k, allowed)
        if allowed is None:
            LAST[name], LAST[name + "_input"] = seen[key], what
        return seen[key]
    return reading


def _fuse(lexical: Ranked, semantic: Ranked, weight: float, method: str = "weighted",
          exact: dict[int, float] | None = None, titles: Ranked | None = None) -> Fused:
    kept = fuse(lexical, semantic, weight, method, exact, titles)
    rule = CHOSEN.get("rule")
    if rule is None or not 0 < weight < 1:
        return kept
    pool = Pool(kept.rows, lexical, semantic, kept.lexical_rank, kept.lexical_score,
                kept.semantic_rank, kept.semantic_score,
                LAST["lexical"], LAST["semantic"], LAST["semantic_input"], LAST["lexical_input"],
                *_titled(kept.rows, titles))
    CHOSEN["pool"], CHOSEN["kept"] = pool, kept.scores - EXACT_BOOST * kept.exact
    if rule in LATE.values():
        return kept
    return Fused(kept.rows, rule(pool) + EXACT_BOOST * kept.exact, kept.lexical_rank,
                 kept.lexical_score, kept.semantic_rank, kept.semantic_score, kept.exact)


def _group(self: pipeline_module._Search, pool: pipeline_module.Pool, request) -> Grouped:  # noqa: ANN001
    rule = CHOSEN.get("rule")
    if rule not in LATE.values() or request.mode != "hybrid" or pool.nearest:
        return ORIGINAL_GROUP(self, pool, request)
    sides, boost = CHOSEN["pool"], EXACT_BOOST * pool.fused.exact
    tops = pool.tops if request.group else pool.rows
    lexical = group(pool.rows, tops, sides.bm25() + boost)
    semantic = group(pool.rows, tops, sides.cosine() + boost)
    return Grouped(lexical.tops, rule(lexical.scores, semantic.scores), lexical.items)


ORIGINAL_GROUP = pipeline_module._Search._group


def _cosines(p: Pool) -> np.ndarray:
    known = dict(zip(p.depth_semantic[0].tolist(), p.depth_semantic[1].tolist(), strict=True))
    query = p.vector.reshape(-1)
    found = []
    for row in p.rows.tolist():
        if row not in known:
            vector = SERVICE.index.vectors.vector(row)
            known[row] = float(vector.reshape(-1) @ query) if vector is not None else 0.0
        found.append(known[row])
    return np.asarray(found)


def _coverage(row: int | None, query: LexicalQuery) -> float:
    if row is None:
        return 0.0
    sides = SERVICE.index.lexical.sides.values()
    documents = sum(side.searcher.num_docs for side in sides)

    def idf(field: str, term: str) -> float:
        found = sum(side.searcher.doc_freq(field, term) for side in sides)
        return math.log(1 + (documents - found + 0.5) / (found + 0.5))

    fields = SERVICE.index.docs.bodies([row])[row]["fields"]
    text = "\n".join(value for value in fields.values() if isinstance(value, str))
    shares = []
    if query.english:
        own = set(terms(text))
        weights = [max(idf("text", t) for t in spellings) for spellings in query.english]
        held = [w for w, spellings in zip(weights, query.english, strict=True)
                if any(t in own for t in spellings)]
        shares.append(sum(held) / sum(weights))
    for code, native in query.native.items():
        if native:
            own = set(terms(text, code))
            weights = [idf(native_field(code), t) for t in native]
            shares.append(sum(w for w, t in zip(weights, native, strict=True) if t in own)
                          / (sum(weights) or 1.0))
    return max(shares, default=0.0)


def _titled(rows: np.ndarray, titles: Ranked | None) -> tuple[np.ndarray, np.ndarray]:
    """1 and the title cosine where a row (of the fused, sorted rows) has a title vector, else 0."""
    has, score = np.zeros(len(rows), np.int64), np.zeros(len(rows))
    if titles is not None and len(titles.rows):
        where = np.searchsorted(rows, titles.rows)
        has[where], score[where] = 1, titles.scores
    return has, score


def _run(sets: dict[Path, dict[str, dict[str, int]]], mode: str) -> dict[str, list[float]]:
    def search(request) -> list[str]:  # noqa: ANN001
        return [hit.id for hit in SERVICE.search(request).hits]
    return {path.name: [s.ndcg for s in evaluate(search, judged, mode, WEIGHT)[1].values()]
            for path, judged in sets.items()}


def _ceiling(path: Path, sets: dict[Path, dict[str, dict[str, int]]],
             single: dict[str, dict[str, list[float]]]) -> None:
    """What reordering could reach on one tuning file: the better single retriever per query,
    the best weight per query in hindsight, and how much of hybrid's top 10 is judged."""
    global WEIGHT
    better = np.maximum(single["lexical"][path.name], single["semantic"][path.name])
    CHOSEN["rule"] = None
    kept, by_weight = WEIGHT, []
    for weight in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        WEIGHT = weight
        by_weight.append(_run({path: sets[path]}, "hybrid")[path.name])
    WEIGHT = kept
    unjudged = []
    for query, grades in sets[path].items():
        if any(g > 0 for g in grades.values()):
            hits = SERVICE.search(SearchRequest(q=query, size=10, facets=False, variables_per_hit=0,
                                                collapse=False)).hits
            unjudged += [hit.id not in grades for hit in hits]
    print(f"{path.name}: better single retriever per query {better.mean():.3f}; best weight per "
          f"query in hindsight {np.max(by_weight, axis=0).mean():.3f}; hybrid top-10 records "
          f"unjudged {np.mean(unjudged):.0%}")


def main() -> None:
    global SERVICE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("rules", nargs="*", help=f"rules to run (default all): {', '.join([*RULES, *LATE])}")
    args = parser.parse_args()
    chosen = args.rules or [*RULES, *LATE]
    SERVICE = SearchService(args.data)
    index = SERVICE.index
    index.lexical_search = _memoised(index.lexical_search, "lexical")
    index.semantic_search = _memoised(index.semantic_search, "semantic")
    pipeline_module.fuse = _fuse
    pipeline_module._Search._group = _group
    sets = {path: load_judgments(path) for path in TUNING}
    single = {mode: _run(sets, mode) for mode in ("lexical", "semantic")}
    CHOSEN["rule"] = RULES["weighted, no title"]
    before = _run(sets, "hybrid")
    CHOSEN["rule"] = RULES["kept"]
    kept = [v for scores in _run(sets, "hybrid").values() for v in scores]
    print(f"hybrid nDCG@10 on the tuning files, {index.model}, w = {WEIGHT} (gain over lexical / "
          f"semantic; all {len(kept)}: ratio to the kept rule, then to weighted, no title "
          "[95% interval])")
    for name in chosen:
        CHOSEN["rule"] = {**RULES, **LATE}[name]
        found = _run(sets, "hybrid")
        cells = [f"{name:<22}"]
        for file, scores in found.items():
            cells.append(f"{file}: {np.mean(scores):.3f} "
                         f"({ratio_interval(scores, single['lexical'][file]).mean:.2f} / "
                         f"{ratio_interval(scores, single['semantic'][file]).mean:.2f})")
        every = [v for scores in found.values() for v in scores]
        base = [v for scores in before.values() for v in scores]
        cells.append(f"all {len(every)}: {np.mean(every):.3f}, x{ratio_interval(every, kept)}, "
                     f"x{ratio_interval(every, base)}")
        print(" | ".join(cells), flush=True)
    for path in TUNING:
        _ceiling(path, sets, single)


if __name__ == "__main__":
    main()
