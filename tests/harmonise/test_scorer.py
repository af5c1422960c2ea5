from __future__ import annotations

import json
from pathlib import Path

import pytest

from discovery.harmonise.channels import CHANNELS
from discovery.harmonise.scorer import MODEL_FILE, PairScorer, shipped_scorer


def test_the_shipped_scorer_weighs_known_channels_summing_to_one() -> None:
    scorer = shipped_scorer()
    assert set(scorer.channels) <= set(CHANNELS)
    assert sum(scorer.weights.values()) == pytest.approx(1.0, abs=1e-9)
    assert json.loads(MODEL_FILE.read_text(encoding="utf-8"))["trained_by"].startswith("bench/pair_scorer.py")


def test_weights_that_are_not_one_product_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        PairScorer({"text": 1.2, "plain": -0.2}, e5_mean_sampled=False)
    with pytest.raises(ValueError, match="unknown channels: shoe size"):
        PairScorer({"shoe size": 1.0}, e5_mean_sampled=False)
    with pytest.raises(ValueError, match="whole e5 bank"):
        PairScorer({"text": 0.5, "e5_context": 0.5}, e5_mean_sampled=True)


def test_a_scorer_round_trips_through_its_file(tmp_path: Path) -> None:
    scorer = PairScorer({"text": 0.25, "groups": 0.75}, e5_mean_sampled=True)
    path = tmp_path / "scorer.json"
    path.write_text(json.dumps(scorer.to_json("A", 0.1)), encoding="utf-8")
    assert PairScorer.from_file(path) == scorer
