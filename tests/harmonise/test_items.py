from __future__ import annotations

from pathlib import Path

import pytest

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.errors import DiscoveryError
from discovery.harmonise.items import (
    instrument_from_catalogue,
    instrument_from_text,
    instruments_from_files,
)
from discovery.harvest.files import documents

INSTRUMENTS = Path("instruments")


@pytest.mark.parametrize(("name", "count", "first", "options"), [
    ("harmony_original_csv/GAD-7_Portuguese.csv", 7, "Sentir-se nervoso/a, ansioso/a ou muito tenso/a",
     ("Nenhuma vez", "Vários dias", "Mais da metade dos dias", "Quase todos os dias")),
    ("harmony_example_spreadsheet_asrs_cesd.xlsx", 18, "How often do you have trouble wrapping up",
     ("Never", "Rarely", "Sometimes", "Often", "Very Often")),
    ("harmony_pdf_annotated_questionnaires/022_cesd.txt", 20, "I was bothered by things", None),
    ("GAD-7.pdf", 7, "Feeling nervous, anxious, or on edge", None),
    ("harmony_example_questionnaires.jsonl", None, "I was bothered by things", None),
])
def test_file_inputs_of_each_kind(corpus: Path, name: str, count: int | None, first: str,
                                  options: tuple[str, ...] | None) -> None:
    instruments = instruments_from_files([str(corpus / INSTRUMENTS / name)])
    first_instrument = instruments[0]
    if count is not None:
        assert len(first_instrument.items) == count
    assert first_instrument.items[0].text.startswith(first)
    if options is not None:
        assert first_instrument.items[0].options == options
    assert all(item.instrument == first_instrument.name for item in first_instrument.items)


def test_jsonl_gives_one_instrument_per_questionnaire(corpus: Path) -> None:
    instruments = instruments_from_files([str(corpus / INSTRUMENTS / "harmony_example_questionnaires.jsonl")])
    assert len(instruments) == 22
    assert sum(len(i.items) for i in instruments) == 304


def test_pasted_text_one_item_per_line() -> None:
    instrument = instrument_from_text("1. I feel calm\n2. I worry a lot\n\n3. I cannot sleep\n")
    assert [item.text for item in instrument.items] == ["I feel calm", "I worry a lot", "I cannot sleep"]


def test_a_file_without_items_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(DiscoveryError) as error:
        instruments_from_files([str(missing)])
    assert "nope.csv" in error.value.one_line()


def test_study_variables_from_the_catalogue(corpus: Path, tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path)
    variables = corpus / INSTRUMENTS / "variables_alspac_sws_advance_ahms_aesop_items.csv"
    ingest(catalogue, documents([str(variables)]))
    instrument = instrument_from_catalogue(catalogue, "advance")
    assert instrument.name == "ADVANCE"
    texts = {item.text for item in instrument.items}
    assert "Little interest or pleasure in doing things" in texts
    assert any(item.options for item in instrument.items)
