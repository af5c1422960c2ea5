"""Files and pasted text for the harmonise page: header rows found with or without known column
names, columns chosen by hand, and bad files refused with the file's name and the reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from discovery.errors import DiscoveryError, ParseError
from discovery.harmonise.items import Instrument, Item
from discovery.harmonise.upload import (
    MAX_FILES, MAX_UPLOAD_BYTES, Upload, check_uploads, distinct, guess_columns, read_pasted,
    read_upload, safe_name,
)
from discovery.sources import tabular
from discovery.sources.base import Document

GAD7 = "instruments/harmony_original_csv/GAD-7_{}.csv"
SCALE = "Nunca/Às vezes/Sempre"
# No header name the tabular parser knows: "Nr", "Enunciado" and "Escala" are Portuguese.
UNNAMED = ("Nr;Enunciado;Escala\n"
           f"1;Sinto-me nervoso, ansioso ou tenso;{SCALE}\n"
           f"2;Não consigo parar de me preocupar;{SCALE}\n"
           f"3;Preocupo-me demasiado com coisas diferentes;{SCALE}\n")


def texts(instruments: list[Instrument]) -> list[str]:
    return [item.text for instrument in instruments for item in instrument.items]


def grid(text: str, name: str = "t.csv") -> tabular.Grid:
    return tabular.grids(Document(name, text.encode("utf-8")), 40)[0]


def test_a_header_named_as_the_parser_knows_it_is_found_by_name(corpus: Path) -> None:
    path = corpus / GAD7.format("English")
    columns = guess_columns(tabular.grids(Document(path.name, path.read_bytes()), 40)[0])
    assert columns == tabular.Columns(header_row=1, text=1, options=2, number=0)


def test_an_unnamed_header_above_numbers_and_a_repeated_scale_is_a_header() -> None:
    assert guess_columns(grid(UNNAMED)) == tabular.Columns(header_row=1, text=1, options=2, number=0)


@pytest.mark.parametrize("text", [
    "Wording\tScale\nHow often have you felt nervous or on edge lately?\tnever/sometimes/often\n"
    "How often could you not stop worrying about things?\tnever/sometimes/often\n",
    "Frage\nHaben Sie sich in letzter Zeit nervös oder angespannt gefühlt?\n"
    "Konnten Sie Ihre Sorgen in letzter Zeit nicht stoppen oder kontrollieren?\n",
])
def test_a_short_label_above_long_questions_is_a_header(text: str) -> None:
    assert guess_columns(grid(text)).header_row == 1


def test_a_table_of_items_only_has_no_header() -> None:
    rows = ("1;Sinto-me nervoso, ansioso ou tenso;Nunca/Sempre\n"
            "2;Não consigo parar de me preocupar;Nunca/Sempre\n")
    assert guess_columns(grid(rows)) == tabular.Columns(header_row=0, text=1, options=2, number=0)


def test_an_uploaded_table_is_read_with_its_detected_columns_and_options() -> None:
    source = read_upload(Upload("escala.csv", UNNAMED.encode("utf-8")), {})
    assert source.error is None
    items = [item for instrument in source.instruments for item in instrument.items]
    assert [item.text for item in items][0] == "Sinto-me nervoso, ansioso ou tenso"
    assert "Enunciado" not in texts(source.instruments)
    assert all(item.options == ("Nunca", "Às vezes", "Sempre") for item in items)
    assert [item.number for item in items] == ["1", "2", "3"]
    [table] = source.tables
    assert table.rows[0] == ["Nr", "Enunciado", "Escala"] and table.width == 3


def test_columns_chosen_by_hand_replace_the_guess() -> None:
    upload = Upload("escala.csv", UNNAMED.encode("utf-8"))
    key = read_upload(upload, {}).tables[0].key
    swapped = read_upload(upload, {f"text.{key}": "2", f"options.{key}": "", f"header.{key}": "1"})
    assert texts(swapped.instruments) == [SCALE] * 3
    assert all(item.options == () for item in swapped.instruments[0].items)
    no_header = read_upload(upload, {f"header.{key}": "0"})
    assert texts(no_header.instruments)[0] == "Enunciado"  # the person said so
    left_out = read_upload(upload, {f"text.{key}": ""})
    assert left_out.instruments == [] and left_out.tables[0].columns is None


@pytest.mark.parametrize("value", ["7", "-1", "x", "1e3"])
def test_a_choice_outside_the_table_is_refused_naming_the_file(value: str) -> None:
    upload = Upload("escala.csv", UNNAMED.encode("utf-8"))
    key = read_upload(upload, {}).tables[0].key
    source = read_upload(upload, {f"text.{key}": value})
    assert isinstance(source.error, ParseError) and source.error.file == "escala.csv"
    assert "text choice" in source.error.reason


def test_each_sheet_of_a_workbook_is_a_table_to_choose_columns_in() -> None:
    book = Workbook()
    first = book.active
    first.title = "Ansiedade"
    for row in UNNAMED.splitlines():
        first.append(row.split(";"))
    notes = book.create_sheet("Notas")
    notes.append(["Q", "Pergunta"])
    notes.append(["1", "Sente-se só a maior parte do tempo?"])
    notes.append(["2", "Tem alguém com quem falar quando precisa?"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = Upload("escalas.xlsx", buffer.getvalue())
    source = read_upload(upload, {})
    assert [table.sheet for table in source.tables] == ["Ansiedade", "Notas"]
    assert {instrument.name for instrument in source.instruments} == {"Ansiedade", "Notas"}
    assert "Pergunta" not in texts(source.instruments) and "Enunciado" not in texts(source.instruments)
    only_first = read_upload(upload, {f"text.{source.tables[1].key}": ""})
    assert [instrument.name for instrument in only_first.instruments] == ["Ansiedade"]


def test_pdf_text_and_json_lines_go_through_the_cli_parsers(corpus: Path) -> None:
    for path in (corpus / "instruments" / "GAD-7.pdf",
                 corpus / "instruments" / "harmony_example_questionnaires.jsonl"):
        source = read_upload(Upload(path.name, path.read_bytes()), {})
        assert source.error is None and source.tables == [] and len(texts(source.instruments)) >= 7


def test_a_pasted_csv_never_reads_its_header_as_an_item() -> None:
    source = read_pasted("p0", "Mine", "question,options\nI feel nervous,Never|Often\n"
                                       "I worry a lot,Never|Often\n", {})
    assert texts(source.instruments) == ["I feel nervous", "I worry a lot"]
    assert source.instruments[0].name == "Mine"
    assert source.instruments[0].items[0].options == ("Never", "Often")
    unnamed = read_pasted("p1", "Sua", UNNAMED, {})
    assert "Enunciado" not in texts(unnamed.instruments) and len(unnamed.tables) == 1


def test_pasted_lines_with_commas_in_some_are_items_one_per_line() -> None:
    source = read_pasted("p0", "Mine", "Feeling nervous, anxious, or on edge\nTrouble relaxing\n", {})
    assert source.tables == []
    assert texts(source.instruments) == ["Feeling nervous, anxious, or on edge", "Trouble relaxing"]


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("broken.xlsx", b"PK\x03\x04 not a zip at all", "not a readable XLSX workbook"),
    ("commas.csv", b",,\n;;\n", "no rows with text"),
    ("scan.pdf", b"%PDF-1.4\n%%EOF", ""),
])
def test_a_bad_file_gives_an_error_naming_it(name: str, content: bytes, reason: str) -> None:
    source = read_upload(Upload(name, content), {})
    assert isinstance(source.error, DiscoveryError) and source.error.file == name
    assert reason in source.error.reason


def test_uploads_are_bounded_in_kind_number_and_bytes() -> None:
    with pytest.raises(ParseError, match="not a kind of file") as refused:
        check_uploads([Upload("<b>x</b>.docx", b"PK")])
    assert refused.value.file == "<b>x</b>.docx"
    with pytest.raises(ParseError, match="empty"):
        check_uploads([Upload("a.csv", b"  \n")])
    with pytest.raises(DiscoveryError, match=f"at most {MAX_FILES}"):
        check_uploads([Upload(f"{n}.csv", b"question\nx\n") for n in range(MAX_FILES + 1)])
    with pytest.raises(DiscoveryError, match="over the 1,000,000-byte limit") as big:
        check_uploads([Upload("big.csv", b"x" * (MAX_UPLOAD_BYTES + 1))])
    assert "big.csv" in big.value.reason


@pytest.mark.parametrize(("raw", "name"), [
    ("../../etc/passwd.csv", "passwd.csv"), ("C:\\Users\\me\\GAD-7.xlsx", "GAD-7.xlsx"),
    ("a\x00b\nc.csv", "abc.csv"), ("", "upload"), ("x" * 300 + ".csv", "x" * 116 + ".csv"),
])
def test_file_names_are_base_names_without_control_characters(raw: str, name: str) -> None:
    assert safe_name(raw) == name


def test_the_same_item_ids_in_two_files_stay_apart() -> None:
    one = Instrument("a", "A", "x", [Item("q.1", "I feel calm", "A")])
    two = Instrument("a", "A", "x", [Item("q.1", "I feel calm", "A")])
    first, second = distinct([one, two], ["A", "A (2)"])
    assert first.items[0].id == "q.1" and second.items[0].id == "2:q.1"
    assert second.items[0].instrument == "A (2)"


def test_a_header_under_title_lines_is_offered_and_shown() -> None:
    text = "".join(f"Survey notes line {n}\n" for n in range(1, 8)) + \
        "Question;Options\nDo you feel nervous?;Never|Often\nDo you worry?;Never|Often\n"
    source = read_pasted("p0", "Notes", text, {})
    [table] = source.tables
    assert table.guessed.header_row == 8 and table.header_choices >= 8
    assert table.rows[7] == ["Question", "Options"] and len(table.rows) >= 10
    assert texts(source.instruments) == ["Do you feel nervous?", "Do you worry?"]


def test_columns_to_choose_from_are_bounded() -> None:
    cells = [f"c{n}" for n in range(120)]
    text = ";".join(cells) + "\n" + ";".join(["Do you feel nervous today?"] + ["x"] * 119) + "\n"
    [table] = read_upload(Upload("wide.csv", text.encode()), {}).tables
    assert table.width == 50 and all(len(row) == 50 for row in table.rows)
