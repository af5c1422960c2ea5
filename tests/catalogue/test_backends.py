"""Opening a catalogue from a target: a folder is the embedded SQLite catalogue, a postgresql://
URL the shared one."""

from __future__ import annotations

import psycopg

from discovery.catalogue.backends import (cache_folder, catalogue_exists, data_version,
                                          open_catalogue)
from discovery.catalogue.postgres import PostgresCatalogue
from discovery.model import ParseResult, Provenance, Study, content_hash


def test_a_folder_opens_a_catalogue_that_exists_from_then_on(tmp_path):
    folder = tmp_path / "data"
    assert not catalogue_exists(folder)
    with open_catalogue(folder) as catalogue:
        assert catalogue.counts_by_kind() == {}
    assert catalogue_exists(folder)


def _study(location: str) -> ParseResult:
    return ParseResult(records=[Study(id="s", title="A study", provenance=Provenance(
        source="test", location=location, content_hash=content_hash(location.encode())))])


def test_the_data_version_moves_when_a_writer_commits(target):
    with open_catalogue(target) as catalogue:
        version = data_version(target)
        try:
            before = version()
            assert version() == before  # reading changes nothing
            catalogue.apply("a.xml", b"a", "2026-11-30T00:00:00+00:00", _study("a.xml"))
            after_ingest = version()
            assert after_ingest != before
            catalogue.replace_links([], [])  # a link run writes no history, and still counts
            assert version() != after_ingest
        finally:
            version.close()


def test_on_postgresql_each_write_transaction_moves_the_version_once_whoever_writes(database):
    version = data_version(database)
    try:
        before = version()
        with open_catalogue(database) as catalogue:  # one transaction of many statements
            catalogue.apply("a.xml", b"a", "2026-11-30T00:00:00+00:00", _study("a.xml"))
        assert version() == before + 1
        with psycopg.connect(database, autocommit=True) as db:  # a hand edit is a change too
            db.execute("UPDATE records SET title = 'Renamed'")
        assert version() == before + 2
    finally:
        version.close()


def test_a_database_url_opens_the_postgresql_catalogue(database):
    assert catalogue_exists(database)
    with open_catalogue(database) as catalogue:
        assert isinstance(catalogue, PostgresCatalogue)
        assert catalogue.counts_by_kind() == {}


def test_a_database_keeps_derived_files_in_a_cache_folder_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    url = "postgresql://reader:secret@db.example.org:5433/catalogue"
    assert cache_folder(url) == tmp_path / "discovery" / "reader_db.example.org_5433_catalogue"
    assert cache_folder(url, tmp_path / "chosen") == tmp_path / "chosen"
    assert cache_folder(tmp_path / "data") == tmp_path / "data"  # a folder keeps them inside
