"""Topic spellings -> one facet value."""

from __future__ import annotations

import pytest

from discovery.index.topics import topic_value


@pytest.mark.parametrize("written", ["CHILDREN", "children", "Children", " Children. ", "CHILDREN ",
                                     "ｃｈｉｌｄｒｅｎ"])
def test_case_width_spacing_and_end_punctuation_are_folded(written):
    assert topic_value(written) == "children"


def test_words_are_not_stemmed_or_merged():
    assert topic_value("child") != topic_value("children")
    assert topic_value("Social  stratification") == "social stratification"
    assert topic_value("AIDS (disease)") == "aids (disease)"
