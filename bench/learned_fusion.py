"""Does a learned fusion beat the kept hand rule? Headroom, then three linear rankers judged by
cross-validation by query on the 75 tuning queries (README, "A learned fusion?").

    python bench/learned_fusion.py --data DIR [--write src/discovery/search/ranker.tsv]
    python bench/learned_fusion.py --data DIR --latency

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
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

import discovery.search.pipeline as pipeline_module
from discovery.search.dense_pair import reads_english
from discovery.search.evaluate import CUTOFF, load_judgments, ratio_interval, score_ranking
from discovery.search.fusion import EXACT_BOOST, Fused, Ranked, fuse
from discovery.search.grouping import Grouped
from discovery.search.models import SearchRequest
from discovery.search.query import Understood, understand
from discovery.search.ranker import (EVIDENCE, FEATURES, RERANKED, TEXT, Ranker, Sides,
                                     evidence_features, first_hits, text_features)
from discovery.search.service import SearchService

TUNING = (Path("bench/judgments/search_tune.tsv"), Path("bench/judgments/search_tune_languages.tsv"),
          Path("bench/judgments/search_tune_more.tsv"))
HEADROOM_DEPTH = 100  # hits of each single retriever whose union the ideal ordering reads
FOLDS = 5
SEED = 20261201
L2 = 1e-3
NEWTON_STEPS = 100


# ---- one query's hits and their features -------------------------------------------------

@dataclass
class Query:
    """One tuning query: its hits in the pipeline's order under the kept rule, their features,
    the tie-break order the pipeline uses, and their grades (0 where unjudged)."""

    text: str
    file: str
    hits: list[str]
    features: np.ndarray  # hits x EVIDENCE (the second round: its first hits x FEATURES)
    order: np.ndarray  # the engine's id order of each hit: ties break by it
    grades: np.ndarray
    judged: dict[str, int]
    tail: list[str] = field(default_factory=list)  # hits a model does not reorder, kept's order

    def ranked(self, scores: np.ndarray) -> list[str]:
        """The hits by `scores`, best first, ties as the pipeline breaks them; then the tail."""
        return [self.hits[i] for i in np.lexsort((self.order, -scores))] + self.tail

    def ndcg(self, scores: np.ndarray) -> float:
        return score_ranking(self.ranked(scores), self.judged).ndcg


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


def second_round(service: SearchService, query: Query, understood: Understood, english: bool,
                 grouped: Grouped) -> Query:
    """The query as the second round (and the product, `search/ranker.py`) sees it: the kept
    rule's first RERANKED hits with both feature sets, the rest as a tail in the kept order."""
    order = np.lexsort((query.order, -query.features[:, 0]))
    first, rest = order[:RERANKED], order[RERANKED:]
    if not np.array_equal(first, first_hits(grouped, query.order)):
        raise SystemExit(f"{query.text!r}: the first hits differ from the product's")
    features = np.hstack([query.features[first],
                          text_features(service._current(), understood.text, set(understood.words),
                                        english, grouped.tops[first])])
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
            sides = Sides(SEEN["lexical"], SEEN["semantic"], SEEN["titles"], bool(SEEN["english"]))  # type: ignore[arg-type]
            features = evidence_features(fused, pool.tops, grouped, sides)
            titles = service.index.docs.titles(grouped.tops.tolist())
            hits = [titles[row][0] for row in grouped.tops.tolist()]
            query = Query(text, path.name, hits, features, np.asarray(SEEN["order"]),
                          np.array([judged.get(h, 0) for h in hits], float), judged)
            if query.ranked(features[:, 0])[:CUTOFF] != shown:
                raise SystemExit(f"{text!r}: the hits read do not repeat the pipeline's order")
            queries.append(query)
            seconds.append(second_round(service, query, SEEN["understood"], bool(SEEN["english"]),  # type: ignore[arg-type]
                                        grouped))
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


Fit = Callable[[list[Query]], Ranker]


def ranker(kind: str) -> Fit:
    """A fitter of candidate `kind` ("A", "B", "C"): the features standardised on the training
    queries, then the weights (a pointwise model's intercept, which orders nothing, dropped)."""
    def fit(training: list[Query]) -> Ranker:
        stacked = np.vstack([q.features for q in training])
        mean, spread = stacked.mean(axis=0), stacked.std(axis=0)
        spread[spread == 0] = 1.0

        def standard(q: Query) -> np.ndarray:
            return (q.features - mean) / spread
        if kind == "C":
            beta = newton([points(q, standard(q)) for q in training], stacked.shape[1])[:-1]
        else:
            beta = newton([pairs(q, standard(q), kind == "B") for q in training], stacked.shape[1])
        return Ranker(mean, spread, beta)
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
        model = fit([q for q, f in zip(queries, fold, strict=True) if f != k])
        for i in np.flatnonzero(fold == k):
            found[i] = queries[i].ndcg(model.score(queries[i].features))
    return found.tolist()


def by_file(queries: list[Query], values: list[float]) -> dict[str, float]:
    return {path.name: float(np.mean([v for q, v in zip(queries, values, strict=True)
                                      if q.file == path.name])) for path in TUNING}


def _wins(found: list[float], kept: list[float]) -> str:
    difference = np.asarray(found) - np.asarray(kept)
    return f"{int((difference > 1e-9).sum())} / {int((difference < -1e-9).sum())}"


def latency(service: SearchService) -> None:
    """Hybrid latency of the tuning queries with the hand rule and with the learned order, each
    query's vectors in memory (searched once first), the two settings taking turns query by query."""
    texts = [q for path in TUNING for q in load_judgments(path)]
    settings = {"hand rule": replace(service.settings, learned=False),
                "learned order": replace(service.settings, learned=True)}
    took: dict[str, list[float]] = {name: [] for name in settings}
    for rounds in range(2):
        for text in texts:
            for name, chosen in settings.items():
                service.settings = chosen
                started = time.perf_counter()
                service.search(SearchRequest(q=text))
                if rounds:
                    took[name].append((time.perf_counter() - started) * 1000)
    for name, values in took.items():
        print(f"{name}: hybrid p50 {np.percentile(values, 50):.1f} ms, p95 "
              f"{np.percentile(values, 95):.1f} ms over {len(values)} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--write", type=Path, help="where to write the kept candidate's weights, "
                        "fitted on all tuning queries (the product's: src/discovery/search/ranker.tsv)")
    parser.add_argument("--latency", action="store_true", help="time the hand rule and the learned "
                        "order on the tuning queries instead")
    args = parser.parse_args()
    service = SearchService(args.data)
    if args.latency:
        latency(service)
        return
    service.settings = replace(service.settings, learned=False)  # the hand rule's order is read
    if service.index.english is None:
        raise SystemExit(f"{args.data}: index it with `discovery index --model e5+minilm` first")
    pipeline_module.fuse = _capturing_fuse
    pipeline_module._Search._group = _capturing_group
    pipeline_module.understand = _capturing_understand
    queries, seconds, headroom = read_queries(service)
    print(f"{len(queries)} tuning queries, {sum(len(q.hits) for q in queries)} hits, "
          f"{len(EVIDENCE)} features (second round: the first {RERANKED} hits, "
          f"{len(EVIDENCE) + len(TEXT)}); exact boost {EXACT_BOOST}")
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
        model = fit(round_queries)
        print(f"kept candidate {best}; fitted on all {len(queries)} queries, in-sample nDCG@10 "
              f"{np.mean([q.ndcg(model.score(q.features)) for q in round_queries]):.3f}")
        if args.write and len(model.weight) == len(FEATURES):
            model.write(args.write)
            print(f"weights written to {args.write}")
    else:
        print("no candidate passes the adoption rule: the kept rule stays")


if __name__ == "__main__":
    main()
