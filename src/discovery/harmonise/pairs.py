"""Score any table of item pairs with the full matcher: a TSV in, the same rows out with a
`score` (the matcher's ranking number, learned from the parts' similarities), its two parts
`equivalence` (the same question, direction-free) and `relatedness` (constructs that go together),
and a `polarity` column: +1 same direction, -1 reverse-code, 0 direction unclear.

This is how a pair benchmark, or a user's own list of candidate pairs, gets the product's answer;
a labelled table can also be split into a tuning half and a check half, by item.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from discovery.errors import DiscoveryError
from discovery.harmonise.matcher import Matcher, Progress

REQUIRED = ("text_1", "text_2")
ADDED = ("score", "equivalence", "relatedness", "polarity")


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
    scored = matcher.score_pairs([r["text_1"] for r in rows], [r["text_2"] for r in rows], progress)
    return [{**row, "score": f"{score:.4f}", "equivalence": f"{equivalence:.4f}",
             "relatedness": f"{relatedness:.4f}", "polarity": str(int(sign))}
            for row, score, equivalence, relatedness, sign
            in zip(rows, scored.score, scored.equivalence, scored.relatedness, scored.polarity,
                   strict=True)]


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


def split_halves(left: Sequence[str], right: Sequence[str], labels: Sequence[float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The row numbers of a tuning half and a check half of a pair table, split by item so that no
    text is in both: a pair whose texts fell in different halves is in neither (`text_parts`)."""
    part = text_parts(left, right, labels, 2)
    a_part = np.array([part[" ".join(t.split())] for t in left], dtype=np.int8)
    b_part = np.array([part[" ".join(t.split())] for t in right], dtype=np.int8)
    return (np.flatnonzero((a_part == 0) & (b_part == 0)),
            np.flatnonzero((a_part == 1) & (b_part == 1)))


def text_parts(left: Sequence[str], right: Sequence[str], labels: Sequence[float], parts: int,
               seed: str = "") -> dict[str, int]:
    """Each text's part (0 to `parts` - 1), texts compared with their white space collapsed.

    Texts joined by a pair labelled 1 in a 0/1 table (the same construct) go to the same part, so
    a part asks about constructs the others never saw; in a graded table each text stands alone.
    Groups are taken in the order of the BLAKE2b digest of `seed` and their first text and each is
    given to the part with fewest texts so far (ties to the lower part): deterministic, balanced,
    label-blind. Two parts and no seed are `split_halves`' tuning and check halves."""
    left, right = [" ".join(t.split()) for t in left], [" ".join(t.split()) for t in right]
    texts = sorted({*left, *right})
    parent = {text: text for text in texts}

    def root(text: str) -> str:
        while parent[text] != text:
            parent[text] = parent[parent[text]]
            text = parent[text]
        return text

    values = set(labels)
    if values <= {0.0, 1.0}:
        for a, b, label in zip(left, right, labels, strict=True):
            if label == 1.0:
                first, second = sorted((root(a), root(b)))
                parent[second] = first
    groups: dict[str, list[str]] = {}
    for text in texts:
        groups.setdefault(root(text), []).append(text)
    order = sorted(groups.values(), key=lambda group: hashlib.blake2b(
        (seed + min(group)).encode("utf-8"), digest_size=8).digest())
    part: dict[str, int] = {}
    sizes = [0] * parts
    for group in order:
        chosen = sizes.index(min(sizes))
        sizes[chosen] += len(group)
        part.update(dict.fromkeys(group, chosen))
    return part
