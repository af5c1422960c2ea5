"""Resumption tokens carry a list's arguments and position; anything else is refused."""

from __future__ import annotations

import pytest

from discovery.oai.tokens import BadToken, Place, decode, encode

PLACE = Place("ListRecords", "oai_ddi25", "kind:study", "2020-01-01T00:00:00Z", None, 4711, 150)


def test_a_token_comes_back_as_its_place() -> None:
    assert decode(encode(PLACE)) == PLACE


@pytest.mark.parametrize("token", ["", "abc", "abc.def", encode(PLACE)[:-2] + "00",
                                   encode(PLACE).replace(".", "x.", 1), "a." * 2000])
def test_other_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadToken):
        decode(token)
