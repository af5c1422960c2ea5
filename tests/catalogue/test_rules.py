"""The catalogue's backend-neutral rules, on records and rows alone: no store involved."""

from __future__ import annotations

from discovery.catalogue.rules import (conflict_candidates, folded_history, kept_ids, merge_with_origins,
                                       merged_json, parent_relations, renamed, separated_ids, stored_head,
                                       unique_ids)
from discovery.model import Identifier, ParseResult, Predicate, Provenance, Relation, Study, Variable

PROVENANCE = Provenance(source="test", location="a.xml", content_hash="0" * 64)


def study(rid: str = "allbus-1996", doi: str = "10.4232/1.2800") -> Study:
    return Study(id=rid, title="ALLBUS 1996", provenance=PROVENANCE,
                 identifiers=[Identifier(scheme="doi", value=doi)])


def variable(name: str, study_id: str = "allbus-1996") -> Variable:
    return Variable(id=f"{study_id}.{name}", name=name, title="Age", study_id=study_id,
                    provenance=PROVENANCE)


def test_merge_keeps_the_earliest_value_fills_gaps_and_unites_lists():
    merged, origins = merge_with_origins([
        {"title": "First", "description": "", "keywords": ["a"], "extra": {"x": 1}},
        {"title": "Second", "description": "Filled", "keywords": ["a", "b"], "extra": {"x": 2, "y": 3}}])
    assert merged == {"title": "First", "description": "Filled", "keywords": ["a", "b"],
                      "extra": {"x": 1, "y": 3}}
    assert origins == {"title": [0], "keywords": [0, 1], "extra": [0, 1], "description": [1]}


def test_one_source_is_stored_as_it_came_and_several_are_merged():
    assert merged_json(['{"kind":"study", "title":"T"}']) == '{"kind":"study", "title":"T"}'
    assert merged_json(['{"kind":"study","title":"T"}', '{"kind":"study","title":"U","url":"u"}']) \
        == '{"kind": "study", "title": "T", "url": "u"}'
    assert stored_head({"kind": "variable", "title": "Age", "study_id": "s"}) == \
        {"kind": "variable", "title": "Age", "parent": "s"}


def test_records_sharing_an_id_in_one_document_are_numbered():
    ids = [r.id for r in unique_ids(ParseResult(records=[study(), study(), variable("v"), study()]))]
    assert ids == ["allbus-1996", "allbus-1996-2", "allbus-1996.v", "allbus-1996-3"]


def test_a_retitled_record_keeps_its_old_id_through_a_shared_identifier():
    retitled = study("allbus-1996-revised")
    old = {("study", "doi:10.4232/1.2800"): "allbus-1996"}
    assert kept_ids([retitled], {"allbus-1996": "digest"}, old) == {"allbus-1996-revised": "allbus-1996"}
    # a child follows its parent instead, and an id the location still names is not moved
    assert kept_ids([variable("v", "allbus-1996-revised")], {}, old) == {}
    assert kept_ids([retitled], {"allbus-1996-revised": "digest"}, old) == {}


def test_look_alike_records_with_other_strong_identifiers_get_their_own_id():
    incoming = study(doi="10.9999/other")
    candidates = conflict_candidates([incoming, variable("v")], previous={}, taken={})
    assert candidates == [incoming]
    assert separated_ids(candidates, {"allbus-1996": ["doi:10.4232/1.2800"]}) == \
        {"allbus-1996": "allbus-1996-10-9999-other"}
    assert separated_ids(candidates, {"allbus-1996": ["doi:10.9999/other"]}) == {}
    assert separated_ids(candidates, {}) == {}


def test_children_and_relations_follow_a_renamed_parent():
    edge = Relation(subject="allbus-1996", predicate=Predicate.HAS_VARIABLE, object="allbus-1996.v")
    records, relations = renamed([study(), variable("v")], [edge], {"allbus-1996": "allbus"})
    assert [(r.id, getattr(r, "study_id", None)) for r in records] == \
        [("allbus", None), ("allbus.v", "allbus")]
    assert [(r.subject, r.object) for r in relations] == [("allbus", "allbus.v")]
    unchanged = [study()]
    assert renamed(unchanged, [], {})[0] is unchanged


def test_parent_fields_imply_the_containment_edges_not_already_stated():
    implied = parent_relations([study(), variable("v"), variable("w")], [
        Relation(subject="allbus-1996", predicate=Predicate.HAS_VARIABLE, object="allbus-1996.v")])
    assert [(r.subject, r.predicate, r.object) for r in implied] == \
        [("allbus-1996", Predicate.HAS_VARIABLE, "allbus-1996.w")]


def test_the_last_action_of_each_id_decides_what_changed():
    rows = [(4, "a", "created"), (5, "b", "created"), (6, "a", "deleted"), (7, "c", "deleted"),
            (8, "c", "created"), (9, "b", "updated")]
    assert folded_history(rows, 3) == ({"b", "c"}, {"a"}, 9)
    assert folded_history([], 3) == (set(), set(), 3)
