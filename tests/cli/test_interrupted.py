"""Interrupted work is detected and repaired: `discovery ingest` killed at random moments and run
again ends as an uninterrupted run does, and an ingest with nothing new still brings an index
that a killed run left behind up to date."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.cli import app
from discovery.harvest.files import documents, expand
from discovery.linking import link_catalogue
from discovery.search.models import SearchRequest
from discovery.search.service import SearchService
from tests.cli.kills import KillHarness, scenario
from tests.search.built_index import private_copy

GLES = "ddi/ddi25_gesis_ZA5300_gles_2009_preelection.xml"
BASE = ["seeds/000_0feec249131aae36.txt", "ddi/ddi25_gesis_ZA2800_allbus_1996.xml"]
# the grant the dataset seed links to (so linking has work to do), three more studies, and
# DCAT/CKAN/schema.org files (seven small documents: the storing takes several transactions)
UPDATE = ["seeds/002_c114f96cc0523e31.txt", GLES,
          "ddi/ddi25_ukds_SN1683_machinery_of_government_1976.xml",
          "ddi/ddi25_ukds_SN6684_childcare_early_years_parents_2009.xml", "schemaorg_dcat_ckan"]
KILLS = 20


def test_an_ingest_with_nothing_new_still_indexes_what_a_killed_run_left_out(index_data, tmp_path,
                                                                             corpus):
    """A run killed after storing and linking, before its index update: running it again finds
    every document unchanged, and used to stop there, leaving the index behind for good."""
    data = private_copy(index_data, tmp_path / "data")
    with Catalogue(data) as catalogue:
        assert ingest(catalogue, documents(expand([str(corpus / GLES)]))).created == 1
        link_catalogue(catalogue)
    result = CliRunner().invoke(app, ["ingest", str(corpus / GLES), "--data", str(data)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Created 0, updated 0, unchanged 1" in " ".join(result.stdout.split())
    service = SearchService(data)
    try:
        assert service.search(SearchRequest(q="election")).hits[0].id == \
            "pre-election-cross-section-gles-2009"
    finally:
        service.close()


@pytest.fixture(scope="module")
def harness(tmp_path_factory, corpus) -> KillHarness:
    return scenario(corpus, tmp_path_factory.mktemp("kills"), BASE, UPDATE, rows=40)


def test_ingest_killed_anywhere_and_run_again_ends_as_an_uninterrupted_run(harness):
    """Before generations, 5 of 10 kills of an index update left search crashing."""
    trials = list(harness.trials(KILLS, seed=7))
    failed = [t for t in trials if not t.survived]
    assert not failed, [(t.delay, t.phase, t.differences) for t in failed]
    assert len({"storing", "linking", "indexing"} & {t.phase for t in trials}) >= 2
