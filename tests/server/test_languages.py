"""A record's language tag becomes an HTML `lang` only when it names a language."""

from __future__ import annotations

import pytest

from discovery.server.languages import html_lang, lang_attribute


@pytest.mark.parametrize("tag, lang", [("en", "en"), ("en-GB", "en-GB"), ("en_GB", "en-GB"), ("FI", "fi"),
                                       ("eng", "en"), ("fre", "fr"), (" de ", "de")])
def test_a_language_keeps_its_tag(tag: str, lang: str) -> None:
    assert html_lang(tag) == lang


@pytest.mark.parametrize("tag", ["yy", "xx-YY", "", None, "english", "e", "en GB", '" onmouseover="x'])
def test_a_tag_that_names_no_language_gives_no_attribute(tag: str | None) -> None:
    assert html_lang(tag) is None


def test_the_attribute_is_written_only_for_a_language() -> None:
    assert str(lang_attribute("en_GB")) == ' lang="en-GB"'
    assert str(lang_attribute("yy")) == ""
