from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from discovery.export.variables_table import COLUMNS, to_csv, to_json, to_xlsx
from tests.export.records import variable

VARIABLES = [variable("Q1", "Age", "How old are you?"),
             variable("EVIL", '=HYPERLINK("http://x","click")', "@SUM(A1)")]


def test_csv_has_every_row_and_neutralises_formulas() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(VARIABLES).decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS) and len(rows) == 3
    assert rows[1][:4] == ["test-study.q1", "Q1", "Age", "How old are you?"]
    assert rows[1][4] == "1=Yes; 9=Missing"
    assert rows[2][2].startswith("'=HYPERLINK") and rows[2][3] == "'@SUM(A1)"


def test_xlsx_stores_formula_like_labels_as_text() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(VARIABLES, "a:b/c"))).active
    assert sheet.title == "a b c" and sheet.max_row == 3
    cell = sheet.cell(row=3, column=3)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","click")'


def test_json_keeps_categories_structured() -> None:
    rows = json.loads(to_json(VARIABLES))
    assert rows[0]["categories"] == [{"value": "1", "label": "Yes"},
                                     {"value": "9", "label": "Missing", "missing": True}]
