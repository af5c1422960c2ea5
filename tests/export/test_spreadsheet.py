"""Spreadsheet cells from hostile text: formulas shown as text, control characters dropped."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from discovery.export.spreadsheet import printable, spreadsheet_safe
from discovery.export.variables_table import to_csv, to_xlsx
from tests.export.records import variable


def test_control_characters_are_dropped_and_formulas_quoted() -> None:
    assert printable("a\x00b\x01c\x0bd\x1fe\ud800") == "abcde"
    assert printable("tab\tand\nnewlines\r") == "tab\tand\nnewlines\r"
    assert spreadsheet_safe("=\x01SUM(A1)") == "'=SUM(A1)"
    assert spreadsheet_safe(3) == 3


def test_a_variable_with_control_characters_still_makes_a_workbook() -> None:
    # openpyxl refused the whole workbook over one such character, on every request for it
    hostile = [variable("Q1", "Label\x01 with \x0bcontrol\x1f characters", "Question\x02?")]
    sheet = load_workbook(io.BytesIO(to_xlsx(hostile))).active
    assert [cell.value for cell in sheet[2]][2:4] == ["Label with control characters", "Question?"]
    assert "\x01" not in to_csv(hostile).decode("utf-8-sig")
