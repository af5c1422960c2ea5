from __future__ import annotations

from discovery.export.citation import citation_year, is_organisation, to_bibtex, to_ris
from discovery.model import Agent
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
    assert "author = {Doe, Jane and {Test Institute}}" in bib
    assert bib.count("{") - bib.count(r"\{") == bib.count("}") - bib.count(r"\}")


def test_year_falls_back_to_coverage_and_authors_to_publisher() -> None:
    bare = study(date_published=None, temporal_coverage="1996-03/1996-06", creators=[])
    assert citation_year(bare) == "1996"
    assert "AU  - Test Archive" in to_ris(bare, "u")


CORPORATE = [Agent(name="University of London, Institute of Education, Centre for Longitudinal Studies"),
             Agent(name="Department for Children, Schools and Families"),
             Agent(type="Person", name="SSCZO Southern Sierra Critical Zone Observatory"),
             Agent(type="Person", name="Roger Bales"), Agent(type="Person", name="Thomson, K.S.")]


def test_organisations_are_corporate_authors_in_bibtex() -> None:
    # unbraced, BibTeX read the first as a person surnamed "University of London" and split the
    # second at its "and" into two people
    bib = to_bibtex(study(creators=CORPORATE), "u")
    author = next(line for line in bib.splitlines() if line.strip().startswith("author"))
    assert author == ("  author = {{University of London, Institute of Education, Centre for "
                      "Longitudinal Studies} and {Department for Children, Schools and Families} and "
                      "{SSCZO Southern Sierra Critical Zone Observatory} and Roger Bales and Thomson, K.S.},")


def test_organisations_are_single_names_in_ris_and_people_last_name_first() -> None:
    ris = to_ris(study(creators=CORPORATE), "u").split("\r\n")
    authors = [line[6:] for line in ris if line.startswith("AU  - ")]
    assert authors == ["University of London. Institute of Education. Centre for Longitudinal Studies",
                       "Department for Children. Schools and Families",
                       "SSCZO Southern Sierra Critical Zone Observatory", "Bales, Roger", "Thomson, K.S."]


def test_a_person_is_a_person_unless_the_name_says_otherwise() -> None:
    assert [is_organisation(agent) for agent in CORPORATE] == [True, True, True, False, False]
    assert not is_organisation(Agent(type="Person", name="Schöbi, Nicole"))
