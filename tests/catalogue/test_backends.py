"""Opening a catalogue from a target: a folder is the embedded SQLite catalogue, a postgresql://
URL the shared one."""

from __future__ import annotations

import pytest

from discovery.catalogue.backends import catalogue_exists, data_version, open_catalogue
from discovery.catalogue.postgres import PostgresCatalogue
from discovery.errors import CatalogueError
from discovery.model import ParseResult, Provenance, Study, content_hash


def test_a_folder_opens_a_catalogue_that_exists_from_then_on(tmp_path):
    folder = tmp_path / "data"
    assert not catalogue_exists(folder)
    with open_catalogue(folder) as catalogue:
        assert catalogue.counts_by_kind() == {}
    assert catalogue_exists(folder)


def test_the_data_version_moves_when_a_writer_commits(tmp_path):
    folder = tmp_path / "data"
    with open_catalogue(folder) as catalogue:
        version = data_version(folder)
        try:
            before = version()
            assert version() == before  # reading changes nothing
            study = Study(id="s", title="A study", provenance=Provenance(
                source="test", location="a.xml", content_hash=content_hash(b"a")))
            catalogue.apply("a.xml", b"a", "2026-11-30T00:00:00+00:00", ParseResult(records=[study]))
            assert version() != before
        finally:
            version.close()


def test_a_database_url_opens_the_postgresql_catalogue(database):
    assert catalogue_exists(database)
    with open_catalogue(database) as catalogue:
        assert isinstance(catalogue, PostgresCatalogue)
        assert catalogue.counts_by_kind() == {}


def test_what_reads_the_local_index_refuses_a_database_in_one_line(database):
    with pytest.raises(CatalogueError) as caught:
        data_version(database)
    assert caught.value.one_line().startswith("the page cache needs a folder: search on a "
                                              "PostgreSQL catalogue is not built yet")
