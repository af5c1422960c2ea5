"""The one sanitiser for links from records: web, mail and DOI links pass, script never does."""

from __future__ import annotations

import pytest

from discovery.export.urls import reads_as_link, safe_url


@pytest.mark.parametrize("value, expected", [
    ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d"),
    ("  HTTP://Example.org/x  ", "HTTP://Example.org/x"),
    ("https://example.org/a b", "https://example.org/a%20b"),
    ("mailto:someone@example.org", "mailto:someone@example.org"),
    ("doi:10.5255/UKDA-SN-857133", "https://doi.org/10.5255/UKDA-SN-857133"),
    ("DOI:10.1000/x(1)", "https://doi.org/10.1000/x(1)"),
])
def test_web_mail_and_doi_links_pass(value: str, expected: str) -> None:
    assert safe_url(value) == expected


@pytest.mark.parametrize("value", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:alert(1)", "\x01javascript:alert(1)", "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "jav&#x09;ascript:alert(1)",
    "https://", "http:///path-only", "//evil.example/x", "/relative/path", "https://exa mple.org\x00",
    "mailto:", "doi:not-a-doi", "https://[::1", "", None, 42,
])
def test_everything_else_is_refused(value: object) -> None:
    assert safe_url(value) is None


def test_prose_is_not_read_as_a_link() -> None:
    assert reads_as_link(" javascript:alert(1) ") and reads_as_link("https://example.org/licence")
    assert not reads_as_link("Licence: CC BY 4.0") and not reads_as_link("CC BY") and not reads_as_link(None)
