"""Ranking quality against graded judgments: nDCG@10, MRR and recall@10 per search mode.

Judgments are a TSV with columns `query`, `id`, `grade` (0 not relevant, 1 relevant, 2 highly
relevant), ids being top-level hits (a study, an instrument...). Unjudged hits count as not
relevant.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from discovery.errors import DiscoveryError
from discovery.search.models import Mode, SearchRequest

CUTOFF = 10


class JudgmentsError(DiscoveryError):
    """The judgments file cannot be read."""


@dataclass
class Scores:
    ndcg: float
    mrr: float
    recall: float


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
             mode: Mode, semantic_weight: float = 0.5) -> tuple[Scores, dict[str, Scores]]:
    """Mean scores over queries with at least one relevant id, and each query's scores."""
    per_query = {}
    for query, grades in judgments.items():
        if not any(g > 0 for g in grades.values()):
            continue
        ranked = search(SearchRequest(q=query, mode=mode, semantic_weight=semantic_weight,
                                      size=CUTOFF, facets=False, variables_per_hit=0))
        per_query[query] = score_ranking(ranked, grades)
    n = max(len(per_query), 1)
    mean = Scores(ndcg=sum(s.ndcg for s in per_query.values()) / n,
                  mrr=sum(s.mrr for s in per_query.values()) / n,
                  recall=sum(s.recall for s in per_query.values()) / n)
    return mean, per_query
