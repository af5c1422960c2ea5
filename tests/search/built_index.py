"""One small catalogue and search index, built once per test session and shared (read-only) by the
index, search and CLI tests: the two seeds, a bilingual DDI study, a German study record, the GAD-7
questionnaire and the first 30 variables of the ADVANCE study (GAD-7 and PHQ-9 items)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from discovery.catalogue.ingest import ingest
from discovery.catalogue.protocol import CatalogueStore
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents, expand
from discovery.index.build import update_index

MODEL = "minilm"  # the faster model: these tests check behaviour, not which model ranks best
FILES = ["seeds/000_0feec249131aae36.txt", "seeds/002_c114f96cc0523e31.txt",
         "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml",
         "ddi/ddi25_gesis_ZA2800_allbus_1996.xml",
         "instruments/harmony_original_csv/GAD-7_English.csv"]
VARIABLES = "instruments/variables_alspac_sws_advance_ahms_aesop_items.csv"
_built: dict[str, Path] = {}


def build_catalogue(folder: Path, corpus: Path) -> Path:
    with Catalogue(folder) as catalogue:
        ingest_small(catalogue, folder, corpus)
        update_index(catalogue, folder, model=MODEL)
    return folder


def ingest_small(catalogue: CatalogueStore, scratch: Path, corpus: Path) -> None:
    """The small catalogue's records, into any store (`scratch` holds the ADVANCE extract)."""
    advance = scratch / "sources" / "advance_items.csv"
    if not advance.exists():
        lines = (corpus / VARIABLES).read_text(encoding="utf-8").splitlines()[:31]
        advance.parent.mkdir(parents=True, exist_ok=True)
        advance.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest(catalogue, documents(expand([str(corpus / f) for f in FILES] + [str(advance)])))
    assert report.ok, report.failures


def shared_index(tmp_path_factory, corpus: Path) -> Path:
    """The session's built data folder (catalogue + index); copy it before changing anything."""
    if "data" not in _built:
        _built["data"] = build_catalogue(tmp_path_factory.mktemp("search-index"), corpus)
    return _built["data"]


def private_copy(source: Path, target: Path) -> Path:
    """A copy a test may change: the embedding cache comes along, so nothing is encoded again."""
    shutil.copytree(source, target)
    return target


BANK_INSTRUMENTS = re.compile(r"PHQ|GAD|Anxiety|Strengths (and|&) Difficulties Questionnaire \(25-item\)")
BANK_FILES = ["instruments/harmony_example_questionnaires.jsonl",
              "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml",
              "ddi/ddi25_gesis_ZA2800_allbus_1996.xml"]


def question_bank(tmp_path_factory, corpus: Path) -> Path:
    """A bank of questionnaires with many versions of the same scales (GAD-7 in twelve languages,
    PHQ and SDQ variants, child anxiety scales) and two studies, indexed with the default models:
    what relevance, spelling, language and version tests need. Built once per session."""
    if "bank" not in _built:
        folder = tmp_path_factory.mktemp("question-bank")
        source = corpus / "instruments/mhc_catalogue_mental_health_measures_questions.jsonl"
        lines = [line for line in source.read_text(encoding="utf-8").splitlines()
                 if BANK_INSTRUMENTS.search(json.loads(line).get("instrument_name") or "")]
        extract = folder / "sources" / "mhc_extract.jsonl"
        extract.parent.mkdir(parents=True)
        extract.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with Catalogue(folder) as catalogue:
            ingest_bank(catalogue, folder, corpus)
            update_index(catalogue, folder)
        _built["bank"] = folder
    return _built["bank"]


def ingest_bank(catalogue: CatalogueStore, bank: Path, corpus: Path) -> None:
    """The question bank's records (`bank`: the folder `question_bank` made), into any store."""
    extract = bank / "sources" / "mhc_extract.jsonl"
    report = ingest(catalogue, documents(expand([str(corpus / f) for f in BANK_FILES] + [str(extract)])))
    assert report.ok, report.failures
