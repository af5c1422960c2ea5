"""Cells for spreadsheets from hostile metadata."""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text starting like a formula gets a leading quote, so a spreadsheet shows it, not runs it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
