"""A small catalogue to harvest: studies with variables (DDI), datasets (schema.org, DCAT, CKAN,
Harmony), a Dublin Core record and the hostile record of the API tests, ingested once per
session; tests that change it work on a copy, served by a real server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents, expand
from tests.server.site import HOSTILE
from tests.conftest import CORPUS

SLICE = ("ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml",
         "ddi/ddi25_ukds_SN1683_machinery_of_government_1976.xml",
         "ddi/ddi122_nesstar_ess_switzerland_2004.xml",
         "schemaorg_dcat_ckan", "cessda_cmm_json", "catalogue_pages")


def build(folder: Path) -> Path:
    """Ingest the slice and the hostile record into `folder`; the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    hostile = folder.parent / f"{folder.name}-hostile.jsonld"
    hostile.write_text(json.dumps(HOSTILE), encoding="utf-8")
    with Catalogue(folder) as catalogue:
        report = ingest(catalogue, documents(expand([str(CORPUS / part) for part in SLICE]
                                                    + [str(hostile)])))
        assert report.stored > 0, report.failures
    return folder


def copy(source: Path, target: Path) -> Path:
    """A copy to change, with no ledger yet."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("oai.sqlite*"))
    return target
