"""Explanations: the fields holding query words, and the snippet, from one analysis per text."""

from __future__ import annotations

import pytest

from discovery.index.lexical import terms
from discovery.search.explain import BREAK, SENTENCE, first_sentences, matched_fields


def _first_sentence_by_analysing_each(text: str) -> dict[str, int]:
    """The slow reading the one-pass analysis must agree with: each sentence on its own."""
    first: dict[str, int] = {}
    for number, sentence in enumerate(SENTENCE.split(text)):
        for term in terms(sentence):
            first.setdefault(term, number)
    return first


TEXTS = [
    "Feeling nervous, anxious or on edge.",
    "How often do you drink alcohol? Never. Monthly or less!\nWeekly\n\nDaily drugs and drinks.",
    "Café au lait – Kinder und Jugendliche. Schüler\u00a0Befragung… Ende.  Next sentence here",
    f"A text naming the {BREAK} word. Then drugs.\nAnd {BREAK.upper()} again.",
    "ಆತಂಕ ಮತ್ತು ಖಿನ್ನತೆ. ನಿದ್ರೆ ತೊಂದರೆ?\nsleep",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_one_analysis_finds_each_terms_first_sentence_as_sentence_by_sentence_does(text):
    assert first_sentences(text) == _first_sentence_by_analysing_each(text)


def test_fields_list_the_words_as_typed_with_the_first_sentence_holding_one():
    fields = {"title": "Drug use", "description": "About school. Pupils were asked about drugs. "
              "And about drinking.", "contents": "Alcohol\nCannabis"}
    words = {"drink": "drinking", "drug": "drugs"}
    found = matched_fields(fields, words)
    assert [(f.field, f.terms) for f in found] == [("title", ["drugs"]),
                                                    ("description", ["drinking", "drugs"])]
    assert found[1].snippet == "Pupils were asked about drugs."
    assert matched_fields(fields, {}) == []


def test_a_long_sentence_is_cut_to_the_snippet_length():
    text = "Intro. " + "word " * 100 + "anxiety at the end."
    (found,) = matched_fields({"description": text}, {"anxieti": "anxiety"})
    assert found.snippet.startswith("word word") and found.snippet.endswith("…")
    assert len(found.snippet) == 200
