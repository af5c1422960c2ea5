"""Building and updating the index from the catalogue: incremental by history, deletions, the
model recorded, and a rebuild from scratch that answers exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents, expand
from discovery.index.build import index_paths, update_index
from discovery.index.columns import RowFilter
from discovery.index.lexical import LexicalQuery
from discovery.index.generations import published_meta
from discovery.index.reader import IndexReader
from discovery.model import ITEM_KINDS
from discovery.search.models import SearchRequest
from discovery.search.service import SearchService
from tests.search.built_index import private_copy, question_bank

GLES = "ddi/ddi25_gesis_ZA5300_gles_2009_preelection.xml"
PILOT = ("survey_name,year,item_name,item_text,response_categories_cleaned\n"
         "Sleep Pilot,2020,S1,How often do you wake up too early and cannot sleep again?,Never / Often\n"
         "Sleep Pilot,2020,S2,Do you feel tired and drowsy during the day?,Never / Often\n")
QUERIES = ["nervous anxious on edge", "parental drug use child protection", "savings retirement",
           "election", "sleep"]


def ingest_paths(data: Path, *paths: Path) -> None:
    with Catalogue(data) as catalogue:
        report = ingest(catalogue, documents(expand([str(p) for p in paths])))
        assert report.ok, report.failures


def update(data: Path, **options):
    with Catalogue(data) as catalogue:
        return update_index(catalogue, data, **options)


def answers(data: Path) -> list[list[tuple[str, float, list[str]]]]:
    service = SearchService(data)
    try:
        return [[(h.id, h.score, [v.id for v in h.variables])
                 for h in service.search(SearchRequest(q=q, size=20)).hits] for q in QUERIES]
    finally:
        service.close()


@pytest.fixture(scope="module")
def updated(index_data, tmp_path_factory, corpus) -> Path:
    """The shared index, then one more study ingested, then a pilot survey added and cut down."""
    data = private_copy(index_data, tmp_path_factory.mktemp("updated") / "data")
    ingest_paths(data, corpus / GLES)
    pytest.gles_report = update(data)
    pilot = data / "sources" / "pilot.csv"
    pilot.write_text(PILOT, encoding="utf-8")
    ingest_paths(data, pilot)
    update(data)
    pilot.write_text(PILOT.rsplit("Sleep Pilot", 1)[0], encoding="utf-8")  # drop item S2
    ingest_paths(data, pilot)
    pytest.cut_report = update(data)
    return data


def test_the_model_and_the_history_read_so_far_are_recorded(index_data):
    meta = published_meta(index_paths(index_data).root)
    assert meta["model"] == "minilm-l6-int8" and meta["dim"] == 384
    with Catalogue(index_data) as catalogue:
        assert meta["seq"] == catalogue.db.execute("SELECT MAX(seq) FROM history").fetchone()[0]


def test_an_update_after_one_more_file_indexes_only_its_records(updated):
    report = pytest.gles_report
    assert not report.full
    assert (report.indexed, report.deleted, report.encoded) == (1, 0, 2)  # its text and its title
    hits = SearchService(updated).search(SearchRequest(q="election", size=3)).hits
    assert hits[0].id == "pre-election-cross-section-gles-2009"


def test_a_record_deleted_from_the_catalogue_leaves_the_index(updated):
    report = pytest.cut_report
    assert report.deleted == 1
    assert report.indexed == 1  # the study, whose variable count changed; nothing is encoded twice
    assert report.encoded == 1  # its text lists its items, and one went
    service = SearchService(updated)
    flat = service.search(SearchRequest(q="tired drowsy during the day", group=False, size=50))
    assert "sleep-pilot.s2" not in [h.id for h in flat.hits]
    study = service.search(SearchRequest(q="wake up too early", size=1)).hits[0]
    assert study.id == "sleep-pilot" and study.variable_count == 1
    assert [v.id for v in study.variables] == ["sleep-pilot.s1"]


def titled(data: Path) -> tuple[list[str], list[str]]:
    """The ids of the live rows that have a title vector, and of the hits (non-items) among them."""
    reader = IndexReader(data)
    try:
        rows = reader.live_rows.astype("int64")
        held = set(reader.titles.similarities(reader.vectors.vector(int(rows[0])), rows)[0].tolist())
        assert reader.titles.index.ntotal == len(held)  # dead rows' titles went with them
        kinds = dict(reader.docs.db.execute("SELECT row, kind FROM docs").fetchall())
        with_title = sorted(reader.docs.ids_of(sorted(held)))
        hits = sorted(reader.docs.ids_of([r for r in rows.tolist() if kinds[r] not in ITEM_KINDS]))
        return with_title, hits
    finally:
        reader.close()


def test_every_hit_has_a_title_vector_and_no_item_has_one_after_updates(updated):
    """Updated and deleted records' title vectors go with their rows (`sleep-pilot` was
    reindexed twice, the GLES study added)."""
    with_title, hits = titled(updated)
    assert with_title == hits
    assert {"sleep-pilot", "pre-election-cross-section-gles-2009"} <= set(hits)
    hit = SearchService(updated).search(SearchRequest(q="Sleep Pilot", size=1)).hits[0]
    assert hit.id == "sleep-pilot"


def test_nothing_changed_means_nothing_indexed(updated):
    report = update(updated)
    assert (report.indexed, report.deleted, report.encoded) == (0, 0, 0)


def test_a_rebuild_answers_as_the_incrementally_updated_index(updated, tmp_path):
    """Same hits in the same order; BM25 scores may move slightly because tantivy counts deleted
    documents in its term statistics until it merges segments."""
    incremental = answers(updated)
    rebuilt = private_copy(updated, tmp_path / "rebuilt")
    report = update(rebuilt, rebuild=True)
    assert report.full and report.encoded == 0  # every vector came from the cache
    fresh = answers(rebuilt)
    assert [[(i, v) for i, _, v in hits] for hits in fresh] == \
        [[(i, v) for i, _, v in hits] for hits in incremental]
    for new, old in zip(fresh, incremental, strict=True):
        assert [s for _, s, _ in new] == pytest.approx([s for _, s, _ in old], rel=0.05)
    update(rebuilt, rebuild=True)
    assert answers(rebuilt) == fresh  # and rebuilding is deterministic, scores included


def test_items_added_by_an_update_are_filtered_by_their_parents_values(updated):
    """The pilot survey (2020) came in by an update: a year filter inside tantivy finds its item by
    the study's year, which the item itself does not state (it carries its parent's values)."""
    def items_in(year: float) -> list[str]:
        reader = IndexReader(updated)
        try:
            allowed = RowFilter(reader.columns, {"kind": ["variable"]}, {"year": (year, year)})
            rows, _ = reader.lexical_search(LexicalQuery.of("wake up too early"), 10, allowed)
            return [reader.docs.titles(rows.tolist())[r][0] for r in rows.tolist()]
        finally:
            reader.close()

    assert items_in(2020.0) == ["sleep-pilot.s1"]
    assert items_in(2021.0) == []


def vector_rows(data: Path) -> dict[str, list[int]]:
    """The rows each vector set of the published index holds."""
    reader = IndexReader(data)
    try:
        rows = reader.live_rows.astype("int64")
        sets = {"vectors": reader.vectors, "titles": reader.titles}
        if reader.english:
            sets |= {"english vectors": reader.english.vectors, "english titles": reader.english.titles}
        return {name: index.similarities(reader.vectors.vector(int(rows[0])), rows)[0].tolist()
                for name, index in sets.items()}
    finally:
        reader.close()


def test_an_index_with_an_english_encoder_keeps_its_vectors_in_step(tmp_path_factory, corpus, tmp_path):
    """The default index (`e5+minilm`) keeps MiniLM vectors of the same rows as e5's through an
    update; `--model e5` drops them, from the cache alone."""
    data = private_copy(question_bank(tmp_path_factory, corpus), tmp_path / "bank")
    meta = published_meta(index_paths(data).root)
    assert (meta["model_key"], meta["english_key"]) == ("e5", "minilm")
    before = vector_rows(data)
    assert before["english vectors"] == before["vectors"] and before["english titles"] == before["titles"]
    (data / "sources" / "pilot.csv").write_text(PILOT, encoding="utf-8")
    ingest_paths(data, data / "sources" / "pilot.csv")
    report = update(data)
    assert not report.full and report.encoded == 2 * 4  # 3 records and the study's title, twice
    assert report.model == "multilingual-e5-small-q4 + minilm-l6-int8"  # the report names both
    after = vector_rows(data)
    assert after["english vectors"] == after["vectors"] != before["vectors"]
    assert after["english titles"] == after["titles"] != before["titles"]
    report = update(data, model="e5")
    assert report.full and report.encoded == 0 and report.model == "multilingual-e5-small-q4"
    assert "english_key" not in published_meta(index_paths(data).root)
    assert set(vector_rows(data)) == {"vectors", "titles"}
