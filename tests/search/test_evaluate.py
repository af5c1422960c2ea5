"""Ranking metrics on rankings small enough to check by hand, and judgments file errors."""

from __future__ import annotations

import math

import pytest

from discovery.search.evaluate import JudgmentsError, load_judgments, score_ranking

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
