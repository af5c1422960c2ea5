"""A learned order for the first hits of a hybrid query: a linear pairwise model (RankNet) over
what the pipeline already knows of each hit, and a few things it reads for those hits alone.

Why: the hand rule (weighted fusion, then grouping) leaves the relevant records among its first
hits in a poor order; on the 75 tuning queries the ideal order of its first 50 hits scores
0.905 nDCG@10 against its 0.663. This model, fitted on those queries, reached 1.038x the hand
rule cross-validated by query ([1.004, 1.079], `bench/learned_fusion.py`, README "A learned
fusion?"); the weights in `ranker.tsv` were fitted on all 75 by that script.

What it reads of a hit (`FEATURES`): the hand rule's hit score; its own row's scaled BM25,
scaled semantic score, scaled title cosine, rank on each side, whether both sides found it,
whether the query names it, whether it has a title vector; its items' evidence (how many
matched, their effective number, the best item's fused, BM25 and semantic scores); the semantic
score again where the query was read as English; then, for the first `RERANKED` hits only, the
share of the query's words in its title and in any of its fields, the raw cosine of its text
with the query by each encoder (MiniLM for a query read as English only) and its kind.

Only the first `RERANKED` hits by the hand rule are reordered; the rest follow in its order. The
model was fitted on indexes that keep both encoders (`e5+minilm`, local or PostgreSQL), so an
index built with one model (`--model e5`, or a database indexed before schema 7) keeps the hand
rule.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from discovery.errors import DiscoveryError
from discovery.search.engine import Engine
from discovery.search.explain import FIELD_ORDER, first_sentences
from discovery.search.fusion import Fused, Ranked
from discovery.search.grouping import Grouped

RERANKED = 50
WEIGHTS = Path(__file__).with_name("ranker.tsv")
KINDS = ("study", "dataset", "instrument", "project", "output")
EVIDENCE = ("kept", "own_bm25", "own_semantic", "own_title", "own_lexical_rank",
            "own_semantic_rank", "own_both", "named", "has_title", "log_items", "items_effective",
            "item_best", "item_best_bm25", "item_best_semantic", "english_x_semantic")
TEXT = ("title_words", "any_words", "e5_cosine", "minilm_cosine",
        *(f"kind_{kind}" for kind in KINDS), "kind_other")
FEATURES = EVIDENCE + TEXT


class RankerError(DiscoveryError):
    """The ranker's weights cannot be read."""


@dataclass(frozen=True)
class Sides:
    """What the two retrievers handed to fusion for one hybrid query, and whether the query was
    read as English (the dense pair answered it)."""

    lexical: Ranked
    semantic: Ranked
    titles: Ranked | None
    english: bool


@dataclass(frozen=True)
class Ranker:
    """A linear model over standardised FEATURES: score = ((x - mean) / spread) . weight."""

    mean: np.ndarray
    spread: np.ndarray
    weight: np.ndarray

    def score(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.spread) @ self.weight

    def write(self, path: Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle, delimiter="\t", lineterminator="\n")
            out.writerow(["feature", "mean", "spread", "weight"])
            for row in zip(FEATURES, self.mean, self.spread, self.weight, strict=True):
                out.writerow([row[0], *(repr(float(v)) for v in row[1:])])


def read_ranker(path: Path) -> Ranker:
    """The model in `path`: one line per feature of FEATURES, in order."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, delimiter="\t"))
    except OSError as error:
        raise RankerError(f"cannot read the ranker's weights: {error.strerror}", file=str(path),
                          hint="run bench/learned_fusion.py --write to fit them again") from None
    if not lines or lines[0] != ["feature", "mean", "spread", "weight"]:
        raise RankerError("line 1: the header is not feature, mean, spread, weight", file=str(path))
    values = []
    for number, (line, name) in enumerate(zip(lines[1:], FEATURES, strict=False), start=2):
        if len(line) != 4 or line[0] != name:
            raise RankerError(f"line {number}: expected feature {name!r} and three numbers",
                              file=str(path), hint="the weights were fitted for other features")
        try:
            values.append([float(v) for v in line[1:]])
        except ValueError:
            raise RankerError(f"line {number}: {line[1:]!r} are not numbers", file=str(path)) from None
    if len(lines) - 1 != len(FEATURES):
        raise RankerError(f"{len(lines) - 1} features, expected {len(FEATURES)}", file=str(path),
                          hint="the weights were fitted for other features")
    mean, spread, weight = np.asarray(values).T
    if not np.isfinite(values).all() or (spread <= 0).any():
        raise RankerError("a weight is not finite or a spread not positive", file=str(path))
    return Ranker(mean, spread, weight)


@lru_cache(maxsize=1)
def packaged_ranker() -> Ranker:
    """The weights shipped with the package (read once per process)."""
    return read_ranker(WEIGHTS)


def first_hits(grouped: Grouped, order: np.ndarray) -> np.ndarray:
    """Positions in `grouped` of the hand rule's first RERANKED hits, best first (`order` is the
    engine's id order of each hit: ties break by it, as the pipeline's do)."""
    return np.lexsort((order, -grouped.scores))[:RERANKED]


def evidence_features(fused: Fused, tops: np.ndarray, grouped: Grouped, sides: Sides) -> np.ndarray:
    """EVIDENCE of every grouped hit, from the pool the pipeline formed (`fused.rows` sorted,
    `tops[i]` the hit row `fused.rows[i]` is grouped under)."""
    rows, n = fused.rows, len(grouped.tops)
    at = np.searchsorted(grouped.tops, tops)
    bm25 = _scaled(fused.lexical_score, fused.lexical_rank, 0.0, sides.lexical.best)
    present = fused.semantic_score[fused.semantic_rank > 0]
    high = max(sides.semantic.best, present.max()) if len(present) else 1.0
    low = (min(sides.semantic.low, present.min()) if sides.semantic.low else present.min()) \
        if len(present) else 0.0
    cosine = _scaled(fused.semantic_score, fused.semantic_rank, low, high)
    title, has_title = np.zeros(len(rows)), np.zeros(len(rows))
    if sides.titles is not None and len(sides.titles.rows):
        where = np.searchsorted(rows, sides.titles.rows)
        has_title[where] = 1.0
        title[where] = np.clip((sides.titles.scores - low) / (high - low if high > low else 1.0), 0, 1)
    own = rows == tops
    out = np.zeros((n, len(EVIDENCE)))
    out[:, EVIDENCE.index("kept")] = grouped.scores
    for name, values in (("own_bm25", bm25), ("own_semantic", cosine), ("own_title", title),
                         ("own_lexical_rank", _rank_gain(fused.lexical_rank)),
                         ("own_semantic_rank", _rank_gain(fused.semantic_rank)),
                         ("own_both", ((fused.lexical_rank > 0) & (fused.semantic_rank > 0)) * 1.0),
                         ("named", fused.exact), ("has_title", has_title)):
        out[at[own], EVIDENCE.index(name)] = values[own]
    child = ~own
    items = np.bincount(at[child], minlength=n).astype(float)
    total = np.bincount(at[child], weights=fused.scores[child], minlength=n)
    for name, values in (("item_best", fused.scores), ("item_best_bm25", bm25),
                         ("item_best_semantic", cosine)):
        best = np.zeros(n)
        np.maximum.at(best, at[child], values[child])
        out[:, EVIDENCE.index(name)] = best
    best = out[:, EVIDENCE.index("item_best")]
    out[:, EVIDENCE.index("log_items")] = np.log1p(items)
    out[:, EVIDENCE.index("items_effective")] = np.where(best > 0, total / np.where(best > 0, best, 1), 0)
    semantic = out[:, EVIDENCE.index("own_semantic")]
    out[:, EVIDENCE.index("english_x_semantic")] = float(sides.english) * semantic
    return out


def text_features(engine: Engine, query_text: str, words: set[str], english: bool,
                  rows: np.ndarray) -> np.ndarray:
    """TEXT of the hits at index `rows`: the share of the query's index terms (`words`) in the
    title and in any field, the raw cosine by each encoder of the pair, the kind."""
    pair = engine.english_pair()
    if pair is None:
        raise ValueError("the learned order needs an index that keeps both encoders")
    bodies = engine.bodies(rows.tolist())
    out = np.zeros((len(rows), len(TEXT)))
    for i, row in enumerate(rows.tolist()):
        fields = bodies[row]["fields"]
        if words:
            # look the query's few words up in each field's terms, rather than gathering every
            # term of every field into a set (a study's items run to thousands of terms)
            analysed = [first_sentences(fields[name]) for name in FIELD_ORDER if fields.get(name)]
            title = first_sentences(fields["title"]) if fields.get("title") else {}
            out[i, TEXT.index("title_words")] = sum(word in title for word in words) / len(words)
            out[i, TEXT.index("any_words")] = sum(any(word in terms for terms in analysed)
                                                  for word in words) / len(words)
        kind = bodies[row]["kind"]
        out[i, TEXT.index(f"kind_{kind}" if kind in KINDS else "kind_other")] = 1.0
    for side, name, used in ((pair[0], "e5_cosine", True), (pair[1], "minilm_cosine", english)):
        if used:
            found, cosines = side.similarities(side.embed_query(query_text), rows)
            out[np.isin(rows, found), TEXT.index(name)] = cosines
    return out


def learned_scores(engine: Engine, fused: Fused, tops: np.ndarray, grouped: Grouped, sides: Sides,
                   query_text: str, words: set[str], ranker: Ranker | None = None) -> np.ndarray:
    """The model's score of each of the hand rule's first RERANKED hits, NaN for the others."""
    first = first_hits(grouped, engine.order(grouped.tops))
    features = np.hstack([evidence_features(fused, tops, grouped, sides)[first],
                          text_features(engine, query_text, words, sides.english, grouped.tops[first])])
    scores = np.full(len(grouped.tops), np.nan)
    scores[first] = (ranker or packaged_ranker()).score(features)
    return scores


def _scaled(score: np.ndarray, rank: np.ndarray, low: float, high: float) -> np.ndarray:
    span = high - low if high > low else 1.0
    return np.where(rank > 0, np.clip((score - low) / span, 0, 1), 0.0)


def _rank_gain(rank: np.ndarray) -> np.ndarray:
    return np.where(rank > 0, 1 / np.log2(1 + np.maximum(rank, 1)), 0.0)
