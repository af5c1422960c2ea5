"""Tabular: Harmony's instrument CSVs and workbooks, a multi-study variable list, bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from discovery.errors import ParseError, UnsafeInputError
from discovery.model import Instrument, Kind, ParseResult, Predicate, Question, Study, Variable
from discovery.sources import tabular
from discovery.sources.base import MAX_FIELD_CHARS, Document
from discovery.sources.registry import head_text
from tests.conftest import load

CSV_DIR = "instruments/harmony_original_csv"
VARIABLES = "instruments/variables_alspac_sws_advance_ahms_aesop_items.csv"
ASRS_CESD = "instruments/harmony_example_spreadsheet_asrs_cesd.xlsx"
WELLBEING = "instruments/harmony_test_wellbeing_scales_list.xlsx"
BENCHMARKS = ("gad7_multilingual_binary.tsv", "gorilla_train_continuous.tsv",
              "mcelroy_2020_childhood_binary.tsv")


def parse(path: Path) -> ParseResult:
    return tabular.parse(load(path))


def of_kind(result: ParseResult, kind: Kind) -> list:
    return [record for record in result.records if record.kind == kind]


def test_gad7_english_csv(corpus: Path) -> None:
    result = parse(corpus / CSV_DIR / "GAD-7_English.csv")
    (instrument,) = of_kind(result, Kind.INSTRUMENT)
    questions: list[Question] = of_kind(result, Kind.QUESTION)
    assert isinstance(instrument, Instrument)
    assert (instrument.id, instrument.title, instrument.language) == (
        "gad-7-english", "GAD-7 English", ["en"])
    assert instrument.question_count == len(questions) == 8
    assert instrument.provenance.source == "tabular-tsv"  # the .csv files are tab-separated
    first = questions[0]
    assert (first.id, first.number, first.position) == ("gad-7-english.1", "1", 1)
    assert first.title == "Feeling nervous, anxious, or on edge"
    assert [option.label for option in first.options] == [
        "not at all", "several days", "more than half the days", "nearly every day"]
    assert first.provenance.record_key == "row 2"
    assert questions[-1].title.startswith("If you checked any problems, how difficult")
    assert [(r.subject, r.predicate, r.object) for r in result.relations][0] == (
        "gad-7-english", Predicate.HAS_QUESTION, "gad-7-english.1")
    assert result.problems == []


def test_portuguese_gad7_keeps_its_language_and_slashes_in_text(corpus: Path) -> None:
    result = parse(corpus / CSV_DIR / "GAD-7_Portuguese.csv")
    (instrument,) = of_kind(result, Kind.INSTRUMENT)
    questions = of_kind(result, Kind.QUESTION)
    assert instrument.language == ["pt"]
    assert len(questions) == 7
    assert questions[0].title == "Sentir-se nervoso/a, ansioso/a ou muito tenso/a"
    assert questions[0].titles[0].lang == "pt"
    assert [option.label for option in questions[1].options] == [
        "Nenhuma vez", "Vários dias", "Mais da metade dos dias", "Quase todos os dias"]
    assert questions[1].title == "Não ser capaz de impedir ou de controlar as preocupações"


def test_repeated_numbers_give_position_ids(corpus: Path) -> None:
    questions = of_kind(parse(corpus / CSV_DIR / "gold_Beck_Depression_Inventory_English.csv"),
                        Kind.QUESTION)
    assert len(questions) == 84
    assert [question.number for question in questions[:5]] == ["0", "1", "2", "3", "0"]
    assert questions[4].id == "gold-beck-depression-inventory-english.5"
    assert questions[4].title == "I am not particularly discouraged about the future."
    assert len({question.id for question in questions}) == 84


def test_workbook_sheets_are_instruments(corpus: Path) -> None:
    result = parse(corpus / ASRS_CESD)
    instruments = of_kind(result, Kind.INSTRUMENT)
    assert [(i.id, i.title, i.question_count) for i in instruments] == [
        ("adult-adhd-self-report-scale-en", "Adult ADHD Self-Report Scale En", 18),
        ("ces-d-english", "CES-D English", 20)]
    cesd = instruments[1]
    assert cesd.language == ["en"]
    assert cesd.provenance.source == "tabular-xlsx"
    assert cesd.description.startswith("Below is a list of the ways you might have felt")
    questions = [q for q in of_kind(result, Kind.QUESTION) if q.instrument_id == "ces-d-english"]
    assert (questions[0].id, questions[0].number) == ("ces-d-english.1", "1")
    assert questions[-1].title == "I could not get “going.”"
    assert questions[-1].provenance.record_key == "CES-D English!row 21"
    assert questions[0].options[3].label == "Most or all of the time (5-7 days)"


def test_instrument_column_splits_one_sheet(corpus: Path) -> None:
    result = parse(corpus / WELLBEING)
    instruments = of_kind(result, Kind.INSTRUMENT)
    assert [(i.id, i.question_count) for i in instruments] == [
        ("the-fast-anxiety-instrument", 11), ("gad-7", 7), ("phq-9", 9)]
    phq9 = [q for q in of_kind(result, Kind.QUESTION) if q.instrument_id == "phq-9"]
    assert phq9[0].title == "Little interest or pleasure in doing things?"
    assert phq9[0].description.startswith("Multiple Choice (Not at all")  # the Notes column
    assert result.problems == []  # the empty separator rows are skipped


def test_variable_list_groups_variables_under_studies(corpus: Path) -> None:
    result = parse(corpus / VARIABLES)
    studies: list[Study] = of_kind(result, Kind.STUDY)
    variables: list[Variable] = of_kind(result, Kind.VARIABLE)
    assert [(s.id, s.variable_count) for s in studies] == [
        ("advance", 126), ("aesop-10", 40), ("ahms", 57), ("alspac", 271),
        ("uk-mrcleu-uos-sws-420a7207-eec6-4ade-947a-3ddf6a2f8f0d", 113)]
    assert len(variables) == 607 == len(result.relations)
    assert {relation.predicate for relation in result.relations} == {Predicate.HAS_VARIABLE}
    advance = studies[0]
    assert (advance.title, advance.temporal_coverage) == ("ADVANCE", "2016/2019")
    # the study column holds a CLOSER agency code and a UUID there: the title names the study
    sws = studies[-1]
    assert sws.title == "Southampton Women's Survey"
    assert [title.value for title in sws.titles] == [
        "Southampton Women's Survey",
        "Southampton Women's Survey (MRC Lifecourse Epidemiology Unit, University of Southampton)"]
    first = variables[0]
    assert (first.id, first.name, first.study_id) == ("advance.q1", "Q1", "advance")
    assert first.title == first.question_text == "Little interest or pleasure in doing things"
    assert [c.label for c in first.categories] == [
        "Not at all", "Several days", "More than half the days", "Nearly every day"]
    assert first.extra == {"year": "2016"}
    assert result.problems == []


def test_row_without_text_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("Question No,Question,Options\n1,How are you?,Fine;Unwell\n\n3,,Yes/No\n",
                    encoding="utf-8")
    result = tabular.parse(load(path))
    (question,) = of_kind(result, Kind.QUESTION)
    assert [option.label for option in question.options] == ["Fine", "Unwell"]
    assert [(p.record, p.reason) for p in result.problems] == [("row 4", "no question text")]


def test_empty_and_header_only_csv_fail(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="empty file"):
        tabular.parse(Document("empty.csv", b""))
    with pytest.raises(ParseError, match="no rows with text"):
        tabular.parse(Document("header.csv", b"Question No,Question,Options\n"))


def test_cell_over_the_limit_is_refused_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("question,options\nShort one,Yes/No\nLong one," + "x" * (MAX_FIELD_CHARS + 1)
                    + "\n", encoding="utf-8")
    with pytest.raises(UnsafeInputError, match="row 3") as error:
        tabular.parse(load(path))
    assert error.value.record == "row 3"


def test_too_many_rows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    content = "question\n" + "".join(f"Item {n}\n" for n in range(5))
    with pytest.raises(UnsafeInputError, match="more than 3 rows"):
        tabular.parse(Document("many.csv", content.encode()))


def test_benchmark_pairs_are_refused_with_what_they_are(corpus: Path) -> None:
    for name in BENCHMARKS:
        doc = load(corpus / "matching_benchmarks" / name)
        assert tabular.sniff(doc, head_text(doc)), name
        with pytest.raises(ParseError, match="question-pair benchmark"):
            tabular.parse(doc)


def test_sniff_claims_csv_and_xlsx_only(corpus: Path) -> None:
    def claims(name: str) -> bool:
        doc = load(corpus / name)
        return tabular.sniff(doc, head_text(doc))

    for name in (f"{CSV_DIR}/SCARED_English.csv", VARIABLES, ASRS_CESD, WELLBEING):
        assert claims(name), name
    for name in ("instruments/harmony_example_questionnaires.jsonl", "instruments/GAD-7.pdf",
                 "instruments/harmony_pdf_annotated_questionnaires/022_cesd.txt",
                 "schemaorg_dcat_ckan/ckan_solr_datagovuk_price_paid_data.json"):
        assert not claims(name), name


def test_broken_workbook_fails() -> None:
    with pytest.raises(ParseError, match="not a readable XLSX workbook"):
        tabular.parse(Document("broken.xlsx", b"PK\x03\x04 not really a zip"))


def test_a_workbook_whose_sheet_fails_to_inflate_is_unreadable_not_a_crash(corpus: Path) -> None:
    """Found by bench/fuzz.py: a damaged deflate stream raised zlib.error from openpyxl, which the
    registry could only report as a parser bug ("tabular parser failed")."""
    data = bytearray((corpus / WELLBEING).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        part = archive.getinfo("xl/worksheets/sheet1.xml")
    data[part.header_offset + 30 + len(part.filename) + len(part.extra)] = 0xFF  # block type 3
    with pytest.raises(ParseError, match="not a readable XLSX .*decompressing"):
        tabular.parse(Document("damaged.xlsx", bytes(data)))



@pytest.mark.parametrize("delimiter", ["\t", ";", "|", ","])
def test_grids_split_a_table_whose_header_names_no_column(delimiter: str) -> None:
    rows = [["Nr", "Frage", "Antworten"], ["1", "Fühlen Sie sich nervös, ängstlich?", "nie/oft"],
            ["2", "Können Sie Ihre Sorgen nicht stoppen?", "nie/oft"]]
    text = "\n".join(delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in row)
                     for row in rows)
    [grid] = tabular.grids(Document("fragen.csv", text.encode("utf-8")), 10)
    assert grid.rows == rows and grid.header_row == 0 and grid.roles == {}


def test_columns_chosen_by_hand_replace_the_header_names() -> None:
    text = "question,notes\nAn item that is really a note,Do you feel nervous?\n"
    chosen = tabular.parse(Document("q.csv", text.encode()), {"": tabular.Columns(1, text=1)})
    assert [r.title for r in chosen.records if isinstance(r, Question)] == ["Do you feel nervous?"]
    with pytest.raises(ParseError, match="no question or text column"):
        tabular.parse(Document("q.csv", b"frage,notiz\nx,y\n"))  # without a choice, names decide
