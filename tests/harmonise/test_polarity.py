from __future__ import annotations

import pytest

from discovery.harmonise.matcher import Matcher
from discovery.harmonise.polarity import core_text, negations

OPPOSED = [
    ("en", "I feel calm", "I feel nervous"),
    ("en", "I can relax", "I cannot relax"),
    ("en", "Seldom or never disobedient", "Frequently disobedient"),
    ("de", "Ich fühle mich ruhig", "Ich fühle mich nervös"),
    ("de", "Ich fühle mich ruhig", "Ich fühle mich nicht ruhig"),
    ("fr", "Je me sens calme", "Je me sens nerveux"),
    ("fr", "Je me sens calme", "Je ne me sens pas calme"),
    ("es", "Me siento tranquilo", "Me siento nervioso"),
    ("es", "Me siento tranquilo", "No me siento tranquilo"),
    ("pt", "Sinto-me calmo", "Sinto-me nervoso"),
    ("pt", "Sinto-me calmo", "Não me sinto calmo"),
]
ALIGNED = [
    ("en", "I feel nervous", "I feel anxious"),
    ("en", "Feeling nervous, anxious, or on edge", "Not being able to stop or control worrying"),
    ("de", "Ich bin glücklich", "Ich fühle mich fröhlich"),
    ("fr", "Je suis triste", "Je me sens déprimé"),
    ("es", "Me siento triste", "Me siento deprimido"),
    ("pt", "Sinto-me feliz", "Sinto-me alegre"),
    ("en-pt", "Feeling nervous, anxious, or on edge", "Sentir-se nervoso/a, ansioso/a ou muito tenso/a"),
    ("en", "I feel nervous", "I have felt scared or panicky for no good reason"),
    ("fr", "Je me sens nerveux", "J'ai peur sans raison"),
]


@pytest.mark.parametrize(("lang", "left", "right"), OPPOSED)
def test_opposed_items_get_polarity_minus_one(matcher: Matcher, lang: str, left: str, right: str) -> None:
    polarity = matcher.score_pairs([left], [right]).polarity
    assert polarity.tolist() == [-1], lang


@pytest.mark.parametrize(("lang", "left", "right"), ALIGNED)
def test_same_direction_items_get_polarity_plus_one(matcher: Matcher, lang: str, left: str,
                                                    right: str) -> None:
    polarity = matcher.score_pairs([left], [right]).polarity
    assert polarity.tolist() == [1], lang


def test_nearby_negators_count_once() -> None:
    assert negations("Seldom or never disobedient") == 1
    assert negations("Je ne me sens pas calme") == 1
    assert negations("Not being able to stop or control worrying") == 2
    assert negations("I feel calm") == 0


def test_core_text_keeps_what_is_measured() -> None:
    assert core_text("Seldom or never disobedient") == core_text("Frequently disobedient") == "disobedient"
    assert core_text("not") == "not"  # nothing left: the text itself


def test_direction_does_not_hurt_equivalence(matcher: Matcher) -> None:
    """The main score is direction-free: a reversed item is closer than an unrelated one."""
    scores = matcher.score_pairs(
        ["Seldom or never disobedient", "Seldom or never disobedient", "I feel calm", "I feel calm"],
        ["Frequently disobedient", "Has a stutter or stammer", "I feel nervous", "I have a car"]).score
    assert scores[0] > scores[1]
    assert scores[2] > scores[3]
