"""A study's variables as a table, written as CSV, XLSX or JSON for download.

Cells that a spreadsheet would run as a formula (starting with = + - @ or a control character)
are written as text: in CSV with a leading apostrophe, in XLSX by typing the cell as a string.
Control characters an XLSX cell cannot hold are dropped from both.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

from discovery.export.spreadsheet import printable, spreadsheet_safe
from discovery.model import Variable

COLUMNS = ("id", "name", "label", "question", "categories", "data_type", "concepts")


def variable_row(variable: Variable) -> dict[str, Any]:
    """One row: flat text columns, categories as `value=label` pairs separated by `; `."""
    categories = "; ".join(f"{c.value}={c.label}" if c.value is not None else c.label
                           for c in variable.categories)
    return {"id": variable.id, "name": variable.name, "label": variable.title,
            "question": variable.question_text or "", "categories": categories,
            "data_type": variable.data_type or "", "concepts": "; ".join(variable.concepts)}


def to_csv(variables: Iterable[Variable]) -> bytes:
    """UTF-8 with BOM so spreadsheet programs detect the encoding of non-ASCII labels."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for variable in variables:
        row = variable_row(variable)
        writer.writerow([spreadsheet_safe(str(row[column])) for column in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(variables: Iterable[Variable], title: str = "variables") -> bytes:
    workbook = Workbook()
    sheet = workbook.worksheets[0]  # the one a new workbook starts with
    sheet.title = (title[:31] or "variables").translate({ord(c): " " for c in "[]:*?/\\"})
    sheet.append(list(COLUMNS))
    for variable in variables:
        row = variable_row(variable)
        sheet.append([printable(str(row[column])) for column in COLUMNS])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # openpyxl would otherwise store it as a formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_json(variables: Iterable[Variable]) -> bytes:
    """Full detail: categories stay structured, with codes, labels and missing flags."""
    rows = []
    for variable in variables:
        row = variable_row(variable)
        row["categories"] = [c.model_dump(exclude_defaults=True) for c in variable.categories]
        row["concepts"] = variable.concepts
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")
