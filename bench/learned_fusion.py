"""Does a learned fusion beat the kept hand rule? Headroom, then three linear rankers judged by
cross-validation by query on the 75 tuning queries (README, "A learned fusion?").

    python bench/learned_fusion.py --data DIR

DIR is a catalogue indexed `--model e5+minilm` (the default). The real search service answers
each tuning query once in hybrid mode; the pipeline's own pool (its rows, what each retriever
said of them, the exact names, the title cosines) and its grouping into hits are read as they
are formed, and each hit gets the features the README lists. Every candidate re-scores the same
hits, so it changes the order of the result set and never the set. Only the tuning files are
read: the check half and the blind set are run by `discovery eval`, once, for a rule kept.

Prints: the headroom table, then per candidate the cross-validated nDCG@10 per file, over all
75, and the ratio to the kept rule with its paired 95% interval, and whether it passes the rule.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import discovery.search.pipeline as pipeline_module
from discovery.search.dense_pair import reads_english
from discovery.search.explain import FIELD_ORDER, first_sentences
from discovery.search.evaluate import CUTOFF, load_judgments, ratio_interval, score_ranking
from discovery.search.fusion import EXACT_BOOST, Fused, Ranked, fuse
from discovery.search.grouping import Grouped
from discovery.search.models import SearchRequest
from discovery.search.query import Understood, understand
from discovery.search.service import SearchService

TUNING = (Path("bench/judgments/search_tune.tsv"), Path("bench/judgments/search_tune_languages.tsv"),
          Path("bench/judgments/search_tune_more.tsv"))
HEADROOM_DEPTH = 100  # hits of each single retriever whose union the ideal ordering reads
FOLDS = 5
SEED = 20261201
L2 = 1e-3
NEWTON_STEPS = 100
FEATURES = ("kept", "own_bm25", "own_semantic", "own_title", "own_lexical_rank",
            "own_semantic_rank", "own_both", "named", "has_title", "log_items", "items_effective",
            "item_best", "item_best_bm25", "item_best_semantic", "english_x_semantic")
RERANKED = 50  # the second round reorders the kept rule's first hits
KINDS = ("study", "dataset", "instrument", "project", "output")
MORE_FEATURES = ("title_words", "any_words", "e5_cosine", "minilm_cosine",
                 *(f"kind_{kind}" for kind in KINDS), "kind_other")


# ---- one query's hits and their features -------------------------------------------------

@dataclass
class Query:
    """One tuning query: its hits in the pipeline's order under the kept rule, their features,
    the tie-break order the pipeline uses, and their grades (0 where unjudged)."""

    text: str
    file: str
    hits: list[str]
    features: np.ndarray  # hits x FEATURES
    order: np.ndarray  # the engine's id order of each hit: ties break by it
    grades: np.ndarray
    judged: dict[str, int]
    tail: list[str] = field(default_factory=list)  # hits a model does not reorder, kept's order

    def ranked(self, scores: np.ndarray) -> list[str]:
        """The hits by `scores`, best first, ties as the pipeline breaks them; then the tail."""
        return [self.hits[i] for i in np.lexsort((self.order, -scores))] + self.tail

    def ndcg(self, scores: np.ndarray) -> float:
        return score_ranking(self.ranked(scores), self.judged).ndcg


def hit_features(fused: Fused, tops: np.ndarray, grouped: Grouped, lexical: Ranked,
                 semantic: Ranked, titles: Ranked | None, english: bool) -> np.ndarray:
    """FEATURES of every grouped hit, from the pool the pipeline formed (rows sorted, `tops[i]`
    the hit row `fused.rows[i]` is grouped under)."""
    rows = fused.rows
    n = len(grouped.tops)
    at = np.searchsorted(grouped.tops, tops)
    bm25 = _scaled(fused.lexical_score, fused.lexical_rank, 0.0, lexical.best)
    present = fused.semantic_score[fused.semantic_rank > 0]
    high = max(semantic.best, present.max()) if len(present) else 1.0
    low = (min(semantic.low, present.min()) if semantic.low else present.min()) if len(present) else 0.0
    cosine = _scaled(fused.semantic_score, fused.semantic_rank, low, high)
    title = np.zeros(len(rows))
    has_title = np.zeros(len(rows))
    if titles is not None and len(titles.rows):
        where = np.searchsorted(rows, titles.rows)
        has_title[where] = 1.0
        title[where] = np.clip((titles.scores - low) / (high - low if high > low else 1.0), 0, 1)
    own = rows == tops
    row_features = {
        "kept": None, "own_bm25": bm25, "own_semantic": cosine, "own_title": title,
        "own_lexical_rank": _rank_gain(fused.lexical_rank),
        "own_semantic_rank": _rank_gain(fused.semantic_rank),
        "own_both": ((fused.lexical_rank > 0) & (fused.semantic_rank > 0)).astype(float),
        "named": fused.exact, "has_title": has_title}
    out = np.zeros((n, len(FEATURES)))
    out[:, FEATURES.index("kept")] = grouped.scores
    for name, values in row_features.items():
        if values is not None:
            out[at[own], FEATURES.index(name)] = values[own]
    child = ~own
    items = np.bincount(at[child], minlength=n).astype(float)
    best = np.zeros(n)
    np.maximum.at(best, at[child], fused.scores[child])
    total = np.bincount(at[child], weights=fused.scores[child], minlength=n)
    best_bm25, best_semantic = np.zeros(n), np.zeros(n)
    np.maximum.at(best_bm25, at[child], bm25[child])
    np.maximum.at(best_semantic, at[child], cosine[child])
    out[:, FEATURES.index("log_items")] = np.log1p(items)
    out[:, FEATURES.index("items_effective")] = np.where(best > 0, total / np.where(best > 0, best, 1), 0)
    out[:, FEATURES.index("item_best")] = best
    out[:, FEATURES.index("item_best_bm25")] = best_bm25
    out[:, FEATURES.index("item_best_semantic")] = best_semantic
    out[:, FEATURES.index("english_x_semantic")] = float(english) * out[:, FEATURES.index("own_semantic")]
    return out


def _scaled(score: np.ndarray, rank: np.ndarray, low: float, high: float) -> np.ndarray:
    span = high - low if high > low else 1.0
    return np.where(rank > 0, np.clip((score - low) / span, 0, 1), 0.0)


def _rank_gain(rank: np.ndarray) -> np.ndarray:
    return np.where(rank > 0, 1 / np.log2(1 + np.maximum(rank, 1)), 0.0)


# ---- reading the pipeline -----------------------------------------------------------------

SEEN: dict[str, object] = {}


def _capturing_fuse(lexical: Ranked, semantic: Ranked, weight: float, method: str = "weighted",
                    exact: dict[int, float] | None = None, titles: Ranked | None = None) -> Fused:
    fused = fuse(lexical, semantic, weight, method, exact, titles)
    SEEN.update(fused=fused, lexical=lexical, semantic=semantic, titles=titles)
    return fused


def _capturing_group(self: pipeline_module._Search, pool: pipeline_module.Pool,
                     request: SearchRequest) -> Grouped:
    grouped = ORIGINAL_GROUP(self, pool, request)
    SEEN.update(pool=pool, grouped=grouped, order=self.engine.order(grouped.tops),
                english=self.engine.english_pair() is not None and reads_english(request.q))
    return grouped


ORIGINAL_GROUP = pipeline_module._Search._group


def _capturing_understand(q: str, speller: object, spellcheck: bool = True) -> Understood:
    understood = understand(q, speller, spellcheck)  # type: ignore[arg-type]
    SEEN["understood"] = understood
    return understood


def more_features(service: SearchService, understood: Understood, english: bool,
                  rows: np.ndarray) -> np.ndarray:
    """MORE_FEATURES of the hits at `rows` (their index rows): the share of the query's words in
    the title and in any field, the raw cosines of each encoder, the kind."""
    index = service.index
    bodies = index.docs.bodies(rows.tolist())
    words = set(understood.words)
    out = np.zeros((len(rows), len(MORE_FEATURES)))
    for i, row in enumerate(rows.tolist()):
        fields = bodies[row]["fields"]
        held = [set(first_sentences(fields[name])) for name in FIELD_ORDER if fields.get(name)]
        title = set(first_sentences(fields["title"])) if fields.get("title") else set()
        if words:
            out[i, 0] = len(words & title) / len(words)
            out[i, 1] = len(words & set().union(*held)) / len(words)
        kind = bodies[row]["kind"]
        out[i, MORE_FEATURES.index(f"kind_{kind}" if kind in KINDS else "kind_other")] = 1.0
    for column, on in ((2, True), (3, english)):
        if on:
            vector = index.embed_query(understood.text, english=column == 3)
            held, cosines = index.similarities(vector, rows, english=column == 3)
            out[np.isin(rows, held), column] = cosines
    return out


def second_round(service: SearchService, query: Query, understood: Understood, english: bool,
                 tops: np.ndarray) -> Query:
    """The query as the second round sees it: the kept rule's first RERANKED hits with both
    feature sets, the rest as a tail in the kept order."""
    order = np.lexsort((query.order, -query.features[:, 0]))
    first, rest = order[:RERANKED], order[RERANKED:]
    features = np.hstack([query.features[first],
                          more_features(service, understood, english, tops[first])])
    return Query(query.text, query.file, [query.hits[i] for i in first], features,
                 query.order[first], query.grades[first], query.judged,
                 [query.hits[i] for i in rest])


def read_queries(service: SearchService
                 ) -> tuple[list[Query], list[Query], dict[str, dict[str, float]]]:
    """Every tuning query's hits and features as each round sees them, and the headroom figures
    per query."""
    queries, seconds, headroom = [], [], {}
    for path in TUNING:
        for text, judged in load_judgments(path).items():
            if not any(g > 0 for g in judged.values()):
                continue
            SEEN.clear()
            shown = [h.id for h in service.search(SearchRequest(q=text, size=CUTOFF, facets=False,
                                                                variables_per_hit=0, collapse=False)).hits]
            pool: pipeline_module.Pool = SEEN["pool"]  # type: ignore[assignment]
            grouped: Grouped = SEEN["grouped"]  # type: ignore[assignment]
            if pool.nearest:
                raise SystemExit(f"{path}: query {text!r} found nothing that fits")
            fused: Fused = SEEN["fused"]  # type: ignore[assignment]
            features = hit_features(fused, pool.tops, grouped, SEEN["lexical"], SEEN["semantic"],  # type: ignore[arg-type]
                                    SEEN["titles"], bool(SEEN["english"]))  # type: ignore[arg-type]
            titles = service.index.docs.titles(grouped.tops.tolist())
            hits = [titles[row][0] for row in grouped.tops.tolist()]
            query = Query(text, path.name, hits, features, np.asarray(SEEN["order"]),
                          np.array([judged.get(h, 0) for h in hits], float), judged)
            if query.ranked(features[:, 0])[:CUTOFF] != shown:
                raise SystemExit(f"{text!r}: the hits read do not repeat the pipeline's order")
            queries.append(query)
            seconds.append(second_round(service, query, SEEN["understood"], bool(SEEN["english"]),  # type: ignore[arg-type]
                                        grouped.tops))
            single = {mode: [h.id for h in service.search(SearchRequest(
                q=text, mode=mode, size=HEADROOM_DEPTH, facets=False, variables_per_hit=0,
                collapse=False)).hits] for mode in ("lexical", "semantic")}
            union = set(single["lexical"]) | set(single["semantic"])
            headroom[text] = {
                "kept": query.ndcg(features[:, 0]),
                "better single": max(score_ranking(single[m], judged).ndcg for m in single),
                "ideal, union of single top 100": _ideal(union, judged),
                "ideal, hybrid result set": _ideal(set(hits), judged)}
    return queries, seconds, headroom


def _ideal(ids: set[str], judged: dict[str, int]) -> float:
    return score_ranking(sorted(ids, key=lambda rid: -judged.get(rid, 0)), judged).ndcg


# ---- the three linear rankers ----------------------------------------------------------------

@dataclass
class Examples:
    """A query's training examples for one loss: feature differences (pairwise) or features
    (pointwise), their labels and weights."""

    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray


def pairs(query: Query, x: np.ndarray, lambda_weights: bool) -> Examples:
    """Every pair of the query's hits with different grades, as (better - worse) differences,
    weighted to sum 1 (RankNet) or by the change in nDCG@10 when the two swap places in the kept
    ordering (LambdaRank's weights)."""
    better, worse = np.nonzero(query.grades[:, None] > query.grades[None, :])
    if lambda_weights:
        position = np.empty(len(query.hits), int)
        position[np.lexsort((query.order, -query.features[:, 0]))] = np.arange(len(query.hits))
        discount = np.where(position < CUTOFF, 1 / np.log2(position + 2), 0.0)
        gain = 2 ** query.grades - 1
        ideal = sorted((2 ** g - 1 for g in query.judged.values() if g > 0), reverse=True)[:CUTOFF]
        idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
        weight = np.abs(gain[better] - gain[worse]) * np.abs(discount[better] - discount[worse]) / idcg
        keep = weight > 0
        better, worse, weight = better[keep], worse[keep], weight[keep]
    else:
        weight = np.full(len(better), 1 / max(len(better), 1))
    return Examples(x[better] - x[worse], np.ones(len(better)), weight)


def points(query: Query, x: np.ndarray) -> Examples:
    """Each hit, relevant (grade > 0) or not, grade 2 weighted 3; the query's weights sum 1."""
    weight = np.where(query.grades == 2, 3.0, 1.0)
    return Examples(np.hstack([x, np.ones((len(x), 1))]), (query.grades > 0).astype(float),
                    weight / weight.sum())


def newton(examples: list[Examples], penalised: int) -> np.ndarray:
    """Weights minimising the mean over queries of their weighted logistic loss, plus L2 / 2
    on the first `penalised` weights (a pointwise model's intercept is free)."""
    x = np.vstack([e.x for e in examples])
    y = np.concatenate([e.y for e in examples])
    w = np.concatenate([e.weight for e in examples]) / len(examples)
    ridge = np.zeros(x.shape[1])
    ridge[:penalised] = L2
    beta = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1 / (1 + np.exp(-(x @ beta)))
        gradient = x.T @ (w * (p - y)) + ridge * beta
        hessian = (x * (w * p * (1 - p))[:, None]).T @ x + np.diag(ridge + 1e-12)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta


Fit = Callable[[list[Query]], Callable[[Query], np.ndarray]]


def ranker(kind: str) -> Fit:
    """A fitter of candidate `kind` ("A", "B", "C"): it standardises the features on the
    training queries and returns the scoring function."""
    def fit(training: list[Query]) -> Callable[[Query], np.ndarray]:
        stacked = np.vstack([q.features for q in training])
        mean, spread = stacked.mean(axis=0), stacked.std(axis=0)
        spread[spread == 0] = 1.0

        def standard(q: Query) -> np.ndarray:
            return (q.features - mean) / spread
        if kind == "C":
            beta = newton([points(q, standard(q)) for q in training], stacked.shape[1])
            return lambda q: standard(q) @ beta[:-1]
        beta = newton([pairs(q, standard(q), kind == "B") for q in training], stacked.shape[1])
        return lambda q: standard(q) @ beta
    return fit


CANDIDATES = {"A: pairwise (RankNet)": ranker("A"), "B: pairwise, LambdaRank weights": ranker("B"),
              "C: pointwise logistic": ranker("C")}


def folds(queries: list[Query]) -> np.ndarray:
    """Each query's fold: every file's queries shuffled with SEED and dealt in turn."""
    fold = np.zeros(len(queries), int)
    rng = np.random.default_rng(SEED)
    for path in TUNING:
        members = [i for i, q in enumerate(queries) if q.file == path.name]
        for place, i in enumerate(rng.permutation(members)):
            fold[i] = place % FOLDS
    return fold


def cross_validated(queries: list[Query], fit: Fit) -> list[float]:
    fold = folds(queries)
    found = np.zeros(len(queries))
    for k in range(FOLDS):
        score = fit([q for q, f in zip(queries, fold, strict=True) if f != k])
        for i in np.flatnonzero(fold == k):
            found[i] = queries[i].ndcg(score(queries[i]))
    return found.tolist()


def by_file(queries: list[Query], values: list[float]) -> dict[str, float]:
    return {path.name: float(np.mean([v for q, v in zip(queries, values, strict=True)
                                      if q.file == path.name])) for path in TUNING}


def _wins(found: list[float], kept: list[float]) -> str:
    difference = np.asarray(found) - np.asarray(kept)
    return f"{int((difference > 1e-9).sum())} / {int((difference < -1e-9).sum())}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    args = parser.parse_args()
    service = SearchService(args.data)
    if service.index.english is None:
        raise SystemExit(f"{args.data}: index it with `discovery index --model e5+minilm` first")
    pipeline_module.fuse = _capturing_fuse
    pipeline_module._Search._group = _capturing_group
    pipeline_module.understand = _capturing_understand
    queries, seconds, headroom = read_queries(service)
    print(f"{len(queries)} tuning queries, {sum(len(q.hits) for q in queries)} hits, "
          f"{len(FEATURES)} features (second round: the first {RERANKED} hits, "
          f"{len(FEATURES) + len(MORE_FEATURES)}); exact boost {EXACT_BOOST}")
    print("headroom, nDCG@10: " + " | ".join(f"{p.name}" for p in TUNING) + " | all")
    for name in next(iter(headroom.values())):
        values = [headroom[q.text][name] for q in queries]
        print(f"  {name:<32} " + " | ".join(f"{v:.3f}" for v in by_file(queries, values).values())
              + f" | {np.mean(values):.3f}")
    kept = [headroom[q.text]["kept"] for q in queries]
    if [q.ndcg(q.features[:, 0]) for q in seconds] != kept:
        raise SystemExit("the second round's view of a query does not repeat the kept order")
    kept_files = by_file(queries, kept)
    print("candidates, cross-validated nDCG@10 (5 folds by query): per file | all | ratio to kept")
    passed = {}
    for suffix, round_queries in (("", queries), ("2", seconds)):
        for name, fit in CANDIDATES.items():
            name = name.replace(":", suffix + ":", 1)
            found = cross_validated(round_queries, fit)
            files = by_file(round_queries, found)
            ratio = ratio_interval(found, kept)
            worst = min(files[f] - kept_files[f] for f in files)
            ok = ratio.low > 1 and worst >= -0.01
            if ok:
                passed[name] = (ratio.mean, fit, round_queries)
            print(f"  {name:<34} " + " | ".join(f"{v:.3f}" for v in files.values())
                  + f" | {np.mean(found):.3f} | x{ratio.mean:.3f} [{ratio.low:.3f}, {ratio.high:.3f}] | "
                  + f"worst file {worst:+.3f} | better / worse than kept on {_wins(found, kept)} queries | "
                  + ("passes" if ok else "fails"), flush=True)
    if passed:
        best = max(passed, key=lambda name: passed[name][0])
        _, fit, round_queries = passed[best]
        score = fit(round_queries)
        print(f"kept candidate {best}; fitted on all {len(queries)} queries, in-sample nDCG@10 "
              f"{np.mean([q.ndcg(score(q)) for q in round_queries]):.3f}")
    else:
        print("no candidate passes the adoption rule: the kept rule stays")


if __name__ == "__main__":
    main()
