"""Spreadsheets of questions or variables: CSV/TSV and XLSX.

Two shapes share the same columns, recognised by header names whatever their case or spelling:
a questionnaire (question number, text, options; Harmony's instrument sheets) becomes an
Instrument with its Questions, one per file, per sheet or per value of an instrument column;
a variable list (it has a variable-name column) becomes Variables grouped under one Study per
value of its study column.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import count, islice
from typing import Any

from openpyxl import load_workbook

from discovery.errors import DiscoveryError, UnsafeInputError
from discovery.model import (
    ParseResult, Predicate, Problem, Provenance, Relation, Study, Text, Variable, child_id, slug,
)
from discovery.sources.base import MAX_DOCUMENT_BYTES, MAX_FIELD_CHARS, Document, clean, decode_text
from discovery.sources.budgets import Meter, metered
from discovery.sources.questionnaire import (
    Item, Questionnaire, at_record, categories, file_suffix, instrument_records, item_number,
    language_of, readable_stem, small_extra, split_options, unique_id,
)
from discovery.sources.titles import named_collection

FORMAT = "tabular"

MAX_ROWS = 2_000_000
MAX_COLUMNS = 1_000  # cells further right are ignored (and reported): Excel allows 16,384
HEADER_SEARCH_ROWS = 10  # a title line or two may sit above the header
# csv.Sniffer's quote regexes are quadratic: 60 KB of `,"` took 16 s, 4,096 characters 0.1-0.2 s
SNIFF_CHARS = 4096
# Zip parts are measured from the central directory before openpyxl inflates anything: 0.1-0.8 MB
# bombs of 60-340 MB of sheet or shared-string XML took 14-212 s and up to 1.9 GB. Real workbooks
# deflate 4-10 to 1 (the corpus's: 4.7 and 6.0); zipfile never inflates past a part's declared size.
MAX_XLSX_INFLATED_BYTES = 256 * 1024 * 1024
MAX_XLSX_RATIO = 100
XLSX_RATIO_FROM_BYTES = 1024 * 1024  # small parts (styles, themes) may deflate further
CSV_SUFFIXES = (".csv", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = "\t,;|"
GENERIC_SHEET = re.compile(r"^(?:sheet|tabelle|feuil|hoja|foglio|planilha|blad|ark)\s*\d*$", re.I)

COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "text": ("question", "question text", "text", "item", "item text", "label", "variable label",
             "question label", "question wording", "wording", "prompt"),
    "number": ("number", "no", "nr", "#", "question no", "question number", "question nr",
               "question #", "item number", "item no", "item #", "q no", "qno", "id",
               "question id", "item id"),
    "name": ("variable", "variable name", "var", "varname", "var name", "name", "item name",
             "variable id", "field name"),
    "options": ("options", "responses", "response options", "response categories", "categories",
                "answers", "answer options", "choices", "values", "value labels",
                "response scale"),
    "study": ("study", "study name", "source", "dataset", "survey", "survey name", "cohort"),
    "instrument": ("instrument", "instrument name", "scale", "scale name", "questionnaire",
                   "questionnaire name", "measure", "measure name"),
    "topic": ("topic", "topics", "construct", "constructs", "domain", "concept"),
    "year": ("year", "wave", "sweep"),
    "intro": ("intro", "introduction", "instructions", "instruction", "preamble",
              "question intro"),
    "notes": ("notes", "note", "comments", "comment", "description"),
}
_ROLE_OF = {name: role for role, names in COLUMN_NAMES.items() for name in names}
_PREFIX_NAMES = sorted((name for name in _ROLE_OF if " " in name), key=len, reverse=True)
_TOPIC_SEPARATOR = re.compile(r"\s*[;|,]\s*")

Rows = Iterator[tuple[int, list[str]]]  # (row number, cells)


@dataclass
class Table:
    """One sheet (or the CSV): its title, which column plays which role, its rows."""

    title: str
    record_prefix: str  # "" for a CSV, "Sheet name!" for a sheet, so row keys name the sheet
    roles: dict[str, int]
    rows: Rows
    meter: Meter  # rows are read, and records made, under the document's budget
    extra_columns: dict[int, str] = field(default_factory=dict)

    def cell(self, cells: list[str], role: str) -> str:
        index = self.roles.get(role)
        return cells[index] if index is not None and index < len(cells) else ""


# ---------------------------------------------------------------- sniff

def sniff(doc: Document, head: str) -> bool:
    suffix = file_suffix(doc.location)
    if suffix in XLSX_SUFFIXES:
        return head.startswith("PK")
    if suffix not in CSV_SUFFIXES:
        return False
    # question-pair benchmarks are claimed only to say clearly what they are and where they go
    return _csv_header(head) is not None or _is_pair_benchmark(head)


def _is_pair_benchmark(head: str) -> bool:
    first = head.split("\n", 1)[0].lower().replace(",", "\t").split("\t")
    return {"text_1", "text_2"} <= {cell.strip() for cell in first}


# ---------------------------------------------------------------- parse

@dataclass(frozen=True)
class Columns:
    """Columns chosen by a person rather than by header names (the harmonise page's choice):
    rows up to `header_row` are skipped (0: the table has no header row)."""

    header_row: int
    text: int
    options: int | None = None
    number: int | None = None

    def roles(self) -> dict[str, int]:
        chosen = {"text": self.text, "options": self.options, "number": self.number}
        return {role: index for role, index in chosen.items() if index is not None}


@dataclass
class Grid:
    """The first rows of one table (the CSV, or one sheet), as the parser reads them, with the
    header row and roles it finds by name (0 and {} when no row names a text column)."""

    sheet: str  # "" for a CSV
    rows: list[list[str]]  # rows 1, 2, ... of the table
    header_row: int
    roles: dict[str, int]


@metered
def parse(doc: Document, chosen: dict[str, Columns | None] | None = None) -> ParseResult:
    """Records of a CSV or workbook; `chosen` maps a sheet's name ("" for a CSV) to columns
    picked by hand, which then replace what the header's names say (None: skip that sheet)."""
    _check_size(doc)
    meter = Meter(doc)
    if _is_workbook(doc):
        return _parse_workbook(doc, meter, chosen or {})
    return _parse_csv(doc, meter, (chosen or {}).get(""))


@metered
def grids(doc: Document, rows: int) -> list[Grid]:
    """The first `rows` rows of each table in the file, for choosing its columns by hand."""
    _check_size(doc)
    meter = Meter(doc)
    if not _is_workbook(doc):
        text = decode_text(doc)
        sniffed = _csv_header(text[:65536])
        dialect = sniffed[0] if sniffed else _csv_dialect(text[:65536])
        csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS + 1))
        reader = _limited(doc, meter, enumerate(csv.reader(io.StringIO(text), dialect), start=1), "")
        head = [[cell.strip() for cell in cells] for _, cells in islice(reader, rows)]
        header = sniffed[1] if sniffed else 0
        return [Grid("", head, header, column_roles(head[header - 1]) if header else {})]
    workbook = _open_workbook(doc)
    result = ParseResult()
    try:
        found: list[Grid] = []
        for sheet in workbook.worksheets:
            if (sheet.max_column or 0) > MAX_COLUMNS:
                sheet.reset_dimensions()
            reader = _limited(doc, meter, _sheet_rows(doc, sheet, result), f"{sheet.title}!")
            head = [cells for _, cells in islice(reader, rows)]
            header = next((n for n, cells in enumerate(head[:HEADER_SEARCH_ROWS], start=1)
                           if "text" in column_roles(cells)), 0)
            found.append(Grid(sheet.title, head, header,
                              column_roles(head[header - 1]) if header else {}))
        return found
    finally:
        workbook.close()


def _check_size(doc: Document) -> None:
    if _is_pair_benchmark(doc.content[:2000].decode("utf-8", "ignore")):
        raise doc.fail("a question-pair benchmark (text_1, text_2), not catalogue metadata",
                       hint="score it with the matcher (bench/matching.py), do not ingest it")
    if len(doc.content) > MAX_DOCUMENT_BYTES:
        raise UnsafeInputError(f"document is {len(doc.content)} bytes, over the "
                               f"{MAX_DOCUMENT_BYTES} limit", file=doc.location)


def _is_workbook(doc: Document) -> bool:
    return file_suffix(doc.location) in XLSX_SUFFIXES or doc.content[:2] == b"PK"


def _parse_csv(doc: Document, meter: Meter, chosen: Columns | None = None) -> ParseResult:
    """The CSV's records, its columns named by its header or `chosen` by hand."""
    text = decode_text(doc)
    found = _csv_header(text[:65536])
    if chosen is not None:
        dialect = found[0] if found else _csv_dialect(text[:65536])
        header_row = chosen.header_row
    elif found is None:
        raise doc.fail("no question or text column in the header",
                       hint="name a column question, text, item or label (and optionally "
                            "number, options, variable, study, instrument, topic)")
    else:
        dialect, header_row, header = found
    # let csv hand over cells up to our own limit, so that _limited can name the row
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS + 1))
    reader = csv.reader(io.StringIO(text), dialect)
    rows = _limited(doc, meter, _skip(enumerate(reader, start=1), header_row), "")
    title = readable_stem(doc.location)
    table = _table(title, "", header, rows, meter) if chosen is None else \
        Table(title=title, record_prefix="", roles=chosen.roles(), rows=rows, meter=meter)
    provenance = doc.provenance("tabular-tsv" if dialect.delimiter == "\t" else "tabular-csv")
    result = _parse_table(table, provenance, set())
    if not result.records:
        raise doc.fail("no rows with text under the header", hint=_first_reason(result))
    return result


def _open_workbook(doc: Document) -> Any:
    try:
        _check_inflation(doc)
        return load_workbook(io.BytesIO(doc.content), read_only=True, data_only=True)
    except (DiscoveryError, MemoryError):
        raise
    except Exception as error:  # openpyxl passes on whatever zipfile, zlib and its XML reader raise
        raise doc.fail(f"not a readable XLSX workbook: {error}",
                       hint="save it again as .xlsx (Excel 2007 or later)") from None


def _parse_workbook(doc: Document, meter: Meter, chosen: dict[str, Columns | None]) -> ParseResult:
    workbook = _open_workbook(doc)
    result = ParseResult()
    provenance = doc.provenance("tabular-xlsx")
    taken: set[str] = set()
    try:
        sheets = workbook.worksheets
        for sheet in sheets:
            title = _sheet_title(doc, sheet.title, len(sheets))
            prefix = f"{sheet.title}!"
            if (sheet.max_column or 0) > MAX_COLUMNS:  # a dimension padding every row to XFD
                sheet.reset_dimensions()
            if sheet.title in chosen and chosen[sheet.title] is None:
                continue
            rows = _limited(doc, meter, _sheet_rows(doc, sheet, result), prefix)
            columns = chosen.get(sheet.title)
            table = _find_table(title, prefix, rows, meter) if columns is None else \
                Table(title=title, record_prefix=prefix, roles=columns.roles(),
                      rows=_skip(rows, columns.header_row), meter=meter)
            if table is None:
                result.problems.append(Problem(record=sheet.title,
                                               reason="no question or text column in the header"))
                continue
            result.extend(_parse_table(table, provenance, taken))
    finally:
        workbook.close()
    if not result.records:
        raise doc.fail("no sheet holds rows of questions or variables",
                       hint=_first_reason(result))
    return result


def _check_inflation(doc: Document) -> None:
    """Refuse a workbook whose parts would inflate past what any real workbook needs."""
    with zipfile.ZipFile(io.BytesIO(doc.content)) as archive:
        parts = archive.infolist()
    total = sum(part.file_size for part in parts)
    if total > MAX_XLSX_INFLATED_BYTES:
        raise UnsafeInputError(
            f"workbook inflates to {total:,} bytes, over the {MAX_XLSX_INFLATED_BYTES:,} limit; "
            "refused", file=doc.location, hint="split the workbook, or export it as CSV")
    for part in parts:
        if part.file_size > XLSX_RATIO_FROM_BYTES and \
                part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1):
            raise UnsafeInputError(
                f"{part.filename} inflates {part.file_size // max(part.compress_size, 1):,} to 1 "
                f"({part.file_size:,} bytes); real workbooks deflate about 5 to 1; refused as a "
                "zip bomb", file=doc.location, record=part.filename,
                hint="if the workbook is genuine, export it as CSV")


def _sheet_rows(doc: Document, sheet: Any, result: ParseResult) -> Rows:
    """A sheet's rows as text cells, cut at MAX_COLUMNS (a cut row is reported once). A part
    that fails its CRC, its deflate stream or its XML only fails when read, with whatever
    exception zipfile, zlib or the XML reader raises: the sheet is unreadable."""
    cut = False
    rows = sheet.iter_rows(values_only=True)
    for number in count(1):
        try:
            values = next(rows, None)
        except MemoryError:
            raise
        except Exception as error:
            raise doc.fail(f"not a readable XLSX sheet: {type(error).__name__}: {error}",
                           record=f"{sheet.title}!row {number}",
                           hint="save it again as .xlsx (Excel 2007 or later)") from None
        if values is None:
            return
        if len(values) > MAX_COLUMNS:
            if not cut and any(value is not None for value in values[MAX_COLUMNS:]):
                cut = True
                result.problems.append(Problem(
                    record=f"{sheet.title}!row {number}",
                    reason=f"cells right of column {MAX_COLUMNS:,} ignored in this sheet"))
            values = values[:MAX_COLUMNS]
        yield number, [_cell_text(value) for value in values]


def _sheet_title(doc: Document, sheet_title: str, sheet_count: int) -> str:
    """The sheet's name names the instrument, unless it is Excel's "Sheet1"."""
    if not GENERIC_SHEET.match(sheet_title.strip()):
        return sheet_title.strip()
    stem = readable_stem(doc.location)
    return stem if sheet_count == 1 else f"{stem} {sheet_title.strip()}"


def _first_reason(result: ParseResult) -> str | None:
    return result.problems[0].reason if result.problems else None


# ---------------------------------------------------------------- header and rows

def _csv_header(sample: str) -> tuple[Any, int, list[str]] | None:
    """The dialect, header row number and header of a delimited text, if a column holds text.

    Question texts are full of commas, so csv.Sniffer can guess a comma in a tab-separated
    file: its guess competes with each usual delimiter, and the reading whose header names the
    most roles (then has the most columns) wins; the Sniffer's guess wins ties."""
    head = "\n".join(sample.splitlines()[:HEADER_SEARCH_ROWS * 4])
    dialects: list[Any] = []
    try:
        dialects.append(csv.Sniffer().sniff(head[:SNIFF_CHARS], delimiters=DELIMITERS))
    except csv.Error:
        pass
    dialects += [_Delimited(delimiter) for delimiter in DELIMITERS]
    best: tuple[tuple[int, int], Any, int, list[str]] | None = None
    for dialect in dialects:
        rows = list(csv.reader(io.StringIO(head), dialect))[:HEADER_SEARCH_ROWS]
        for row_number, cells in enumerate(rows, start=1):
            roles = column_roles(cells)
            if "text" in roles:
                score = (len(roles), len(cells))
                if best is None or score > best[0]:
                    best = (score, dialect, row_number, [clean(cell) or "" for cell in cells])
                break
    return best[1:] if best else None


def _csv_dialect(sample: str) -> Any:
    """The delimiter of a text whose header names no column: the one that splits the most of
    the first rows into the same number (more than one) of cells; a comma when none does."""
    lines = sample.splitlines()[:HEADER_SEARCH_ROWS * 2]

    def steady(delimiter: str) -> int:
        widths = [len(cells) for cells in csv.reader(lines, _Delimited(delimiter)) if any(cells)]
        common = max(set(widths), key=widths.count, default=1)
        return widths.count(common) if common > 1 else 0

    best = max(DELIMITERS, key=steady)
    return _Delimited(best if steady(best) else ",")


class _Delimited(csv.excel):
    def __init__(self, delimiter: str) -> None:
        super().__init__()
        self.delimiter = delimiter


def column_roles(header: list[str]) -> dict[str, int]:
    """Which column plays which role, from header names: exact names first, then a header that
    starts with a longer name ("response_categories_cleaned" -> options). First column wins."""
    roles: dict[str, int] = {}
    names = [_normalise(cell) for cell in header]
    for index, name in enumerate(names):
        role = _ROLE_OF.get(name)
        if role and role not in roles:
            roles[role] = index
    for index, name in enumerate(names):
        if index in roles.values() or name in _ROLE_OF:
            continue
        role = next((_ROLE_OF[prefix] for prefix in _PREFIX_NAMES
                     if name.startswith(prefix + " ")), None)
        if role and role not in roles:
            roles[role] = index
    return roles


def _normalise(header: str | None) -> str:
    return " ".join(re.sub(r"[_\-.:]+", " ", (header or "").lower()).split())


def _find_table(title: str, prefix: str, rows: Rows, meter: Meter) -> Table | None:
    """The header is the first of the first few non-empty rows that names a text column."""
    seen = 0
    for _, cells in rows:
        if not any(cells):
            continue
        if "text" in column_roles(cells):
            return _table(title, prefix, cells, rows, meter)
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            return None
    return None


def _table(title: str, prefix: str, header: list[str], rows: Rows, meter: Meter) -> Table:
    roles = column_roles(header)
    known = set(roles.values())
    extra_columns = {index: name for index, name in enumerate(header)
                     if name and index not in known}
    return Table(title=title, record_prefix=prefix, roles=roles, rows=rows, meter=meter,
                 extra_columns=extra_columns)


def _skip(rows: Rows, header_row: int) -> Rows:
    for row_number, cells in rows:
        if row_number > header_row:
            yield row_number, [cell.strip() for cell in cells]


def _limited(doc: Document, meter: Meter, rows: Rows, prefix: str) -> Rows:
    """Rows, refusing a table with too many rows or a cell too long to be metadata, or one that
    spends the document's budget."""
    row_number = 0
    try:
        for row_number, cells in rows:
            meter.check(f"{prefix}row {row_number}")
            if row_number > MAX_ROWS:
                raise UnsafeInputError(f"more than {MAX_ROWS:,} rows; refused",
                                       file=doc.location, record=f"{prefix}row {row_number}",
                                       hint="split the file")
            for cell in cells:
                if len(cell) > MAX_FIELD_CHARS:
                    raise UnsafeInputError(
                        f"a cell of {len(cell):,} characters in row {row_number}, over the "
                        f"{MAX_FIELD_CHARS:,} limit; refused", file=doc.location,
                        record=f"{prefix}row {row_number}", hint="is a quote left open?")
            yield row_number, cells
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise UnsafeInputError(f"a cell over the {MAX_FIELD_CHARS:,} character limit in row "
                                   f"{row_number + 1}; refused", file=doc.location,
                                   record=f"{prefix}row {row_number + 1}",
                                   hint="is a quote left open?") from None
        raise doc.fail(f"malformed CSV after row {row_number}: {error}") from None


def _cell_text(value: Any) -> str:
    """A spreadsheet value as text: 1.0 -> "1", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


# ---------------------------------------------------------------- the two shapes

def _parse_table(table: Table, provenance: Provenance, taken: set[str]) -> ParseResult:
    if "name" in table.roles:
        return _variable_list(table, provenance, taken)
    return _questionnaires(table, provenance, taken)


def _rows_with(table: Table, role: str, missing: str, result: ParseResult
               ) -> Iterator[tuple[str, list[str], str]]:
    """(record, cells, value) of the non-blank rows; a row without a value in `role` is reported
    as a problem, with its cells, and skipped."""
    for row_number, cells in table.rows:
        if not any(cells):
            continue
        record = f"{table.record_prefix}row {row_number}"
        value = clean(table.cell(cells, role))
        if not value:
            result.problems.append(Problem(record=record, reason=missing, raw="\t".join(cells)[:1000]))
            continue
        yield record, cells, value


def _questionnaires(table: Table, provenance: Provenance, taken: set[str]) -> ParseResult:
    """Questions grouped by the instrument (or study) column, else one instrument per table."""
    result = ParseResult()
    groups: dict[str, Questionnaire] = {}
    group_role = "instrument" if "instrument" in table.roles else "study"
    for record, cells, text in _rows_with(table, "text", "no question text", result):
        title = clean(table.cell(cells, group_role)) or table.title
        if title not in groups:
            coded = named_collection(title)
            groups[title] = Questionnaire(
                title=coded[0] if coded else title, key=title, language=language_of(title),
                keywords=[coded[1]] if coded else [], record_key=record)
        questionnaire = groups[title]
        intro = clean(table.cell(cells, "intro"))
        questionnaire.description = questionnaire.description or intro
        extra = _extra(table, cells)
        if intro and intro != questionnaire.description:
            extra["intro"] = intro
        questionnaire.items.append(Item(
            text=text, number=item_number(table.cell(cells, "number")),
            options=split_options(table.cell(cells, "options")),
            description=clean(table.cell(cells, "notes")), keywords=_topics(table, cells),
            extra=extra, record_key=record))
    for questionnaire in groups.values():
        result.extend(instrument_records(provenance, questionnaire, taken, table.meter))
    return result


@dataclass
class _StudyGroup:
    title: str
    record_key: str
    rows: list[tuple[str, str, list[str]]] = field(default_factory=list)  # record, name, cells
    years: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    instruments: list[str] = field(default_factory=list)


def _variable_list(table: Table, provenance: Provenance, taken: set[str]) -> ParseResult:
    """Variables grouped under one Study per value of the study column (else one per table).

    A variable with no label keeps its name as title: ids and search still work on the name."""
    result = ParseResult()
    groups: dict[str, _StudyGroup] = {}
    names: dict[tuple[str, str], str] = {}
    for record, cells, name in _rows_with(table, "name", "no variable name", result):
        title = clean(table.cell(cells, "study")) or table.title
        group = groups.setdefault(title, _StudyGroup(title=title, record_key=record))
        key = (title, slug(name, max_length=60))  # as child_id will make its id
        if key in names:
            result.problems.append(Problem(record=record,
                                           reason=f"variable {name} repeats {names[key]}"))
            continue
        names[key] = record
        group.rows.append((record, name, cells))
        _note_group_facts(table, cells, group)
    for group in groups.values():
        result.extend(_study_records(table, group, provenance, taken))
    return result


def _variable(table: Table, cells: list[str], name: str, study_id: str,
              provenance: Provenance) -> Variable:
    lang = language_of(table.title)
    text = clean(table.cell(cells, "text"))
    extra = _extra(table, cells)
    for role in ("number", "instrument", "year", "intro"):
        if value := clean(table.cell(cells, role)):
            extra[role] = value
    return Variable(
        id=child_id(study_id, name), name=name, study_id=study_id, title=text or name,
        titles=[Text(value=text or name, lang=lang)],
        question_texts=[Text(value=text, lang=lang)] if text else [],
        description=clean(table.cell(cells, "notes")),
        categories=categories(split_options(table.cell(cells, "options")), lang),
        concepts=_topics(table, cells), language=[lang] if lang else [],
        provenance=provenance, extra=extra)


def _note_group_facts(table: Table, cells: list[str], group: _StudyGroup) -> None:
    for values, role in ((group.years, "year"), (group.instruments, "instrument")):
        value = clean(table.cell(cells, role))
        if value and value not in values:
            values.append(value)
    group.topics.extend(topic for topic in _topics(table, cells) if topic not in group.topics)


def _study_records(table: Table, group: _StudyGroup, provenance: Provenance,
                   taken: set[str]) -> ParseResult:
    result = ParseResult()
    study_id = unique_id(group.title, taken)
    lang = language_of(group.title)
    coded = named_collection(group.title)  # "UK.MRCLEU-UOS.SWS/<uuid>": a study code, no title
    title, titles = (coded[0], [coded[0], coded[1]]) if coded else (group.title, [group.title])
    result.records.append(Study(
        id=study_id, title=title, titles=[Text(value=text) for text in dict.fromkeys(titles)],
        temporal_coverage=_year_span(group.years), topics=group.topics,
        instruments=group.instruments, variable_count=len(group.rows),
        language=[lang] if lang else [], provenance=at_record(provenance, group.record_key)))
    for record, name, cells in group.rows:
        table.meter.check(record)
        variable = _variable(table, cells, name, study_id, at_record(provenance, record))
        result.records.append(variable)
        result.relations.append(Relation(subject=study_id, predicate=Predicate.HAS_VARIABLE,
                                         object=variable.id))
    return result


def _year_span(years: list[str]) -> str | None:
    """"2016" or "2016/2019" when the year column holds years; other wave labels say nothing."""
    numeric = sorted(year for year in years if re.fullmatch(r"\d{4}", year))
    if not numeric:
        return None
    return numeric[0] if numeric[0] == numeric[-1] else f"{numeric[0]}/{numeric[-1]}"


def _topics(table: Table, cells: list[str]) -> list[str]:
    cell = table.cell(cells, "topic")
    if not cell:
        return []
    return [topic for part in _TOPIC_SEPARATOR.split(cell) if (topic := clean(part))]


def _extra(table: Table, cells: list[str]) -> dict[str, Any]:
    return small_extra({name: cells[index] for index, name in table.extra_columns.items()
                        if index < len(cells)})
