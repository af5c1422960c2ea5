from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discovery.errors import DiscoveryError
from discovery.harmonise.direction import (
    MODEL_FILE,
    PROBLEM,
    UNCLEAR,
    WELLBEING,
    DirectionModel,
    fit,
    shipped_model,
)
from discovery.harmonise.matcher import Matcher
from discovery.index.embed import get_embedder

CLEAR = [  # (language, item, direction): worded plainly, far from the thresholds
    ("en", "I feel nervous", PROBLEM),
    ("en", "Trouble relaxing", PROBLEM),
    ("en", "I can relax easily", WELLBEING),
    ("en", "I feel cheerful and in good spirits", WELLBEING),
    ("pt", "Sinto-me triste", PROBLEM),
    ("pt", "Dificuldade para relaxar", PROBLEM),
    ("pt", "Estou satisfeito com a minha vida", WELLBEING),
    ("fr", "Je me sens triste", PROBLEM),
    ("fr", "Je me sens heureux", WELLBEING),
    ("es", "Me siento triste", PROBLEM),
    ("es", "Me siento feliz y tranquilo", WELLBEING),
    ("de", "Ich fühle mich nervös", PROBLEM),
]
UNCLEAR_ITEMS = [
    "Age", "What is your date of birth?", "Height (cm)", "Are you a talkative person?", "I own a car",
    # negated: the model reads these much like their unnegated forms, so it must not guess
    "I do not feel sad.", "Não me sinto triste",
]


def directions_of(texts: list[str]) -> list[int]:
    return shipped_model().directions(texts, get_embedder("e5").encode(texts, "passage")).tolist()


def test_the_shipped_model_loads_from_the_package_and_reads_e5_vectors() -> None:
    model = DirectionModel.load()
    assert MODEL_FILE.parent.name == "harmonise" and MODEL_FILE.stat().st_size < 100_000
    assert model.encoder == get_embedder("e5").name
    assert model.weights.shape == (get_embedder("e5").dim + 1, 3)
    assert 0.5 <= model.problem_threshold < 1 and 0.5 <= model.wellbeing_threshold < 1


@pytest.mark.parametrize(("language", "item", "direction"), CLEAR)
def test_clear_items_get_their_direction(language: str, item: str, direction: int) -> None:
    assert directions_of([item]) == [direction], language


def test_items_without_a_telling_direction_are_unclear() -> None:
    assert directions_of(UNCLEAR_ITEMS) == [UNCLEAR] * len(UNCLEAR_ITEMS)


def test_a_negation_word_needs_more_confidence() -> None:
    model = DirectionModel("e5", np.zeros((2, 3)), problem_threshold=0.8, wellbeing_threshold=0.9,
                           negated_threshold=0.95)
    probabilities = np.array([[0.85, 0.1, 0.05], [0.1, 0.85, 0.05], [0.1, 0.92, 0.0], [0.96, 0.02, 0.02],
                              [0.9, 0.05, 0.05], [0.3, 0.2, 0.5]])
    plain = model.decide(probabilities, np.zeros(6, bool)).tolist()
    negated = model.decide(probabilities, np.ones(6, bool)).tolist()
    assert plain == [PROBLEM, UNCLEAR, WELLBEING, PROBLEM, PROBLEM, UNCLEAR]
    assert negated == [UNCLEAR, UNCLEAR, UNCLEAR, PROBLEM, UNCLEAR, UNCLEAR]


def test_an_items_direction_does_not_depend_on_the_pool(matcher: Matcher) -> None:
    """The old rules read an all-English pool with MiniLM and any other with e5, so adding one
    Portuguese item could turn a pair round."""
    english = ["I feel nervous", "I can relax easily", "Age"]
    alone = matcher.features(english).direction.tolist()
    mixed = matcher.features([*english, "Sinto-me triste"]).direction.tolist()
    assert alone == mixed[:3] == [PROBLEM, WELLBEING, UNCLEAR]


def test_fit_separates_separable_classes_the_same_way_every_time() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    labels = np.repeat(np.arange(3), 40)
    vectors = centres[labels] + rng.normal(0, 0.5, (len(labels), 2))
    weights = fit(vectors, labels, penalty=0.1)
    model = DirectionModel("toy", weights, 0.5, 0.5, 0.5)
    assert (model.probabilities(vectors).argmax(1) == labels).mean() > 0.98
    assert np.array_equal(weights, fit(vectors, labels, penalty=0.1))


def test_a_wrong_vector_size_is_refused() -> None:
    with pytest.raises(ValueError, match="384-dimensional"):
        shipped_model().probabilities(np.zeros((1, 10), np.float32))


def test_a_missing_or_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="not found") as missing:
        DirectionModel.load(tmp_path / "none.npz")
    assert missing.value.file == str(tmp_path / "none.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a numpy archive")
    with pytest.raises(DiscoveryError, match="unreadable direction model"):
        DirectionModel.load(broken)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, encoder="e5", weights=np.zeros((4, 2)), thresholds=np.zeros(3))
    with pytest.raises(DiscoveryError, match="shape"):
        DirectionModel.load(wrong)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = shipped_model()
    model.save(tmp_path / "copy.npz", trained_on="test")
    again = DirectionModel.load(tmp_path / "copy.npz")
    assert again.encoder == model.encoder
    assert np.allclose(again.weights, model.weights, atol=1e-6)
    assert (again.problem_threshold, again.wellbeing_threshold, again.negated_threshold) == \
        (model.problem_threshold, model.wellbeing_threshold, model.negated_threshold)
