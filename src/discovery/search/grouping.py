"""One score per hit from its own match and the evidence of its items.

A study is shown once, with its matching variables under it; an instrument likewise with its
questions. Taking the best row as the hit's score let one short item ("Mental illness") lift an
unrelated questionnaire above the dataset the query is about. Here the items' evidence saturates
in their number: the best item counts for `SINGLE` of its score alone and approaches its full
score as further items match as well (`n_eff`, the items' scores summed relative to the best,
is their effective number). The hit's score is the larger of its own match and that evidence,
plus `BOTH` of the smaller when both speak for it.

Alternatives compared on the tuning half of the development judgments (`discovery eval
bench/judgments/search_tune.tsv`) are listed in the README's search section with their figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SINGLE = 0.6  # what one matching item is worth, relative to its score
BREADTH = 1.0  # how many further items (in effective number) close most of the remaining gap
BOTH = 0.5  # the share of the weaker signal added when the record and its items both match


@dataclass
class Grouped:
    """Distinct hits (top-level rows), their scores, and how many of their items matched."""

    tops: np.ndarray
    scores: np.ndarray
    items: np.ndarray


def group(rows: np.ndarray, tops: np.ndarray, scores: np.ndarray) -> Grouped:
    """Score each distinct top from the pool's rows (`tops[i]` is the hit row `rows[i]` belongs to)."""
    if not len(rows):
        return Grouped(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    hits, where = np.unique(tops, return_inverse=True)
    own = np.zeros(len(hits))
    is_own = rows == tops
    own[where[is_own]] = scores[is_own]
    child = ~is_own
    best = np.zeros(len(hits))
    np.maximum.at(best, where[child], scores[child])
    total = np.bincount(where[child], weights=scores[child], minlength=len(hits))
    items = np.bincount(where[child], minlength=len(hits))
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(best > 0, total / best, 0.0)
    evidence = best * (1 - (1 - SINGLE) * np.exp(-(np.maximum(n_eff, 1) - 1) / BREADTH))
    evidence[items == 0] = 0.0
    combined = np.maximum(own, evidence) + BOTH * np.minimum(own, evidence)
    return Grouped(hits.astype(np.int64), combined, items.astype(np.int64))
