"""Query spelling over the vocabulary of real questionnaire items (8,762 question texts, some in
French, German and Portuguese): "did you mean" corrections and British/American variants."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from discovery.index.vocabulary import Vocabulary
from discovery.search.spelling import Correction, Speller, variants


@pytest.fixture(scope="module")
def frequencies(corpus: Path) -> dict[str, int]:
    instruments = corpus / "instruments"
    texts = []
    with (instruments / "harmony_example_questionnaires.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            texts += [q["question_text"] for q in json.loads(line)["questions"] if q.get("question_text")]
    mhc = instruments / "mhc_catalogue_mental_health_measures_questions.jsonl"
    with mhc.open(encoding="utf-8") as lines:
        texts += [text for line in lines if (text := json.loads(line).get("question_text"))]
    vocabulary = Vocabulary(sqlite3.connect(":memory:"))
    vocabulary.add(texts)
    return vocabulary.frequencies()


@pytest.fixture(scope="module")
def speller(frequencies: dict[str, int]) -> Speller:
    return Speller(frequencies)


def test_typos_become_the_most_frequent_word_within_reach(speller: Speller):
    assert speller.correct("anxeity in chidlren") == Correction(
        "anxiety in children", [("anxeity", "anxiety"), ("chidlren", "children")])


def test_casing_and_punctuation_of_the_query_are_kept(speller: Speller):
    assert speller.correct("Anxeity, in Chidlren?").text == "Anxiety, in Children?"


def test_a_query_spelt_right_is_left_alone(speller: Speller):
    assert speller.correct("anxiety in children") is None


def test_words_of_any_language_in_the_vocabulary_are_left_alone(speller: Speller,
                                                                 frequencies: dict[str, int]):
    query = "Ängstlichkeit, Nervosität, anxiété, inquiétudes, preocupações"
    assert all(word.lower() in frequencies for word in query.split(", "))
    assert speller.correct(query) is None


def test_acronyms_numbers_and_short_words_are_not_guessed_at(speller: Speller):
    assert speller.correct("PHQ GAD ADHD PHQ9 covid19 2014") is None
    assert speller.correct("teh chlid") == Correction("teh child", [("chlid", "child")])


def test_a_word_seen_once_is_kept_as_written_but_never_suggested():
    assert Speller({"anxiety": 5, "anxeity": 1}).correct("anxeity") is None
    assert Speller({"anxiety": 1}).correct("anxeity") is None


@pytest.mark.parametrize(("frequencies", "expected"), [
    ({"parent": 10, "parents": 30}, "parents"),  # more documents
    ({"parent": 30, "parents": 10}, "parent"),  # more documents, though two edits away
    ({"parent": 10, "parents": 10}, "parents"),  # as many: the nearer
])
def test_the_word_in_most_documents_wins_then_the_nearer(frequencies: dict[str, int], expected: str):
    assert Speller(frequencies).correct("parnets") == Correction(expected, [("parnets", expected)])


def test_equally_good_words_are_chosen_alphabetically():
    assert Speller({"cart": 3, "card": 3}).correct("carx") == Correction("card", [("carx", "card")])


def test_words_under_seven_letters_take_one_edit_only():
    assert Speller({"worry": 9}).correct("wrory") == Correction("worry", [("wrory", "worry")])
    assert Speller({"worry": 9}).correct("wrroy") is None


@pytest.mark.parametrize(("british", "american"), [
    ("victimisation", "victimization"), ("organised", "organized"), ("analyse", "analyze"),
    ("behavioural", "behavioral"), ("neighbourhood", "neighborhood"), ("favourite", "favorite"),
    ("centre", "center"), ("kilometres", "kilometers"), ("paediatric", "pediatric"),
    ("anaemia", "anemia"), ("haemorrhage", "hemorrhage"), ("oestrogen", "estrogen"),
    ("diarrhoea", "diarrhea"), ("foetus", "fetus"), ("orthopaedic", "orthopedic"),
    ("anaesthetised", "anesthetized"), ("oedema", "edema"), ("oesophagus", "esophagus"),
    ("leukaemia", "leukemia"), ("catalogue", "catalog"), ("licence", "license"),
    ("defence", "defense"), ("travelled", "traveled"), ("modelling", "modeling"),
    ("counselling", "counseling"), ("enrolment", "enrollment"), ("fulfil", "fulfill"),
    ("programme", "program"), ("grey", "gray"), ("ageing", "aging"), ("judgement", "judgment"),
    ("mould", "mold"), ("plough", "plow"), ("tyre", "tire"), ("kerb", "curb"), ("cheque", "check"),
    ("sceptical", "skeptical"), ("practise", "practice"),
])
def test_british_and_american_spellings_map_both_ways(british: str, american: str):
    assert variants(british) == [american]
    assert variants(american) == [british]
    assert variants(british.capitalize()) == [american]


@pytest.mark.parametrize("word", [
    "four", "hour", "your", "pour", "tour", "our", "flour", "doctor", "laboratory", "promise",
    "exercise", "otherwise", "surprise", "advise", "size", "analysis", "parameter", "literature",
    "pedal", "fetch", "hemisphere", "academia", "systemic", "estrange", "cancellation", "rigorous",
])
def test_words_that_only_look_like_a_rule_have_no_variants(word: str):
    assert variants(word) == []


def test_the_speller_offers_only_variants_the_indexed_texts_use(speller: Speller,
                                                                frequencies: dict[str, int]):
    assert frequencies["behaviour"] > frequencies["behavior"] > 0
    assert speller.variants("behaviour") == ["behavior"]
    assert speller.variants("behavior") == ["behaviour"]
    assert speller.variants("victimisation") == []
    assert Speller({"victimization": 3}).variants("victimisation") == ["victimization"]
    assert Speller({"victimisation": 3}).variants("victimization") == ["victimisation"]
