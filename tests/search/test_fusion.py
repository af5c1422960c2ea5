"""Fusion rules on hand-made rankings: who wins, and how the weight moves them."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.search.fusion import EXACT_BOOST, RRF_K, TITLE_SHARE, Ranked, fuse


def ranked(rows: list[int], scores: list[float]) -> Ranked:
    return Ranked(np.array(rows, np.int64), np.array(scores, np.float32))


LEXICAL = ranked([10, 20, 30], [12.0, 6.0, 3.0])
SEMANTIC = ranked([30, 40], [0.9, 0.5])


def by_row(fused) -> dict[int, float]:
    return dict(zip(fused.rows.tolist(), fused.scores.tolist(), strict=True))


@pytest.mark.parametrize("method", ["rrf", "weighted"])
def test_every_candidate_of_either_side_is_kept_once_with_its_ranks(method):
    fused = fuse(LEXICAL, SEMANTIC, 0.5, method)
    assert fused.rows.tolist() == [10, 20, 30, 40]
    assert fused.lexical_rank.tolist() == [1, 2, 3, 0]
    assert fused.semantic_rank.tolist() == [0, 0, 1, 2]
    assert fused.semantic_score[2] == pytest.approx(0.9)


def test_rrf_adds_reciprocal_ranks_weighted_by_side():
    scores = by_row(fuse(LEXICAL, SEMANTIC, 0.5, "rrf"))
    assert scores[30] == pytest.approx(0.5 / (RRF_K + 3) + 0.5 / (RRF_K + 1))
    assert scores[10] == pytest.approx(0.5 / (RRF_K + 1))
    assert max(scores, key=scores.get) == 30  # found by both


def test_weighted_keeps_margins_bm25_by_its_maximum_and_cosine_by_its_span():
    scores = by_row(fuse(LEXICAL, SEMANTIC, 0.5, "weighted"))
    assert scores[10] == pytest.approx(0.5 * 1.0)
    assert scores[20] == pytest.approx(0.5 * 0.5)
    assert scores[30] == pytest.approx(0.5 * 0.25 + 0.5 * 1.0)
    assert scores[40] == pytest.approx(0.0)  # the lowest cosine of the pool


@pytest.mark.parametrize("method", ["rrf", "weighted"])
def test_the_weight_slides_from_lexical_only_to_semantic_only(method):
    lexical_only = by_row(fuse(LEXICAL, SEMANTIC, 0.0, method))
    semantic_only = by_row(fuse(LEXICAL, SEMANTIC, 1.0, method))
    assert max(lexical_only, key=lexical_only.get) == 10
    assert max(semantic_only, key=semantic_only.get) == 30
    assert semantic_only[10] == 0.0


def test_an_empty_side_leaves_the_other_ranking_intact():
    fused = fuse(LEXICAL, ranked([], []), 0.5, "weighted")
    order = fused.rows[np.argsort(-fused.scores)].tolist()
    assert order == [10, 20, 30]


def test_unknown_fusion_is_refused():
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse(LEXICAL, SEMANTIC, 0.5, "borda")


def test_a_row_scores_the_same_whatever_else_the_filters_leave_in_the_pool():
    full = by_row(fuse(Ranked(np.array([10, 20, 30]), np.array([12.0, 6.0, 3.0]), best=12.0),
                       Ranked(np.array([30, 40]), np.array([0.9, 0.5]), best=0.9, low=0.5), 0.5))
    filtered = by_row(fuse(Ranked(np.array([20]), np.array([6.0]), best=12.0),
                           Ranked(np.array([40]), np.array([0.5]), best=0.9, low=0.5), 0.5))
    assert filtered[20] == pytest.approx(full[20]) and filtered[40] == pytest.approx(full[40])


def test_records_named_by_the_query_are_lifted_and_marked():
    fused = fuse(LEXICAL, SEMANTIC, 0.5, "weighted", exact={20: 1.0, 50: 0.5})
    scores = by_row(fused)
    assert scores[50] == pytest.approx(0.5 * EXACT_BOOST)  # named only: it still enters
    assert max(scores, key=scores.get) == 20
    assert dict(zip(fused.rows.tolist(), fused.exact.tolist(), strict=True))[10] == 0.0


def test_a_hit_whose_title_says_it_overtakes_an_equal_whole_text_match():
    """Rows 30 and 40 tie on their whole texts' cosine; 40's title is closer to the query."""
    semantic = Ranked(np.array([30, 40, 50]), np.array([0.9, 0.9, 0.5]), best=0.9, low=0.5)
    titles = ranked([30, 40, 50], [0.5, 0.9, 0.9])
    plain = by_row(fuse(ranked([], []), semantic, 0.5))
    titled = by_row(fuse(ranked([], []), semantic, 0.5, titles=titles))
    assert plain[30] == plain[40] == pytest.approx(0.5)
    assert titled[40] == pytest.approx(0.5) and titled[30] == pytest.approx(0.5 * (1 - TITLE_SHARE))
    assert titled[50] == pytest.approx(0.5 * TITLE_SHARE)  # a title lifts a weak whole-text match


def test_rows_without_a_title_or_not_found_by_meaning_keep_their_score():
    """Items have no title vector; a row only the lexical side found takes no title cosine."""
    titles = ranked([10, 40], [0.9, 0.9])  # 10: lexical only; 30: an item, no title vector
    plain = by_row(fuse(LEXICAL, SEMANTIC, 0.5))
    titled = by_row(fuse(LEXICAL, SEMANTIC, 0.5, titles=titles))
    assert titled[10] == plain[10] and titled[30] == plain[30] and titled[20] == plain[20]
    assert titled[40] > plain[40]
    assert by_row(fuse(LEXICAL, SEMANTIC, 0.5, "rrf", titles=titles)) == \
        by_row(fuse(LEXICAL, SEMANTIC, 0.5, "rrf"))  # rank fusion reads no scores
