"""Score any table of item pairs with the full matcher: a TSV in, the same rows out with a
`score` (construct equivalence, direction-free) and a `polarity` (+1/-1) column.

This is how a pair benchmark, or a user's own list of candidate pairs, gets the product's answer.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from discovery.errors import DiscoveryError
from discovery.harmonise.matcher import Matcher, Progress

REQUIRED = ("text_1", "text_2")
ADDED = ("score", "polarity")


def read_pairs(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The TSV's columns and rows; a missing column or a broken row stops with a clear error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DiscoveryError("no such file", file=str(path), hint="check the path") from None
    except UnicodeDecodeError as error:
        raise DiscoveryError(f"not UTF-8 text: {error.reason}", file=str(path),
                             hint="save the table as UTF-8 TSV") from None
    reader = csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = list(reader.fieldnames or [])
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise DiscoveryError(f"missing column {', '.join(missing)}", file=str(path),
                             hint="the first line must be tab-separated headers including text_1 and "
                                  f"text_2; found: {', '.join(columns) or 'no header'}")
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row or any(row[column] is None for column in REQUIRED):
            raise DiscoveryError("row has a different number of fields from the header",
                                 file=str(path), record=f"line {number}", hint="check the tabs")
        rows.append(row)
    return columns, rows


def score_rows(rows: list[dict[str, str]], matcher: Matcher,
               progress: Progress | None = None) -> list[dict[str, str]]:
    scores, polarity = matcher.score_pairs([r["text_1"] for r in rows], [r["text_2"] for r in rows],
                                           progress)
    return [{**row, "score": f"{score:.4f}", "polarity": str(int(sign))}
            for row, score, sign in zip(rows, scores, polarity, strict=True)]


def write_pairs(columns: list[str], rows: list[dict[str, str]], path: Path | None) -> str:
    """The rows as TSV, input columns first in their order; written to `path` when given."""
    fields = [column for column in columns if column not in ADDED] + list(ADDED)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, delimiter="\t", quoting=csv.QUOTE_NONE,
                            escapechar="\\", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if path is not None:
        path.write_text(out.getvalue(), encoding="utf-8")
    return out.getvalue()
