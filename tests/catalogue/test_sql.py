"""The queries both SQL backends share (`catalogue/sql.py`), run on each through its dialect: lists
longer than one SQLite statement may bind, prefixes bounded at the next code point, and a
literal `%`, which psycopg's placeholders would otherwise read."""

from __future__ import annotations

from discovery.catalogue.protocol import CatalogueStore
from discovery.catalogue.sql import SqlCatalogue, prefix_bounds
from discovery.model import Identifier, ParseResult, Provenance, Study, Variable, content_hash
from discovery.sqlite import CHUNK

RAW = b"<codeBook/>"
MANY = 2 * CHUNK + 7  # three statements' worth of ids on SQLite


def provenance(location: str) -> Provenance:
    return Provenance(source="test", location=location, content_hash=content_hash(RAW))


def study_with_variables(count: int, location: str = "study.xml") -> ParseResult:
    study = Study(id="s", title="A study", provenance=provenance(location),
                  identifiers=[Identifier(scheme="gesis", value="ZA1")])
    return ParseResult(records=[study, *(
        Variable(id=f"s.v{n:04d}", name=f"v{n}", title=f"Question {n}", study_id="s",
                 provenance=provenance(location)) for n in range(count))])


def apply(catalogue: CatalogueStore, result: ParseResult, location: str = "study.xml") -> None:
    catalogue.apply(location, RAW, "2026-12-01T00:00:00+00:00", result)


def test_lists_longer_than_one_statement_binds_are_read_and_written_whole(catalogue):
    apply(catalogue, study_with_variables(MANY))
    ids = [f"s.v{n:04d}" for n in range(MANY)]
    assert catalogue.kinds([*ids, "missing"]) == dict.fromkeys(ids, "variable")
    assert catalogue.children(["s"])["s"] == [("variable", f"Question {n}") for n in range(MANY)]
    assert [r.id for r in catalogue.read_records(ids[::-1])] == ids[::-1]
    apply(catalogue, study_with_variables(3))  # the rest go stale together
    assert catalogue.counts_by_kind() == {"study": 1, "variable": 3}
    assert sorted(catalogue.existing_ids(ids)) == ids[:3]
    assert len(catalogue.changes_since(0).deleted) == MANY - 3


def test_a_prefix_matches_what_starts_with_it_and_not_the_next_code_point(catalogue):
    for n, location in enumerate(("a/x.xml", "a0.xml", "a.xml", "b/a/x.xml")):
        apply(catalogue, ParseResult(records=[
            Study(id=f"s{n}", title=f"Study {n}", provenance=provenance(location))]), location)
    assert [row[3] for row in catalogue.list_records(source_prefix="a/")] == ["a/x.xml"]
    assert prefix_bounds("a/") == ("a/", "a0")


def test_a_literal_percent_reaches_the_engine_unchanged(catalogue):
    assert isinstance(catalogue, SqlCatalogue)
    assert catalogue._execute("SELECT ? || '%'", ("100",)).fetchone()[0] == "100%"


def test_records_read_together_are_those_read_one_at_a_time(catalogue):
    apply(catalogue, study_with_variables(MANY))
    ids = [f"s.v{n:04d}" for n in range(MANY)][::-1]
    together = catalogue.get_many([*ids, "s", "missing", "s"])  # an unknown id is left out
    assert set(together) == {*ids, "s"}
    assert all(together[rid] == catalogue.get(rid) for rid in (*ids[:5], ids[-1], "s"))
    assert together["s.v0003"].provenance.location == "study.xml"
    assert catalogue.get_many([]) == {}
