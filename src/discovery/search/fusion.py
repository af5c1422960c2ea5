"""Fusing the lexical and the semantic ranking into one score per row.

Two rules, both weighted by `semantic_weight` (0 = lexical only, 1 = semantic only):

- `rrf`: reciprocal rank fusion, w / (k + rank). Needs no score calibration, but throws away
  how far apart two scores are.
- `weighted`: each retriever's scores scaled to [0, 1] within the candidate pool (BM25 by its
  maximum, cosine between the pool's lowest and highest), then a weighted sum. Keeps the
  margins: a row far ahead lexically stays ahead.

Which one is the default, and the weight, were chosen on the development judgments
(`discovery eval`); see the README's search section.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RRF_K = 60


@dataclass
class Ranked:
    """One retriever's result: rows best first, with their scores."""

    rows: np.ndarray
    scores: np.ndarray


@dataclass
class Fused:
    """Every candidate row with its fused score and what each retriever said about it."""

    rows: np.ndarray  # int64, distinct
    scores: np.ndarray  # float64
    lexical_rank: np.ndarray  # 1-based, 0 when the retriever did not return the row
    lexical_score: np.ndarray
    semantic_rank: np.ndarray
    semantic_score: np.ndarray


def fuse(lexical: Ranked, semantic: Ranked, semantic_weight: float, method: str = "weighted") -> Fused:
    rows = np.union1d(lexical.rows, semantic.rows).astype(np.int64)
    lex_rank, lex_score = _place(rows, lexical)
    sem_rank, sem_score = _place(rows, semantic)
    w = semantic_weight
    if method == "rrf":
        scores = (1 - w) * _rrf(lex_rank) + w * _rrf(sem_rank)
    elif method == "weighted":
        scores = (1 - w) * _scaled_bm25(lex_score, lex_rank) + w * _scaled_cosine(sem_score, sem_rank)
    else:
        raise ValueError(f"unknown fusion {method!r}")
    return Fused(rows, scores, lex_rank, lex_score, sem_rank, sem_score)


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


def _scaled_bm25(score: np.ndarray, rank: np.ndarray) -> np.ndarray:
    top = score.max() if len(score) else 0.0
    return np.where(rank > 0, score / top, 0.0) if top > 0 else np.zeros(len(score))


def _scaled_cosine(score: np.ndarray, rank: np.ndarray) -> np.ndarray:
    present = score[rank > 0]
    if not len(present):
        return np.zeros(len(score))
    low, high = present.min(), present.max()
    span = high - low if high > low else 1.0
    return np.where(rank > 0, (score - low) / span, 0.0)
