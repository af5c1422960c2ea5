"""The semantic side of an English query from two encoders: the index model (multilingual e5)
and an English one (MiniLM), where the index keeps both (`index/build.py`, `e5+minilm`).

Why: on the tuning judgments e5 alone loses English paraphrases that MiniLM finds, while MiniLM
alone loses every other language; together on English queries, e5 alone on the rest, hybrid
nDCG@10 over the 75 tuning queries is 1.03x e5 alone (README, `bench/dense_pair.py`).

How: each encoder reads its own depth list and applies its own calibrated cut (`relevance.py`).
A row fits when either cut lets it in. Its score is the mean of its two cosines, each scaled
from its encoder's cosine at the depth to its best (as fusion scales one cosine), the missing
one read from the stored vector; titles are scaled and averaged alike. The list handed on is the
best `depth` rows of the union by that score, with the score at the depth as its low end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from discovery.search.engine import VectorSide
from discovery.search.fusion import Ranked
from discovery.search.query import query_languages


def reads_english(text: str) -> bool:
    """Whether the pair answers `text`: a query in which no other stemmed language is found."""
    return not query_languages(text)


@dataclass
class _List:
    """One encoder's unfiltered depth list for the query, and where its cut stands."""

    side: VectorSide
    vector: np.ndarray
    rows: np.ndarray
    scores: np.ndarray

    @property
    def best(self) -> float:
        return float(self.scores[0]) if len(self.scores) else 0.0

    @property
    def low(self) -> float:
        return float(self.scores[-1]) if len(self.scores) else 0.0

    @property
    def threshold(self) -> float:
        return self.side.cut.threshold(self.best)

    def scaled(self, cosines: np.ndarray) -> np.ndarray:
        return np.clip((cosines - self.low) / max(self.best - self.low, 1e-9), 0.0, 1.0)


class PairQuery:
    """One English query read by both encoders: its semantic side and its title cosines."""

    def __init__(self, sides: tuple[VectorSide, VectorSide], text: str, depth: int) -> None:
        self.depth = depth
        self.lists = []
        for side in sides:
            vector = side.embed_query(text)
            rows, scores = side.semantic_search(vector, depth)
            self.lists.append(_List(side, vector, rows, scores.astype(np.float64)))

    def semantic(self, allows: Any, allowed: Any | None) -> tuple[Ranked, bool]:
        """The rows that fit, best first, within `allowed` (`allows(allowed, rows)` says which
        pass), and whether the list holds every fitting row. The cuts and the scaling are the
        unfiltered query's, so a filter only narrows the list."""
        listed = [lst.rows for lst in self.lists]
        rows, scores, enter = self._scored(listed)
        if not len(rows):
            return Ranked(rows, scores), True
        best, low = float(scores[0]), float(scores[-1])
        complete = bool(len(rows) < self.depth or not enter.all())
        if allowed is not None:
            if not complete:  # fitting rows may lie past the depth: read each side in the filter
                listed = [np.union1d(lst.rows, lst.side.semantic_search(lst.vector, self.depth,
                                                                        allowed)[0])
                          for lst in self.lists]
                rows, scores, enter = self._scored(listed, cap=False)
            enter &= allows(allowed, rows)
        return Ranked(rows[enter], scores[enter], best=best, low=low), complete

    def titles(self, rows: np.ndarray) -> Ranked:
        """The candidates' title cosines, each encoder's scaled by its list, averaged."""
        first, second = self.lists
        held, main = first.side.title_similarities(first.vector, rows)
        also, english = second.side.title_similarities(second.vector, held)
        if not np.array_equal(held, also):
            raise ValueError("the index holds title vectors of different rows for its two encoders")
        return Ranked(held, (first.scaled(main.astype(np.float64))
                             + second.scaled(english.astype(np.float64))) / 2)

    def _scored(self, listed: list[np.ndarray], cap: bool = True
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The union of `listed` (rows each encoder returned) by pair score, best first (the
        best `depth` when `cap`), and which fit: inside some encoder's own list and cut."""
        rows = np.union1d(*listed).astype(np.int64)
        score = np.zeros(len(rows))
        enter = np.zeros(len(rows), bool)
        for lst, own in zip(self.lists, listed, strict=True):
            held, cosines = lst.side.similarities(lst.vector, rows)
            if not np.array_equal(held, rows):
                raise ValueError(f"{len(rows) - len(held)} candidate rows have no vector")
            cosines = cosines.astype(np.float64)
            score += lst.scaled(cosines) / len(self.lists)
            enter |= np.isin(rows, own) & (cosines >= lst.threshold)
        order = np.argsort(-score, kind="stable")
        if cap:
            order = order[:self.depth]
        return rows[order], score[order], enter[order]
