from __future__ import annotations

from discovery.export.citation import citation_year, to_bibtex, to_ris
from tests.export.records import study


def test_ris_keeps_one_tag_per_line_whatever_the_text_holds() -> None:
    ris = to_ris(study(), "https://example.org/items/test-study")
    lines = ris.split("\r\n")
    assert lines[0] == "TY  - DATA" and lines[-2] == "ER  - "
    assert "AU  - Doe, Jane" in lines and "AU  - Test Institute" in lines
    assert "DO  - 10.1234/abc-1" in lines and "PY  - 2019" in lines
    assert [line for line in lines if line.startswith("TY")] == ["TY  - DATA"]  # no injected tag
    assert "AB  - First line TY - JOUR third line" in lines


def test_bibtex_escapes_what_would_break_the_entry() -> None:
    bib = to_bibtex(study(), "https://example.org/items/test-study")
    assert bib.startswith("@misc{test-study,\n")
    assert r"title = {Test Study \{Braces\} \& 100\% \textbackslash{} Backslash}" in bib
    assert "author = {Doe, Jane and Test Institute}" in bib
    assert bib.count("{") - bib.count(r"\{") == bib.count("}") - bib.count(r"\}")


def test_year_falls_back_to_coverage_and_authors_to_publisher() -> None:
    bare = study(date_published=None, temporal_coverage="1996-03/1996-06", creators=[])
    assert citation_year(bare) == "1996"
    assert "AU  - Test Archive" in to_ris(bare, "u")
