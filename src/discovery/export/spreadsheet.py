"""Cells for spreadsheets from hostile metadata."""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What XML 1.0, and so an XLSX cell, cannot hold (and lone surrogates, which UTF-8 cannot): openpyxl
# refuses the whole workbook over one such character, so a record carrying one made its study's
# variables.xlsx fail on every request.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(value: Any) -> Any:
    """A text without the control characters an XLSX cell cannot hold (tab and newlines stay)."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    return value


def spreadsheet_safe(value: Any) -> Any:
    """A printable text; one starting like a formula gets a leading quote, so a spreadsheet shows
    it, not runs it."""
    value = printable(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
