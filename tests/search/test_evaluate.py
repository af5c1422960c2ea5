"""Ranking metrics on rankings small enough to check by hand, and judgments file errors."""

from __future__ import annotations

import math

import pytest

from discovery.search.evaluate import (JudgmentsError, interval, load_judgments,
                                       ratio_interval, score_ranking)

GRADES = {"a": 2, "b": 1, "c": 0, "d": 2}


def test_a_perfect_ranking_scores_one():
    scores = score_ranking(["a", "d", "b", "c"], GRADES)
    assert scores.ndcg == pytest.approx(1.0)
    assert scores.mrr == 1.0
    assert scores.recall == 1.0


def test_ndcg_mrr_and_recall_of_an_imperfect_ranking():
    scores = score_ranking(["x", "b", "a"], GRADES)
    dcg = 1 / math.log2(3) + 3 / math.log2(4)
    ideal = 3 + 3 / math.log2(3) + 1 / math.log2(4)
    assert scores.ndcg == pytest.approx(dcg / ideal)
    assert scores.mrr == pytest.approx(1 / 2)
    assert scores.recall == pytest.approx(2 / 3)


def test_nothing_relevant_found_scores_zero():
    scores = score_ranking(["x", "y"], GRADES)
    assert (scores.ndcg, scores.mrr, scores.recall) == (0.0, 0.0, 0.0)


def test_judgments_load_by_query(tmp_path):
    path = tmp_path / "j.tsv"
    path.write_text("query\tid\tgrade\nfoo bar\ta\t2\nfoo bar\tb\t0\nbaz\tc\t1\n", encoding="utf-8")
    assert load_judgments(path) == {"foo bar": {"a": 2, "b": 0}, "baz": {"c": 1}}


@pytest.mark.parametrize("content, reason", [
    ("query\tid\nfoo\ta\n", "missing column"),
    ("query\tid\tgrade\nfoo\ta\thigh\n", "line 2: grade 'high'"),
    ("query\tid\tgrade\n", "no judgments"),
])
def test_bad_judgments_are_named_with_the_file(tmp_path, content, reason):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(JudgmentsError, match=reason) as raised:
        load_judgments(path)
    assert str(path) in raised.value.one_line()


def test_an_interval_holds_its_mean_and_narrows_with_agreement():
    spread = interval([0.0, 1.0] * 10)
    assert spread.low < spread.mean < spread.high and spread.mean == pytest.approx(0.5)
    steady = interval([0.7] * 20)
    assert (steady.mean, steady.low, steady.high) == pytest.approx((0.7, 0.7, 0.7))
    assert interval([]).mean == 0.0


def test_a_ratio_is_paired_query_by_query():
    hybrid = [0.9, 0.5, 0.8, 0.6] * 5
    ratio = ratio_interval(hybrid, [h / 2 for h in hybrid])
    # every resample keeps the pairs, so a uniform 2x gain has no spread at all
    assert (ratio.mean, ratio.low, ratio.high) == pytest.approx((2.0, 2.0, 2.0))
    assert math.isnan(ratio_interval([1.0], [0.0]).mean)
