"""The catalogue on each backend (a real SQLite file, a real PostgreSQL database): upserts,
aliases, merging, history, deletions, rollback."""

from __future__ import annotations

import sqlite3
import zlib

import pytest

from discovery.catalogue.protocol import CatalogueStore
from discovery.catalogue.store import Catalogue
from discovery.errors import CatalogueError, NotFoundError
from discovery.model import (Deletion, Identifier, Kind, ParseResult, Predicate, Provenance,
                             Relation, Study, Variable, content_hash)

RAW = b"<codeBook>...</codeBook>"


def provenance(location: str = "a.xml", raw: bytes = RAW) -> Provenance:
    return Provenance(source="test", location=location, content_hash=content_hash(raw))


def study(title: str = "ALLBUS 1996", location: str = "a.xml", **extra) -> Study:
    return Study(id="allbus-1996", title=title, provenance=provenance(location),
                 identifiers=[Identifier(scheme="gesis", value="ZA2800"),
                              Identifier(scheme="doi", value="https://doi.org/10.4232/1.2800")],
                 **extra)


def variable(name: str, label: str = "Age", location: str = "a.xml") -> Variable:
    return Variable(id=f"allbus-1996.{name}", name=name, title=label, study_id="allbus-1996",
                    provenance=provenance(location))


def apply(catalogue: CatalogueStore, result: ParseResult, location: str = "a.xml"):
    return catalogue.apply(location, RAW, "2026-11-22T00:00:00+00:00", result)


def test_records_are_stored_and_read_back_with_aliases(catalogue):
    applied = apply(catalogue, ParseResult(records=[study(), variable("v1"), variable("v2")]))
    assert applied.created == 3
    assert catalogue.counts_by_kind() == {"study": 1, "variable": 2}
    assert catalogue.get("allbus-1996").title == "ALLBUS 1996"
    assert catalogue.resolve("ZA2800") == "allbus-1996"
    assert catalogue.resolve("10.4232/1.2800") == "allbus-1996"
    assert catalogue.resolve("http://dx.doi.org/10.4232/1.2800") == "allbus-1996"
    assert catalogue.resolve("gesis:za2800") == "allbus-1996"
    with pytest.raises(NotFoundError):
        catalogue.resolve("ZA9999")


def test_parent_fields_imply_containment_relations(catalogue):
    apply(catalogue, ParseResult(records=[study(), variable("v1")]))
    relations = catalogue.relations("allbus-1996")
    assert [(r.predicate, r.object) for r in relations] == [(Predicate.HAS_VARIABLE, "allbus-1996.v1")]


def test_relations_of_every_record_can_be_read_by_predicate(catalogue):
    apply(catalogue, ParseResult(records=[study(), variable("v1"), variable("v2")]))
    assert [r.object for r in catalogue.relations(predicates=[Predicate.HAS_VARIABLE])] == \
        ["allbus-1996.v1", "allbus-1996.v2"]
    assert catalogue.relations(predicates=[Predicate.HAS_PART]) == []


def test_reingesting_the_same_document_changes_nothing(catalogue):
    result = ParseResult(records=[study(), variable("v1")])
    apply(catalogue, result)
    again = apply(catalogue, result)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert [action for _, action, _ in catalogue.history("allbus-1996")] == ["created"]


def test_a_changed_record_is_updated_and_its_history_kept(catalogue):
    apply(catalogue, ParseResult(records=[study()]))
    applied = apply(catalogue, ParseResult(records=[study(description="Now with an abstract.")]))
    assert applied.updated == 1
    assert catalogue.get("allbus-1996").description == "Now with an abstract."
    assert [action for _, action, _ in catalogue.history("allbus-1996")] == ["created", "updated"]


def test_records_a_document_no_longer_holds_are_removed(catalogue):
    apply(catalogue, ParseResult(records=[study(), variable("v1"), variable("v2")]))
    applied = apply(catalogue, ParseResult(records=[study(), variable("v1")]))
    assert applied.deleted == 1
    assert catalogue.counts_by_kind() == {"study": 1, "variable": 1}
    assert catalogue.history("allbus-1996.v2")[-1][1] == "deleted"


def test_two_sources_of_one_record_merge_and_both_stay_visible(catalogue):
    apply(catalogue, ParseResult(records=[study(keywords=["religion"])]), "a.xml")
    second = study(location="b.xml", keywords=["religion", "politics"],
                   description="Described only by the second source.")
    apply(catalogue, ParseResult(records=[second]), "b.xml")
    merged = catalogue.get("allbus-1996")
    assert merged.keywords == ["religion", "politics"]
    assert merged.description == "Described only by the second source."
    assert [s.location for s in catalogue.sources("allbus-1996")] == ["a.xml", "b.xml"]
    # dropping one source keeps the record from the other
    apply(catalogue, ParseResult(records=[]), "b.xml")
    assert catalogue.get("allbus-1996").description is None
    assert [s.location for s in catalogue.sources("allbus-1996")] == ["a.xml"]


def test_duplicate_ids_in_one_document_are_kept_apart(catalogue):
    apply(catalogue, ParseResult(records=[study(), variable("v1", "Age"), variable("v1", "Sex")]))
    assert catalogue.get("allbus-1996.v1-2").title == "Sex"
    objects = {r.object for r in catalogue.relations("allbus-1996")}
    assert objects == {"allbus-1996.v1", "allbus-1996.v1-2"}


def test_a_deletion_removes_the_record_and_its_children(catalogue):
    oai = study()
    oai.identifiers.append(Identifier(scheme="oai", value="oai:example:2800"))
    apply(catalogue, ParseResult(records=[oai, variable("v1")]))
    alias = Identifier(scheme="oai", value="oai:example:2800").alias()
    applied = apply(catalogue, ParseResult(deletions=[Deletion(alias=alias, location="page2")]),
                    "page2")
    assert applied.deleted == 2
    assert catalogue.counts_by_kind() == {}


def test_a_failure_mid_document_leaves_the_catalogue_unchanged(catalogue, monkeypatch):
    apply(catalogue, ParseResult(records=[study()]))

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(catalogue, "_write_aliases", broken)
    with pytest.raises(sqlite3.OperationalError):
        apply(catalogue, ParseResult(records=[study(title="Changed"), variable("v1")]))
    assert catalogue.get("allbus-1996").title == "ALLBUS 1996"
    assert catalogue.counts_by_kind() == {"study": 1}


def test_relations_are_replaced_not_duplicated_on_reingest(catalogue):
    edge = Relation(subject="allbus-1996", predicate=Predicate.FUNDED_BY, object="dfg-grant")
    apply(catalogue, ParseResult(records=[study()], relations=[edge]))
    apply(catalogue, ParseResult(records=[study()], relations=[edge]))
    assert len(catalogue.relations("allbus-1996")) == 1


def test_quarantine_keeps_reason_and_raw_bytes(catalogue):
    catalogue.quarantine("bad.xml", "malformed XML", record="var 3", raw=b"<codeBook")
    [(number, at, location, record, reason, hint)] = catalogue.quarantined()
    assert (location, record, reason) == ("bad.xml", "var 3", "malformed XML")
    assert catalogue.quarantined_raw(number) == b"<codeBook"


def test_the_same_failure_again_is_one_row_with_the_later_time(catalogue):
    for reason in ("malformed XML", "malformed XML: line 1"):
        catalogue.quarantine("bad.xml", reason, record="var 3", raw=b"<codeBook")
        catalogue.quarantine("gone.xml", reason)  # no bytes kept: the reason tells failures apart
    rows = catalogue.quarantined()
    assert [(location, reason) for _, _, location, _, reason, _ in rows] == [
        ("bad.xml", "malformed XML: line 1"), ("gone.xml", "malformed XML"),
        ("gone.xml", "malformed XML: line 1")]
    assert catalogue.db.execute("SELECT COUNT(*) FROM quarantine WHERE raw IS NOT NULL"
                                ).fetchone() == (1,)
    catalogue.quarantine("bad.xml", "malformed XML", record="var 3", raw=b"<codeBook>")
    catalogue.quarantine("bad.xml", "malformed XML", record="var 4", raw=b"<codeBook")
    assert len(catalogue.quarantined()) == 5  # other bytes or another record: another failure


def test_a_location_keeps_only_the_failures_its_latest_ingest_reported(catalogue):
    kept = catalogue.quarantine("bad.xml", "malformed XML", raw=b"<codeBook")
    catalogue.quarantine("bad.xml", "malformed XML", raw=b"<codeBook><")
    catalogue.quarantine("other.xml", "empty file", raw=b"")
    catalogue.clear_quarantine("bad.xml", keep=[kept])
    assert [(location, catalogue.quarantined_raw(number)) for number, _, location, *_ in
            catalogue.quarantined()] == [("bad.xml", b"<codeBook"), ("other.xml", b"")]
    catalogue.clear_quarantine("bad.xml")
    assert [location for _, _, location, *_ in catalogue.quarantined()] == ["other.xml"]


def test_text_that_is_not_unicode_is_quarantined_escaped(catalogue):
    catalogue.quarantine("bad\udcff.json", "cannot store '\ud800'", record="r\ud800",
                         raw='{"name": "\ud800"}')
    [(number, _, location, record, reason, _)] = catalogue.quarantined()
    assert (location, record, reason) == ("bad\\udcff.json", "r\\ud800", "cannot store '\\ud800'")
    assert catalogue.quarantined_raw(number) == b'{"name": "\\ud800"}'


def test_an_older_catalogue_gets_digests_and_loses_its_repeated_rows(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    with sqlite3.connect(folder / "catalogue.sqlite") as db:
        db.execute("CREATE TABLE quarantine (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, location "
                   "TEXT NOT NULL, record TEXT, reason TEXT NOT NULL, hint TEXT, raw BLOB)")
        rows = [(f"2026-01-0{day}", "bad.xml", None, "malformed XML", None,
                 zlib.compress(b"<codeBook")) for day in (1, 2, 3)]
        rows.append(("2026-01-04", "gone.xml", None, "HTTP 404", None, None))
        db.executemany("INSERT INTO quarantine (at, location, record, reason, hint, raw) "
                       "VALUES (?,?,?,?,?,?)", rows)
    with Catalogue(folder) as upgraded:
        assert [(number, at, location) for number, at, location, *_ in upgraded.quarantined()] \
            == [(3, "2026-01-03", "bad.xml"), (4, "2026-01-04", "gone.xml")]
        upgraded.quarantine("bad.xml", "malformed XML", raw=b"<codeBook")
        assert len(upgraded.quarantined()) == 2


def test_raw_documents_are_kept_for_rederivation(catalogue):
    apply(catalogue, ParseResult(records=[study()]))
    assert catalogue.raw_document(content_hash(RAW)) == RAW
    assert catalogue.get("allbus-1996").kind == Kind.STUDY


def test_a_retitled_record_keeps_its_id_and_its_children_follow(catalogue):
    apply(catalogue, ParseResult(records=[study(), variable("v1")]))
    retitled = study(title="ALLBUS 1996, second edition").model_copy(
        update={"id": "allbus-1996-second-edition"})
    child = variable("v1").model_copy(update={"id": "allbus-1996-second-edition.v1",
                                              "study_id": "allbus-1996-second-edition"})
    applied = apply(catalogue, ParseResult(records=[retitled, child]))
    assert (applied.created, applied.updated, applied.deleted) == (0, 1, 0)
    assert catalogue.get("allbus-1996").title == "ALLBUS 1996, second edition"
    assert catalogue.get("allbus-1996.v1").study_id == "allbus-1996"
    assert [r.object for r in catalogue.relations("allbus-1996")] == ["allbus-1996.v1"]


def test_lookalike_titles_with_different_identifiers_do_not_merge(catalogue):
    apply(catalogue, ParseResult(records=[study(), variable("v1")]), "a.xml")
    other = study(location="b.xml").model_copy(update={"identifiers": [
        Identifier(scheme="gesis", value="ZA9999")]})
    child = variable("v1", "Income", location="b.xml")
    apply(catalogue, ParseResult(records=[other, child]), "b.xml")
    assert catalogue.get("allbus-1996").aliases() == ["doi:10.4232/1.2800", "gesis:za2800"]
    assert catalogue.resolve("ZA9999") == "allbus-1996-za9999"
    assert catalogue.get("allbus-1996-za9999.v1").title == "Income"
    assert catalogue.get("allbus-1996.v1").title == "Age"
    # re-ingesting either source keeps the split stable
    apply(catalogue, ParseResult(records=[other, child]), "b.xml")
    assert catalogue.counts_by_kind() == {"study": 2, "variable": 2}


def test_same_title_and_agreeing_identifiers_merge(catalogue):
    apply(catalogue, ParseResult(records=[study()]), "a.xml")
    apply(catalogue, ParseResult(records=[study(location="b.xml")]), "b.xml")
    assert catalogue.counts_by_kind() == {"study": 1}
    assert len(catalogue.sources("allbus-1996")) == 2


def test_harvest_marks_are_kept_per_endpoint_prefix_and_set(catalogue):
    assert catalogue.last_harvest("https://oai.example/", "oai_ddi25", None) is None
    catalogue.mark_harvest("https://oai.example/", "oai_ddi25", None, "2026-11-01T00:00:00Z")
    catalogue.mark_harvest("https://oai.example/", "oai_ddi25", None, "2026-11-02T00:00:00Z")
    catalogue.mark_harvest("https://oai.example/", "oai_ddi25", "kind:study", "2026-11-03T00:00:00Z")
    assert catalogue.last_harvest("https://oai.example/", "oai_ddi25", None) == "2026-11-02T00:00:00Z"
    assert catalogue.last_harvest("https://oai.example/", "oai_ddi25", "kind:study") == \
        "2026-11-03T00:00:00Z"


def test_linking_results_replace_the_last_ones_and_clusters_answer_for_their_members(catalogue):
    apply(catalogue, ParseResult(records=[study()]), "a.xml")
    other = Study(id="allbus-1996-copy", title="ALLBUS 1996 (copy)", provenance=provenance("b.xml"),
                  identifiers=[Identifier(scheme="gesis", value="ZA2800")])
    apply(catalogue, ParseResult(records=[other]), "b.xml")
    same = Relation(subject="allbus-1996-copy", predicate=Predicate.SAME_AS, object="allbus-1996",
                    confidence=0.9, evidence="gesis:za2800")
    members = [("allbus-1996", "allbus-1996", 1.0, None), ("allbus-1996-copy", "allbus-1996", 0.9, "gesis")]
    for _ in range(2):  # re-running linking never duplicates
        catalogue.replace_links([(same, "linking:identity")], members)
    assert catalogue.cluster("allbus-1996-copy") == [("allbus-1996", 1.0, None),
                                                     ("allbus-1996-copy", 0.9, "gesis")]
    assert catalogue.canonical("allbus-1996-copy") == "allbus-1996"
    assert catalogue.resolve("ZA2800") == "allbus-1996"  # the cluster's canonical member first
    assert [r.predicate for r in catalogue.relations("allbus-1996")] == [Predicate.SAME_AS]
    catalogue.replace_links([], [])
    assert catalogue.cluster("allbus-1996") == [] and catalogue.relations("allbus-1996") == []
    with pytest.raises(CatalogueError):
        catalogue.replace_links([(same, "a.xml")], [])


def test_the_change_feed_folds_history_into_upserts_and_deletions(catalogue):
    start = catalogue.last_seq()
    apply(catalogue, ParseResult(records=[study(), variable("v1"), variable("v2")]))
    middle = catalogue.last_seq()
    apply(catalogue, ParseResult(records=[study(description="More."), variable("v1")]))
    changes = catalogue.changes_since(start)
    assert (changes.upserted, changes.deleted) == ({"allbus-1996", "allbus-1996.v1"},
                                                   {"allbus-1996.v2"})  # the last action decides
    later = catalogue.changes_since(middle)
    assert (later.upserted, later.deleted, later.seq) == ({"allbus-1996"}, {"allbus-1996.v2"},
                                                          catalogue.last_seq())
    assert [rid for _, rid, _ in catalogue.history_after(start, 3)] == \
        ["allbus-1996", "allbus-1996.v1", "allbus-1996.v2"]


def test_bulk_reads_keep_the_stored_order_and_their_filters(catalogue):
    records = [study(), variable("v2", "Sex"), variable("v1", "Age")]
    records[0].provenance.catalogue = "GESIS"
    apply(catalogue, ParseResult(records=records))
    assert [v.name for v in catalogue.variables_of("allbus-1996")] == ["v2", "v1"]
    assert catalogue.children(["allbus-1996"]) == {"allbus-1996": [("variable", "Sex"), ("variable", "Age")]}
    assert [row.id for row in catalogue.stored_rows()] == ["allbus-1996", "allbus-1996.v1", "allbus-1996.v2"]
    assert [row.id for row in catalogue.stored_rows(kinds=["variable"], since="2000-01-01")] == \
        ["allbus-1996.v1", "allbus-1996.v2"]
    assert [row.id for row in catalogue.stored_rows(catalogues=["GESIS"])] == ["allbus-1996"]
    assert list(catalogue.stored_rows(since="2999-01-01")) == []
    [first] = catalogue.stored_rows(kinds=["study"])
    assert first.record().title == "ALLBUS 1996" and first.provenance["location"] == "a.xml"
    assert [r.id for r in catalogue.read_records(["allbus-1996.v1", "gone", "allbus-1996"])] == \
        ["allbus-1996.v1", "allbus-1996"]
    assert catalogue.publishing_catalogues(["allbus-1996", "allbus-1996.v1"]) == {"allbus-1996": ["GESIS"]}
    assert catalogue.kinds(["allbus-1996", "gone"]) == {"allbus-1996": "study"}
    assert catalogue.titles(["allbus-1996.v1"]) == {"allbus-1996.v1": ("variable", "Age")}


def test_relations_to_records_not_yet_seen_are_dangling_until_they_arrive(catalogue):
    edge = Relation(subject="gtr-project-1", predicate=Predicate.HAS_OUTPUT, object="allbus-1996")
    apply(catalogue, ParseResult(records=[study()], relations=[edge]))
    assert [r.subject for r in catalogue.dangling_relations("gtr-")] == ["gtr-project-1"]
    assert catalogue.dangling_relations("other-") == []
