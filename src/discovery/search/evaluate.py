"""Ranking quality against graded judgments: nDCG@10, MRR and recall@10 per search mode, with
bootstrap intervals, so that a difference smaller than the noise of a few dozen queries is seen
as such.

Judgments are a TSV with columns `query`, `id`, `grade` (0 not relevant, 1 relevant, 2 highly
relevant), ids being top-level hits (a study, an instrument...). Unjudged hits count as not
relevant. Intervals resample queries with replacement (percentile bootstrap, fixed seed, so a
report is reproducible); the ratio of two modes is resampled paired, query by query.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discovery.errors import DiscoveryError
from discovery.search.models import Mode, SearchRequest

CUTOFF = 10
RESAMPLES = 2000
SEED = 20261130


class JudgmentsError(DiscoveryError):
    """The judgments file cannot be read."""


@dataclass
class Scores:
    ndcg: float
    mrr: float
    recall: float


@dataclass
class Interval:
    """A mean and its 95% bootstrap interval."""

    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.2f}, {self.high:.2f}]"


def load_judgments(path: Path) -> dict[str, dict[str, int]]:
    """query -> {id: grade}, in file order."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            missing = {"query", "id", "grade"} - set(reader.fieldnames or [])
            if missing:
                raise JudgmentsError(f"missing column(s) {', '.join(sorted(missing))}", file=str(path),
                                     hint="a header line: query<TAB>id<TAB>grade")
            judged: dict[str, dict[str, int]] = {}
            for line, row in enumerate(reader, start=2):
                try:
                    grade = int(row["grade"])
                except (TypeError, ValueError):
                    raise JudgmentsError(f"line {line}: grade {row['grade']!r} is not 0, 1 or 2",
                                         file=str(path)) from None
                judged.setdefault(row["query"].strip(), {})[row["id"].strip()] = grade
    except OSError as error:
        raise JudgmentsError(f"cannot read judgments: {error.strerror}", file=str(path)) from None
    if not judged:
        raise JudgmentsError("no judgments", file=str(path))
    return judged


def score_ranking(ranked: list[str], grades: dict[str, int]) -> Scores:
    gains = [2 ** grades.get(rid, 0) - 1 for rid in ranked[:CUTOFF]]
    dcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(gains))
    ideal = sorted((2 ** g - 1 for g in grades.values() if g > 0), reverse=True)[:CUTOFF]
    idcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(ideal))
    relevant = {rid for rid, g in grades.items() if g > 0}
    first = next((i for i, rid in enumerate(ranked) if rid in relevant), None)
    found = len(relevant & set(ranked[:CUTOFF]))
    return Scores(ndcg=dcg / idcg if idcg else 0.0, mrr=1 / (first + 1) if first is not None else 0.0,
                  recall=found / len(relevant) if relevant else 0.0)


def evaluate(search: Callable[[SearchRequest], list[str]], judgments: dict[str, dict[str, int]],
             mode: Mode, semantic_weight: float = 0.5, collapse: bool = False
             ) -> tuple[Scores, dict[str, Scores]]:
    """Mean scores over queries with at least one relevant id, and each query's scores.

    Judgments grade records one by one, versions of an instrument included, so by default the
    ranking scored is of records (`collapse=False`); `collapse=True` scores the page as a user
    sees it, where the versions after a family's first are folded into it and count for nothing."""
    per_query = {}
    for query, grades in judgments.items():
        if not any(g > 0 for g in grades.values()):
            continue
        ranked = search(SearchRequest(q=query, mode=mode, semantic_weight=semantic_weight,
                                      size=CUTOFF, facets=False, variables_per_hit=0,
                                      collapse=collapse))
        per_query[query] = score_ranking(ranked, grades)
    n = max(len(per_query), 1)
    mean = Scores(ndcg=sum(s.ndcg for s in per_query.values()) / n,
                  mrr=sum(s.mrr for s in per_query.values()) / n,
                  recall=sum(s.recall for s in per_query.values()) / n)
    return mean, per_query


def _resamples(n: int) -> np.ndarray:
    """The same query resamples for every metric and mode, so comparisons are paired."""
    return np.random.default_rng(SEED).integers(0, n, size=(RESAMPLES, n))


def interval(values: list[float]) -> Interval:
    """The mean of per-query values with its 95% percentile bootstrap interval."""
    array = np.asarray(values, dtype=np.float64)
    if not len(array):
        return Interval(0.0, 0.0, 0.0)
    means = array[_resamples(len(array))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(array.mean()), float(low), float(high))


def ratio_interval(numerator: list[float], denominator: list[float]) -> Interval:
    """mean(numerator) / mean(denominator) over the same queries, with a paired 95% interval."""
    top, bottom = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    if not len(top) or bottom.sum() == 0:
        return Interval(math.nan, math.nan, math.nan)
    picks = _resamples(len(top))
    sums = bottom[picks].sum(axis=1)
    ratios = top[picks].sum(axis=1) / np.where(sums > 0, sums, np.nan)
    low, high = np.nanpercentile(ratios, [2.5, 97.5])
    return Interval(float(top.sum() / bottom.sum()), float(low), float(high))
