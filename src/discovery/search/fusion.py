"""Fusing the lexical and the semantic ranking into one score per row.

Two rules, both weighted by `semantic_weight` (0 = lexical only, 1 = semantic only):

- `rrf`: reciprocal rank fusion, w / (k + rank). Needs no score calibration, but throws away
  how far apart two scores are.
- `weighted`: each retriever's scores scaled to [0, 1] against the unfiltered query's own
  range (BM25 by its best score, cosine between the cosine at the retrieval depth and the best),
  then a weighted sum. Keeps the margins: a row far ahead lexically stays ahead; and a filter
  does not change a row's score, so pages and facets of one query agree.

In `weighted`, a hit's cosine is mixed with its title's alone (`TITLE_SHARE` of the semantic
side): a record's whole text mixes its title with descriptions and its items' texts, so a study
whose title is the query can trail one that mentions it in passing. Only rows with a title vector
(hits, not items: `index/build.py`) that the semantic side found take it; others keep their cosine.

A record named exactly by the query (an abbreviation, study number or whole title; see
`index/aliases.py`) gets `EXACT_BOOST` on top, half of it when the name is only a phrase of the
query.

Which one is the default, and the weight, were chosen on the development judgments
(`discovery eval`); see the README's search section.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RRF_K = 60
EXACT_BOOST = 1.0
TITLE_SHARE = 0.25


@dataclass
class Ranked:
    """One retriever's result: rows best first, with their scores, and the unfiltered query's
    best score and the score at the retrieval depth (what scaling measures against)."""

    rows: np.ndarray
    scores: np.ndarray
    best: float = 0.0
    low: float = 0.0


@dataclass
class Fused:
    """Every candidate row with its fused score and what each retriever said about it."""

    rows: np.ndarray  # int64, distinct
    scores: np.ndarray  # float64
    lexical_rank: np.ndarray  # 1-based, 0 when the retriever did not return the row
    lexical_score: np.ndarray
    semantic_rank: np.ndarray
    semantic_score: np.ndarray
    exact: np.ndarray  # 1 named by the whole query, 0.5 by a phrase of it, 0 not named


def fuse(lexical: Ranked, semantic: Ranked, semantic_weight: float, method: str = "weighted",
         exact: dict[int, float] | None = None, titles: Ranked | None = None) -> Fused:
    """`titles`: cosines of candidate rows' titles with the query, for the rows that have one."""
    exact = exact or {}
    exact_rows = np.fromiter(exact, np.int64, len(exact))
    rows = np.union1d(np.union1d(lexical.rows, semantic.rows), exact_rows).astype(np.int64)
    lex_rank, lex_score = _place(rows, lexical)
    sem_rank, sem_score = _place(rows, semantic)
    named = np.zeros(len(rows))
    named[np.searchsorted(rows, exact_rows)] = np.fromiter(exact.values(), np.float64, len(exact))
    w = semantic_weight
    if method == "rrf":
        scores = (1 - w) * _rrf(lex_rank) + w * _rrf(sem_rank)
    elif method == "weighted":
        scores = ((1 - w) * _scaled_bm25(lex_score, lex_rank, lexical.best)
                  + w * _semantic_side(rows, sem_score, sem_rank, semantic, titles))
    else:
        raise ValueError(f"unknown fusion {method!r}")
    return Fused(rows, scores + EXACT_BOOST * named, lex_rank, lex_score, sem_rank, sem_score, named)


def _place(rows: np.ndarray, ranked: Ranked) -> tuple[np.ndarray, np.ndarray]:
    rank = np.zeros(len(rows), np.int64)
    score = np.zeros(len(rows), np.float64)
    if len(ranked.rows):
        where = np.searchsorted(rows, ranked.rows)
        rank[where] = np.arange(1, len(ranked.rows) + 1)
        score[where] = ranked.scores
    return rank, score


def _rrf(rank: np.ndarray) -> np.ndarray:
    return np.where(rank > 0, 1.0 / (RRF_K + rank), 0.0)


def _scaled_bm25(score: np.ndarray, rank: np.ndarray, best: float) -> np.ndarray:
    top = max(best, score.max() if len(score) else 0.0)
    return np.where(rank > 0, score / top, 0.0) if top > 0 else np.zeros(len(score))


def _semantic_side(rows: np.ndarray, score: np.ndarray, rank: np.ndarray, ranked: Ranked,
                   titles: Ranked | None) -> np.ndarray:
    """Each row's scaled cosine, mixed with its title's (scaled alike) where it has one."""
    present = score[rank > 0]
    if not len(present):
        return np.zeros(len(score))
    high = max(ranked.best, present.max())
    low = min(ranked.low, present.min()) if ranked.low else present.min()
    span = high - low if high > low else 1.0
    cosine = np.where(rank > 0, np.clip((score - low) / span, 0.0, 1.0), 0.0)
    if titles is None or not len(titles.rows):
        return cosine
    title_rank, title_score = _place(rows, titles)
    titled = (title_rank > 0) & (rank > 0)
    title = np.clip((title_score - low) / span, 0.0, 1.0)
    return np.where(titled, (1 - TITLE_SHARE) * cosine + TITLE_SHARE * title, cosine)
