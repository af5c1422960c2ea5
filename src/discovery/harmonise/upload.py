"""Questionnaires handed to the harmonise page: uploaded files and pasted text, read by the same
parsers as `discovery harmonise` and ingest, plus what a person needs to correct the reading of
a table: its first rows, which row is the header, which column holds the item text and which
the response options.

A table's header is found by name first (the tabular parser's column names). When no row names a
text column, the columns are guessed from the cells (the item text is long, distinct and worded;
response options repeat from row to row or list choices split by "/", "|" or ";"), and the first
row is a header when it does not look like the rows under it: a word above a column of numbers,
a label above options that repeat, or a short label above long questions. A header read as an
item would match the other instrument's header at 1.00, so guessing errs towards a header.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from statistics import median

from discovery.errors import DiscoveryError, ParseError
from discovery.harmonise.items import (
    Instrument,
    Item,
    instrument_from_text,
    instruments_from_document,
    instruments_from_records,
    pasted_instrument,
)
from discovery.sources import tabular
from discovery.sources.base import Document
from discovery.sources.budgets import Budget, spending
from discovery.sources.tabular import Columns, Grid

MAX_UPLOAD_BYTES = 1_000_000  # all files of one request together: the app reads 2 MB bodies at most
MAX_FILES = 20
MAX_NAME = 120
PREVIEW_ROWS = 6  # rows of a table shown to choose its columns by
SCAN_ROWS = 40  # rows the column guess reads
HEADER_ROWS = tabular.HEADER_SEARCH_ROWS  # the header may be any of the first rows
MAX_PREVIEW_CELL = 120
MAX_CHOICE_COLUMNS = 50
# One page request parses each file under a tighter budget than ingest's 30 s floor.
UPLOAD_BUDGET = Budget(seconds=10.0, seconds_per_mb=5.0)
TABLE_SUFFIXES = tabular.CSV_SUFFIXES + tabular.XLSX_SUFFIXES
DOCUMENT_SUFFIXES = (".pdf", ".txt", ".jsonl", ".ndjson")
ACCEPTED = TABLE_SUFFIXES + DOCUMENT_SUFFIXES
CHOICE_SEPARATORS = re.compile(r"[/|;]")
NUMBERISH = re.compile(r"^\s*(?:Q|Item\s*)?[A-Za-z]?\d{1,4}[a-z]?[.):]?\s*$", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it: a base name (never a path) and its bytes."""

    name: str
    content: bytes

    @property
    def key(self) -> str:
        """Names the file's fields in the form; stable while other files come and go."""
        digest = hashlib.sha256(self.name.encode("utf-8") + b"\0" + self.content).hexdigest()
        return "u" + digest[:12]


@dataclass
class Table:
    """One table of a source (a CSV, a pasted CSV, a workbook's sheet) and its chosen columns."""

    key: str  # form field suffix: "<source key>.<table number>"
    label: str
    sheet: str
    rows: list[list[str]]  # the first rows, cut for showing
    width: int
    guessed: Columns
    columns: Columns | None  # None: the person chose to leave this table out
    header_choices: int  # rows that may be chosen as the header


@dataclass
class Source:
    """What one upload or pasted box gave: instruments, tables to choose columns in, or an error."""

    key: str
    name: str
    instruments: list[Instrument] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    error: DiscoveryError | None = None


def safe_name(raw: str) -> str:
    """A browser's file name as a base name without control characters, short enough to show."""
    base = PurePosixPath(raw.replace("\\", "/")).name
    text = CONTROL.sub("", unicodedata.normalize("NFC", base)).strip()
    if len(text) > MAX_NAME:
        stem, dot, suffix = text.rpartition(".")
        text = (stem[:MAX_NAME - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 10 \
            else text[:MAX_NAME]
    return text or "upload"


def check_uploads(uploads: list[Upload]) -> None:
    """Refuse too many files, too many bytes, or a kind of file no parser reads, naming the file."""
    if len(uploads) > MAX_FILES:
        raise DiscoveryError(f"{len(uploads)} files; one request can take at most {MAX_FILES}")
    total = sum(len(upload.content) for upload in uploads)
    if total > MAX_UPLOAD_BYTES:
        sizes = ", ".join(f"{u.name} {len(u.content):,}" for u in uploads)
        raise DiscoveryError(f"the files hold {total:,} bytes together, over the "
                             f"{MAX_UPLOAD_BYTES:,}-byte limit ({sizes})",
                             hint="upload fewer or smaller files, or run `discovery harmonise` "
                                  "on your own machine")
    for upload in uploads:
        if not upload.name.lower().endswith(ACCEPTED):
            raise ParseError("not a kind of file the harmoniser reads", file=upload.name,
                             hint="give CSV, TSV, XLSX, PDF, plain text (.txt) or JSON Lines")
        if not upload.content.strip():
            raise ParseError("the file is empty", file=upload.name)


def read_upload(upload: Upload, choices: Mapping[str, str]) -> Source:
    """An uploaded file's instruments; a table's columns as `choices` say, else as guessed."""
    doc = Document(location=upload.name, content=upload.content)
    if upload.name.lower().endswith(TABLE_SUFFIXES):
        return _read_tables(upload.key, upload.name, doc, choices)
    source = Source(upload.key, upload.name)
    try:
        with spending(UPLOAD_BUDGET):
            source.instruments = instruments_from_document(doc)
    except DiscoveryError as error:
        source.error = error
    return source


def read_pasted(key: str, name: str, text: str, choices: Mapping[str, str]) -> Source:
    """A pasted box: a table when its lines are one (a header row is then never an item),
    else items one per line as the text parser reads them."""
    doc = Document(location=f"{name}.csv", content=text.encode("utf-8"))
    if _is_table(doc):
        source = _read_tables(key, name, doc, choices)
        if len(source.instruments) == 1:  # the box's name, unless an instrument column names several
            source.instruments = [pasted_instrument(name, source.instruments[0].items)]
        return source
    source = Source(key, name)
    try:
        with spending(UPLOAD_BUDGET):
            source.instruments = [instrument_from_text(text, name)]
    except DiscoveryError as error:
        source.error = error
    return source


def _is_table(doc: Document) -> bool:
    """A header the tabular parser knows, or every line cut into the same two or more cells by
    a tab, semicolon or bar (or three or more by commas, which prose has too)."""
    head = doc.content[:8192].decode("utf-8", "ignore")
    if tabular.sniff(doc, head):
        return True
    lines = [line for line in head.splitlines() if line.strip()][:tabular.HEADER_SEARCH_ROWS * 2]
    if len(lines) < 2:
        return False
    for delimiter, least in (("\t", 2), (";", 2), ("|", 2), (",", 3)):
        widths = {len(line.split(delimiter)) for line in lines}
        if len(widths) == 1 and widths.pop() >= least:
            return True
    return False


def _read_tables(key: str, name: str, doc: Document, choices: Mapping[str, str]) -> Source:
    source = Source(key, name)
    try:
        with spending(UPLOAD_BUDGET):
            grids = [grid for grid in tabular.grids(doc, SCAN_ROWS) if any(any(r) for r in grid.rows)]
            if not grids:
                raise doc.fail("no rows with text in the file")
            chosen: dict[str, Columns | None] = {}
            for number, grid in enumerate(grids):
                table = _table(f"{key}.{number}", name, grid, choices)
                source.tables.append(table)
                chosen[grid.sheet] = table.columns
            if all(columns is None for columns in chosen.values()):
                return source
            result = tabular.parse(doc, chosen)
            source.instruments = [worded for instrument in instruments_from_records(result.records, name)
                                  if (worded := _worded(instrument)).items]
            if not source.instruments:
                raise doc.fail("no rows with text in the chosen item column",
                               hint="choose the column that holds the questions")
    except DiscoveryError as error:
        source.error = error
    return source


def _worded(instrument: Instrument) -> Instrument:
    """Without cells that hold no word (codes, dashes, "n/a" rows' numbers): nothing to match."""
    instrument.items = [item for item in instrument.items if any(ch.isalpha() for ch in item.text)]
    return instrument


def _table(key: str, name: str, grid: Grid, choices: Mapping[str, str]) -> Table:
    """A table to choose columns in: at most MAX_CHOICE_COLUMNS columns (a page of a thousand
    selects helps nobody), its first rows down to a few under the header."""
    grid.rows = [row[:MAX_CHOICE_COLUMNS] for row in grid.rows]
    grid.roles = {role: index for role, index in grid.roles.items() if index < MAX_CHOICE_COLUMNS}
    if "text" not in grid.roles:
        grid.header_row, grid.roles = 0, {}
    width = max((len(row) for row in grid.rows), default=0)
    guessed = guess_columns(grid)
    columns = chosen_columns(key, choices, guessed, width, name)
    header = max(guessed.header_row, columns.header_row if columns else 0)
    shown = [[cell if len(cell) <= MAX_PREVIEW_CELL else cell[:MAX_PREVIEW_CELL - 1] + "\u2026"
              for cell in row] + [""] * (width - len(row))
             for row in grid.rows[:max(PREVIEW_ROWS, header + PREVIEW_ROWS - 1)]]
    label = name if not grid.sheet else f"{name}, sheet {grid.sheet}"
    return Table(key, label, grid.sheet, shown, width, guessed, columns,
                 min(HEADER_ROWS, len(grid.rows)))


def chosen_columns(key: str, choices: Mapping[str, str], guessed: Columns, width: int,
                   name: str) -> Columns | None:
    """The columns the form chose for table `key` (fields header.KEY, text.KEY, options.KEY),
    each falling back to the guess when the form does not name it; text "" leaves the table out."""
    def number(field: str, default: int | None, low: int, high: int) -> int | None:
        value = choices.get(f"{field}.{key}")
        if value is None:
            return default
        if value == "":
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            raise ParseError(f"the {field} choice {value[:20]!r} is not one of the table's",
                             file=name, hint="choose again from the lists")
        return int(value)

    header = number("header", guessed.header_row, 0, HEADER_ROWS)
    text = number("text", guessed.text, 0, max(width - 1, 0))
    options = number("options", guessed.options, 0, max(width - 1, 0))
    if text is None:
        return None
    return Columns(header or 0, text, None if options == text else options,
                   guessed.number if guessed.number not in (text, options) else None)


def guess_columns(grid: Grid) -> Columns:
    """The columns a header names; else the guess from cells described in the module's docstring."""
    if grid.header_row:
        roles = grid.roles
        return Columns(grid.header_row, roles["text"], roles.get("options"), roles.get("number"))
    rows = [row for row in grid.rows if any(row)]
    first = next((n for n, row in enumerate(grid.rows, start=1) if any(row)), 1)
    body = rows[1:] or rows
    width = max((len(row) for row in rows), default=1)
    columns = [[row[c] for row in body if c < len(row) and row[c]] for c in range(width)]
    text = max(range(width), key=lambda c: _wordiness(columns[c]))
    options = max((c for c in range(width) if c != text), key=lambda c: _choiciness(columns[c]),
                  default=None)
    if options is not None and _choiciness(columns[options]) <= 0:
        options = None
    number = next((c for c in range(width) if c not in (text, options) and columns[c]
                   and all(NUMBERISH.match(v) for v in columns[c])), None)
    header = first if len(rows) > 1 and _is_header(rows[0], columns, text, options, number) else 0
    return Columns(header, text, options, number)


def _wordiness(values: list[str]) -> float:
    """Long, distinct values with letters: questions; repeated scales and codes score low."""
    worded = [v for v in values if any(ch.isalpha() for ch in v)]
    if not worded:
        return 0.0
    distinct = len(set(worded)) / len(worded)
    return distinct ** 2 * (len(worded) / max(len(values), 1)) * median(len(v) for v in worded)


def _choiciness(values: list[str]) -> float:
    """Worded values that repeat row after row, or that list choices split by / | ;."""
    worded = [v for v in values if any(ch.isalpha() for ch in v)]
    if not worded:
        return 0.0
    repeated = 1 - len(set(worded)) / len(worded) if len(worded) > 1 else 0.0
    split = sum(bool(CHOICE_SEPARATORS.search(v)) for v in worded) / len(worded)
    return max(repeated, split) * len(worded) / max(len(values), 1)


def _is_header(row: list[str], columns: list[list[str]], text: int, options: int | None,
               number: int | None) -> bool:
    def cell(index: int | None) -> str:
        return row[index] if index is not None and index < len(row) else ""

    if number is not None and cell(number) and not NUMBERISH.match(cell(number)):
        return True  # a word above a column of numbers
    if options is not None and cell(options) and len(set(columns[options])) == 1 \
            and len(columns[options]) > 1 and cell(options) != columns[options][0]:
        return True  # a label above one repeated scale
    lengths = [len(v) for v in columns[text]]
    head = cell(text)
    return bool(head) and bool(lengths) and not head.rstrip().endswith("?") \
        and len(head.split()) <= 3 and len(head) * 2 < median(lengths)


def distinct(instruments: list[Instrument], names: list[str]) -> list[Instrument]:
    """The instruments under `names` (made unique by the caller); an item id met before (the
    same file twice) gets its instrument's position in front, so the crosswalk keeps both."""
    result, seen = [], set()
    for position, (instrument, name) in enumerate(zip(instruments, names, strict=True), start=1):
        items = []
        for item in instrument.items:
            key = item.id if item.id not in seen else f"{position}:{item.id}"
            seen.add(key)
            items.append(Item(key, item.text, name, item.number, item.options))
        result.append(Instrument(instrument.id, name, instrument.source, items))
    return result
