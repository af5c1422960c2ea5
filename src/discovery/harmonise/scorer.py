"""The learned pair scorer: an English pair's `score` is a weighted sum of the cosines of
`channels.py`, the weights fitted by a logistic regression on the pair benchmarks' tuning halves
(bench/pair_scorer.py, which chose the channels and the penalty by cross-validation within those
halves and writes `pair_scorer.json`). The weights sum to 1, so the score keeps the cosine-like
scale of the multilingual channel and of the match threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from discovery.harmonise.channels import CHANNELS, E5_NEIGHBOUR_CHANNELS

MODEL_FILE = Path(__file__).with_name("pair_scorer.json")
E5_MEAN_TEXTS = 2_000  # bank texts read by e5 for its mean when no e5 neighbourhood is weighed


@dataclass(frozen=True)
class PairScorer:
    """Channel weights (summing to 1) and whether e5's bank mean comes from a sample of the bank."""

    weights: dict[str, float]
    e5_mean_sampled: bool

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(CHANNELS)
        if unknown:
            raise ValueError(f"pair scorer weighs unknown channels: {', '.join(sorted(unknown))}")
        if min(self.weights.values(), default=0.0) < 0 or sum(self.weights.values()) <= 0:
            raise ValueError("pair scorer weights must be non-negative with a positive sum: the score "
                             "is then one symmetric product of rows (channels.weighted)")
        if self.e5_mean_sampled and E5_NEIGHBOUR_CHANNELS & set(self.weights):
            raise ValueError("a pair scorer that reads e5 bank neighbourhoods needs the whole e5 bank")

    @property
    def channels(self) -> list[str]:
        return list(self.weights)

    def to_json(self, candidate: str, penalty: float) -> dict[str, Any]:
        return {"trained_by": "bench/pair_scorer.py --fit", "candidate": candidate,
                "penalty": penalty, "e5_mean_sampled": self.e5_mean_sampled,
                "weights": self.weights}

    @classmethod
    def from_file(cls, path: Path = MODEL_FILE) -> PairScorer:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({str(k): float(v) for k, v in data["weights"].items()},
                   bool(data["e5_mean_sampled"]))


@cache
def shipped_scorer() -> PairScorer:
    """The scorer bench/pair_scorer.py fitted, read once."""
    return PairScorer.from_file()
