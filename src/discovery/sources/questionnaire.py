"""Questionnaires: instruments and their items from text, PDF text layers and JSON Lines.

Three shapes arrive in practice: PDF->text files where someone marked questions `<q>...</q>` and
response options `<o>...</o>` by hand (Harmony's training data), plain text or PDFs with no
markup (one item per line, numbering peeled off), and Harmony's JSON Lines, where a line is a
whole instrument (`instrument_name`, `questions[]`) or a single item naming its instrument.

The helpers that turn a list of items into Instrument and Question records live here too, so
that the tabular parser builds questionnaires the same way.
"""

from __future__ import annotations

import io
import json
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import count
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, FileNotDecryptedError
from pypdf.generic import ArrayObject

from discovery.model import (
    Category, Instrument, ParseResult, Predicate, Problem, Provenance, Question, Relation, Text,
    child_id, slug,
)
from discovery.errors import DiscoveryError, UnsafeInputError
from discovery.sources.base import Document, clean, decode_text, strip_markup
from discovery.sources.budgets import Meter, metered
from discovery.sources.titles import questionnaire_title

FORMAT = "questionnaire"

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
MAX_EXTRA_CHARS = 1000  # longer source values are not kept in `extra`

Option = tuple[str | None, str]  # (value, label)


@dataclass
class Item:
    """One question as a source gives it, before it becomes a Question record."""

    text: str
    number: str | None = None
    options: list[Option] = field(default_factory=list)
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    record_key: str | None = None


@dataclass
class Questionnaire:
    """An instrument as a source gives it: a title and its items in order."""

    title: str
    items: list[Item] = field(default_factory=list)
    language: str | None = None
    key: str | None = None  # what the instrument's id derives from, when not its title
    alternative_titles: list[str] = field(default_factory=list)
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    record_key: str | None = None


# ---------------------------------------------------------------- shared with tabular

LANGUAGE_CODES = {
    "afrikaans": "af", "arabic": "ar", "bengali": "bn", "catalan": "ca", "cebuano": "ceb",
    "chinese": "zh", "czech": "cs", "danish": "da", "dutch": "nl", "english": "en",
    "estonian": "et", "finnish": "fi", "french": "fr", "german": "de", "greek": "el",
    "hebrew": "he", "hindi": "hi", "hungarian": "hu", "indonesian": "id", "irish": "ga",
    "italian": "it", "japanese": "ja", "kannada": "kn", "korean": "ko", "latvian": "lv",
    "lithuanian": "lt", "malay": "ms", "norwegian": "no", "persian": "fa", "polish": "pl",
    "portuguese": "pt", "punjabi": "pa", "romanian": "ro", "russian": "ru", "somali": "so",
    "spanish": "es", "swahili": "sw", "swedish": "sv", "tamil": "ta", "thai": "th",
    "turkish": "tr", "ukrainian": "uk", "urdu": "ur", "vietnamese": "vi", "welsh": "cy",
    "xhosa": "xh", "zulu": "zu",
}
# `[^()]` not `[^)]`: from every "English (" the latter scanned to the end (90 KB: 1.3 s)
_TRAILING_LANGUAGE = re.compile(
    r"\b(" + "|".join(LANGUAGE_CODES) + r")\b\s*(?:\([^()]*\)\s*)?$", re.IGNORECASE)


def language_of(title: str) -> str | None:
    """The language a title names at its end, as Harmony names files: "GAD-7 Portuguese",
    "SCARED English (adult)". Sources label every instrument "en" by default, so this wins."""
    match = _TRAILING_LANGUAGE.search(title)
    return LANGUAGE_CODES[match.group(1).lower()] if match else None


def file_suffix(location: str) -> str:
    return PurePosixPath(unquote(urlsplit(location).path)).suffix.lower()


def readable_stem(location: str) -> str:
    """A title from a file name: `GAD-7_Portuguese.csv` -> "GAD-7 Portuguese"."""
    stem = PurePosixPath(unquote(urlsplit(location).path)).stem
    return clean(stem.replace("_", " ")) or "untitled"


def unique_id(title: str, taken: set[str]) -> str:
    """slug(title), made unique within one document: distinct long names can share their first
    80 characters, and catalogues list one measure under spellings that slug alike."""
    candidate = slug(title)
    if candidate in taken:
        candidate = slug(title, max_length=200)
        if candidate in taken:
            base = candidate
            candidate = next(f"{base}-{n}" for n in count(2) if f"{base}-{n}" not in taken)
    taken.add(candidate)
    return candidate


_OPTION_VALUE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[=:]\s*(\S.*)$")


def split_options(cell: str | None) -> list[Option]:
    """Response options packed into one cell: "Never/Rarely/Often", "Yes; No", "1 = Yes | 2 = No".

    The separator tried first is the least likely to occur inside an option; " / " is preferred
    to a bare "/" so that "Trouble falling/staying asleep" style labels survive where possible."""
    if not cell:
        return []
    for separator in ("|", ";", "\n", " / ", "/"):
        if separator in cell:
            parts = cell.split(separator)
            break
    else:
        parts = [cell]
    return [option for part in parts if (option := parse_option(part))]


def parse_option(text: str) -> Option | None:
    """One option; a leading "1 =" or "1:" becomes its value."""
    label = clean(text)
    if not label:
        return None
    match = _OPTION_VALUE.match(label)
    return (match.group(1), match.group(2)) if match else (None, label)


_FLOAT_INTEGER = re.compile(r"^(\d+)\.0$")


def item_number(value: Any) -> str | None:
    """A question number as text; "3.0", a spreadsheet's or pandas' float for 3, becomes "3"."""
    text = plain_text(value)
    return _FLOAT_INTEGER.sub(r"\1", text) if text else None


def plain_text(value: Any) -> str | None:
    """A source value as one clean line of text; markup becomes text, entities are resolved."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    if "<" in text or "&" in text:
        text = strip_markup(text) or ""
    return clean(text)


def small_extra(values: dict[str, Any]) -> dict[str, Any]:
    """Source fields we keep but do not model: only short scalar values."""
    return {key: value for key, value in values.items()
            if value not in (None, "", [], {}) and isinstance(value, (str, int, float, bool))
            and len(str(value)) <= MAX_EXTRA_CHARS}


def instrument_records(provenance: Provenance, questionnaire: Questionnaire,
                       taken_ids: set[str], meter: Meter) -> ParseResult:
    """Instrument + Question records and HAS_QUESTION relations for one questionnaire.

    Question ids use the source's numbers when they identify the items (all present, none
    repeated); otherwise the position, so that ids never collide. `provenance` is the
    document's, made once: each record gets a copy with its own record key. Records cost about
    ten times their items, so the budget is checked here too."""
    result = ParseResult()
    lang = questionnaire.language
    instrument_id = unique_id(questionnaire.key or questionnaire.title, taken_ids)
    items = questionnaire.items
    keywords = list(dict.fromkeys(
        questionnaire.keywords + [keyword for item in items for keyword in item.keywords]))
    titles = [Text(value=title) for title in dict.fromkeys(
        [questionnaire.title, *questionnaire.alternative_titles])]
    result.records.append(Instrument(
        id=instrument_id, title=questionnaire.title, titles=titles,
        description=questionnaire.description,
        descriptions=_texts(questionnaire.description, lang), keywords=keywords,
        language=[lang] if lang else [], question_count=len(items),
        provenance=at_record(provenance, questionnaire.record_key), extra=questionnaire.extra))
    numbers_identify = _numbers_identify(items)
    for position, item in enumerate(items, start=1):
        meter.check(item.record_key)
        key = item.number if numbers_identify and item.number else str(position)
        question_id = child_id(instrument_id, key)
        result.records.append(Question(
            id=question_id, title=item.text, titles=[Text(value=item.text, lang=lang)],
            description=item.description, descriptions=_texts(item.description, lang),
            keywords=item.keywords, language=[lang] if lang else [],
            provenance=at_record(provenance, item.record_key), extra=item.extra,
            instrument_id=instrument_id, number=item.number, position=position,
            options=categories(item.options, lang)))
        result.relations.append(Relation(subject=instrument_id, predicate=Predicate.HAS_QUESTION,
                                         object=question_id))
    return result


def at_record(provenance: Provenance, record_key: str | None) -> Provenance:
    """The document's provenance for one record in it (the document is hashed once, not per
    record: Document.hash hashes all the bytes on every call)."""
    return provenance.model_copy(update={"record_key": record_key})


def categories(options: list[Option], lang: str | None) -> list[Category]:
    return [Category(value=value, label=label, lang=lang) for value, label in options]


def _texts(value: str | None, lang: str | None) -> list[Text]:
    return [Text(value=value, lang=lang)] if value else []


def _numbers_identify(items: list[Item]) -> bool:
    keys = [slug(item.number, max_length=60) for item in items if item.number]
    return len(keys) == len(items) and len(set(keys)) == len(keys)


# ---------------------------------------------------------------- sniff

_FLIGHT_LINE = re.compile(r"^[0-9a-f]{1,6}:(?:[\"\[{]|I\[|HL\[|T[0-9a-f]+,)")


def sniff(doc: Document, head: str) -> bool:
    suffix = file_suffix(doc.location)
    if head.startswith("%PDF-"):
        return True
    if suffix in JSONL_SUFFIXES:
        return head.startswith("{")
    if suffix in TEXT_SUFFIXES:
        return not _is_gtr_page(head) and not _is_flight_payload(head)
    return False


def _is_gtr_page(head: str) -> bool:
    """GtR project pages saved as text name the lead organisation right under the title."""
    return "Lead Research Organisation" in head[:3000]


def _is_flight_payload(head: str) -> bool:
    """Next.js flight payloads: lines like `1:"$Sreact.fragment"` or `2:I[82104,...]`."""
    return bool(_FLIGHT_LINE.match(head)) or "self.__next_f" in head


# ---------------------------------------------------------------- parse

@metered
def parse(doc: Document) -> ParseResult:
    meter = Meter(doc)
    if doc.content[:1024].lstrip().startswith(b"%PDF-"):
        return _parse_pdf(doc, meter)
    if file_suffix(doc.location) in JSONL_SUFFIXES:
        return _parse_jsonl(doc, meter)
    return _parse_text(doc, meter)


def _parse_text(doc: Document, meter: Meter) -> ParseResult:
    text = decode_text(doc)
    marks = _marks(text)
    items = _annotated_items(text, marks) if marks else _plain_items(text)
    if not items:
        hint = ("the file has <o> option marks but no <q> question marks" if marks
                else "expected one question per line")
        raise doc.fail("no questionnaire items found", hint=hint)
    if marks:
        header = text[:marks[0].start].splitlines()
        body = _without_marks(text, marks).splitlines()
    else:
        header, body = _plain_header(text), text.splitlines()
    questionnaire = _titled(doc, items, header, body)
    source = "questionnaire-annotated-text" if marks else "questionnaire-text"
    return instrument_records(doc.provenance(source), questionnaire, set(), meter)


def _titled(doc: Document, items: list[Item], header: list[str], body: list[str],
            metadata_title: str | None = None) -> Questionnaire:
    """A questionnaire titled by its own header (see sources/titles.py); its id still derives
    from the file name (or the PDF's metadata title), as it always has: ids must not move."""
    key = metadata_title or readable_stem(doc.location)
    named = questionnaire_title(doc.location, header, body, metadata_title)
    return Questionnaire(
        title=named.title, items=items, key=key, alternative_titles=named.alternatives,
        keywords=named.keywords, language=language_of(key) or language_of(named.title))


# --- annotated text

_MARK_TAG = re.compile(r"<(/?)([qo])>", re.IGNORECASE)
_LEFTOVER_TAG = re.compile(r"</?[qo]>", re.IGNORECASE)
_NUMBER_TOKEN = (r"(?:(?:Q|Question\s*)?[A-Z]?\d{1,3}[a-z]?[.):]?|\(?(?:[a-z]|[ivx]{2,5})[.)]"
                 r"|[A-Z]\s?[.)])")
# Atomic tokens: with backtracking, a run of 32 digits before a mark took 94 s (it tried every
# way of cutting it into 1-3 digit numbers); same matches on 300,000 random prefixes.
_NUMBER_PREFIX = re.compile(rf"^\s*(?>{_NUMBER_TOKEN})(?:\s*(?>{_NUMBER_TOKEN}))*+\s*$")
_NUMBER_PARTS = re.compile(
    r"(?:Q(?:uestion)?\s*)?([A-Z]?\d{1,3}[a-z]?)|\(?([a-z]|[ivx]{2,5})[.)]|([A-Z])\s?[.)]")
_VALUE_PREFIX = re.compile(r"^\s*(\d{1,3}[a-z]?)\s*[-.):]?\s*$")


@dataclass(frozen=True)
class _Mark:
    """A `<q>...</q>` or `<o>...</o>` span of an annotated text."""

    kind: str  # "q" or "o"
    start: int
    end: int
    inner: str


def _marks(text: str) -> list[_Mark]:
    """The spans `re.finditer(r"<([qo])>(.*?)</\1>", text, re.I | re.S)` finds (an open mark
    runs to the first close of its kind), found from the tags' positions: that regex scans to
    the end from every unclosed mark, so 300 KB of `<q>` took minutes."""
    opens: list[tuple[int, str]] = []
    closes: dict[str, list[int]] = {"q": [], "o": []}
    for tag in _MARK_TAG.finditer(text):
        kind = tag.group(2).lower()
        if tag.group(1):
            closes[kind].append(tag.start())
        else:
            opens.append((tag.start(), kind))
    marks: list[_Mark] = []
    resume = 0
    for start, kind in opens:
        if start < resume:
            continue
        index = bisect_left(closes[kind], start + 3)
        if index < len(closes[kind]):
            close = closes[kind][index]
            marks.append(_Mark(kind=kind, start=start, end=close + 4, inner=text[start + 3:close]))
            resume = close + 4
    return marks


def _without_marks(text: str, marks: list[_Mark]) -> str:
    """The text with each mark replaced by a line break."""
    parts, previous = [], 0
    for mark in marks:
        parts += [text[previous:mark.start], "\n"]
        previous = mark.end
    return "".join(parts) + text[previous:]


def _annotated_items(text: str, marks: list[_Mark]) -> list[Item]:
    """Questions from `<q>` and options from `<o>` marks.

    Options after a question belong to it. Options before the first question are the column
    headings of a grid (GAD-7, MFQ): they go to each question of the run that follows which
    has no options of its own."""
    items: list[Item] = []
    heading: list[Option] = []
    heading_run: list[Item] = []
    line, scanned, previous_end, line_start = 1, 0, 0, 0
    for mark in marks:
        line += text.count("\n", scanned, mark.start)
        newline = text.rfind("\n", scanned, mark.start)  # not from 0: quadratic on one long line
        line_start = newline + 1 if newline >= 0 else line_start
        scanned = mark.start
        first_on_line = previous_end <= line_start
        prefix = text[max(line_start, previous_end):mark.start]
        previous_end = mark.end
        value = clean(_LEFTOVER_TAG.sub(" ", mark.inner))
        if not value:
            continue
        if mark.kind == "q":
            item = Item(text=value, number=_number_in(prefix), record_key=f"line {line}")
            if heading and (heading_run or not items):
                heading_run.append(item)
            items.append(item)
            continue
        # "0  <o>I do not feel sad.</o>": a code before the first option of a line is its value;
        # between options ("<o>Yes</o> 1 <o>No</o> 2") it may belong to either side, so skip it
        value_match = _VALUE_PREFIX.match(prefix) if first_on_line else None
        option = (value_match.group(1) if value_match else None, value)
        if not items:
            heading.append(option)
            continue
        items[-1].options.append(option)
        for item in heading_run:
            item.options = item.options or list(heading)
        heading_run = []
    for item in heading_run:
        item.options = item.options or list(heading)
    return items


def _number_in(prefix: str) -> str | None:
    """"1. ", "B . ", "A2. f) iii) " before a question: its number ("1", "B", "A2 f iii")."""
    if not _NUMBER_PREFIX.match(prefix):
        return None
    parts = ["".join(groups) for groups in _NUMBER_PARTS.findall(prefix)]
    return " ".join(parts) or None


# --- plain text

_LEADING_NUMBER = re.compile(r"^(?:(?:Q|Question\s*)?([A-Z]?\d{1,3}[a-z]?)[.):]"
                             r"|Q(\d{1,3}[a-z]?)(?=\s)|\(?([a-z]|[ivx]{2,5})\))\s+")


def _plain_header(text: str) -> list[str]:
    """The lines before the first numbered item; none when every line is an item."""
    lines = text.splitlines()
    numbered = [index for index, line in enumerate(lines)
                if (value := plain_text(line)) and _LEADING_NUMBER.match(value)]
    return lines[:numbered[0]] if len(numbered) >= 2 else []


def _plain_items(text: str) -> list[Item]:
    """One item per line that has letters. When the text numbers its items ("1.", "Q3)", "a)"),
    only numbered lines are items (the rest is headings, instructions and scores) and a line
    that goes on in lower case continues the item above it."""
    lines = [(number, plain_text(line)) for number, line in enumerate(text.splitlines(), start=1)]
    numbered = sum(1 for _, line in lines if line and _LEADING_NUMBER.match(line))
    items: list[Item] = []
    previous: Item | None = None
    for line_number, line in lines:
        if not line or not any(char.isalpha() for char in line):
            previous = None
            continue
        match = _LEADING_NUMBER.match(line)
        if match:
            number = next(group for group in match.groups() if group)
            previous = Item(text=line[match.end():], number=number,
                            record_key=f"line {line_number}")
            items.append(previous)
        elif numbered < 2:
            items.append(Item(text=line, record_key=f"line {line_number}"))
        elif previous is not None and line[0].islower():
            previous.text = f"{previous.text} {line}"
    return items


# --- PDF

_GENERIC_PDF_TITLE = re.compile(r"^(?:microsoft (?:word|excel|powerpoint) - |untitled\b)", re.I)

# A 0.3 MB PDF whose 2,000 pages draw one 20,000-operation content stream took over 5 minutes:
# pypdf spends 20-70 us per drawing operation. Real questionnaires draw ~0.02-0.03 operations
# per byte of file (GAD-7: 2,816 in 132 KB; its page's content stream is 35 KB): 7x room here.
MAX_PDF_PAGES = 2_000
MAX_PAGE_CONTENT_BYTES = 1024 * 1024
PDF_OPERATIONS_FLOOR = 20_000
PDF_OPERATIONS_PER_BYTE = 0.2
PDF_PARSE_ELEMENTS = 250_000  # pypdf's own cap per content stream is 2,000,000 (~30 s, uncheckable)


def _parse_pdf(doc: Document, meter: Meter) -> ParseResult:
    with apply_configuration(stream_parsing_work_maximum_count=PDF_PARSE_ELEMENTS):
        reader, pages = _open_pdf(doc)
        result = ParseResult()
        texts: list[str] = []
        operations = _Operations(doc, meter)
        for page_number, page in enumerate(pages, start=1):
            record = f"page {page_number}"
            meter.check(record, memory=True)
            try:
                if (size := _content_size(page)) > MAX_PAGE_CONTENT_BYTES:
                    result.problems.append(Problem(record=record, reason=(
                        f"content stream over {MAX_PAGE_CONTENT_BYTES:,} bytes ({size:,} read); "
                        "page skipped")))
                    continue
                texts.append(page.extract_text(visitor_operand_before=operations.count) or "")
            except DiscoveryError:
                raise
            except Exception as error:  # one damaged page must not sink the others
                result.problems.append(Problem(record=record, reason=f"text not extractable: {error}"))
        title = _pdf_title(reader)
    text = "\n".join(texts)
    if not any(char.isalpha() for char in text):
        if result.problems:
            first = result.problems[0]
            raise doc.fail(f"no text read: {first.reason}", record=first.record,
                           hint=f"{len(result.problems)} of {len(pages)} pages could not be read")
        raise doc.fail("no text layer (scanned PDF?)", hint="run OCR first, then ingest the text")
    items = _plain_items(text)
    if not items:
        raise doc.fail("no questionnaire items found")
    questionnaire = _titled(doc, items, _plain_header(text), text.splitlines(), title)
    result.extend(instrument_records(doc.provenance("questionnaire-pdf"), questionnaire, set(), meter))
    return result


class _Operations:
    """The drawing operations text extraction walks: counted against the file's size, and each
    one a chance to check the budget inside pypdf's loop."""

    def __init__(self, doc: Document, meter: Meter) -> None:
        self.doc = doc
        self.meter = meter
        self.limit = int(PDF_OPERATIONS_FLOOR + PDF_OPERATIONS_PER_BYTE * len(doc.content))
        self.seen = 0

    def count(self, operator: bytes, operands: Any, cm: Any, tm: Any) -> None:
        self.seen += 1
        if self.seen > self.limit:
            raise UnsafeInputError(
                f"the pages draw over {self.limit:,} operations, for a file of "
                f"{len(self.doc.content):,} bytes; refused", file=self.doc.location,
                hint="real questionnaires draw about one operation per 40 bytes; the file may be "
                     "built to be slow")
        self.meter.check()


def _content_size(page: Any) -> int:
    """Decoded bytes of a page's content streams, counted until over MAX_PAGE_CONTENT_BYTES (an
    array may name one big stream a thousand times)."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    size = 0
    for stream in contents if isinstance(contents, ArrayObject) else [contents]:
        size += len(stream.get_object().get_data())
        if size > MAX_PAGE_CONTENT_BYTES:
            break
    return size


def _open_pdf(doc: Document) -> tuple[PdfReader, list[Any]]:
    try:
        reader = PdfReader(io.BytesIO(doc.content))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise FileNotDecryptedError("a password is needed")
        if (count := len(reader.pages)) > MAX_PDF_PAGES:
            raise UnsafeInputError(f"PDF has {count:,} pages, over the {MAX_PDF_PAGES:,} limit; refused",
                                   file=doc.location, hint="split it, or ingest its text")
        return reader, list(reader.pages)
    except DiscoveryError:
        raise
    except (DependencyError, FileNotDecryptedError) as error:
        raise doc.fail(f"encrypted PDF: {error}",
                       hint="ask the publisher for an unprotected copy") from None
    except Exception as error:  # pypdf raises many kinds of error on damaged files
        raise doc.fail(f"corrupt or unreadable PDF: {type(error).__name__}: {error}",
                       hint="is the file truncated?") from None


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        title = clean(reader.metadata.title) if reader.metadata else None
    except Exception:  # a damaged info dictionary only costs us the title
        return None
    return None if not title or _GENERIC_PDF_TITLE.match(title) else title


# --- JSON Lines

_ITEM_TEXT_KEYS = ("question_text", "text", "question")
_ITEM_NUMBER_KEYS = ("question_no", "number", "question_number")
_NAME_KEYS = ("instrument_name", "name", "title")
_TOPIC_KEYS = ("topics", "topics_auto")
_INSTRUMENT_FIELDS = {"instrument_name", "name", "title", "questions", "items", "language",
                      "description", "topics", "topics_auto"}
_ITEM_FIELDS = {"question_text", "text", "question", "question_no", "number", "question_number",
                "options", "question_intro", "instrument_name", "instrument", "topics",
                "topics_auto", "language"}


def _parse_jsonl(doc: Document, meter: Meter) -> ParseResult:
    """Each line an instrument (with `questions`) or an item (naming its instrument); items of
    one instrument are gathered wherever they appear. A line that fails is a Problem."""
    result = ParseResult()
    questionnaires: dict[str, Questionnaire] = {}
    topic_lines = 0
    # "\n" only: str.splitlines() would also cut at U+2028 and friends, legal inside JSON strings
    for line_number, line in enumerate(decode_text(doc).split("\n"), start=1):
        if not line.strip():
            continue
        record = f"line {line_number}"
        meter.check(record)
        try:
            data = json.loads(line)
        except ValueError as error:
            result.problems.append(Problem(record=record, reason=f"not valid JSON: {error}",
                                           raw=line[:MAX_EXTRA_CHARS]))
            continue
        if not isinstance(data, dict):
            result.problems.append(Problem(record=record, reason="not a JSON object",
                                           raw=line[:MAX_EXTRA_CHARS]))
        elif isinstance(data.get("questions", data.get("items")), list):
            _add_instrument_line(doc, data, record, questionnaires, result)
        elif any(data.get(key) is not None for key in _ITEM_TEXT_KEYS):
            _add_item_line(doc, data, record, questionnaires, result)
        elif set(data) <= set(_TOPIC_KEYS):
            topic_lines += 1
        else:
            result.problems.append(Problem(record=record, reason="neither an instrument "
                                           "(with questions) nor a question (with text)",
                                           raw=line[:MAX_EXTRA_CHARS]))
    filled = [questionnaire for questionnaire in questionnaires.values() if questionnaire.items]
    if topic_lines and not filled:
        raise doc.fail("topic labels only, no questionnaire items",
                       hint="this file is line-aligned with a questions file: add each "
                            "line's 'topics' to the same line there and ingest that (they "
                            "become keywords)")
    if not filled:
        first = result.problems[0] if result.problems else None
        raise doc.fail("no questionnaire items found",
                       record=first.record if first else None, hint=first.reason if first else None)
    taken: set[str] = set()
    provenance = doc.provenance("questionnaire-jsonl")
    for questionnaire in filled:
        result.extend(instrument_records(provenance, questionnaire, taken, meter))
    return result


def _add_instrument_line(doc: Document, data: dict[str, Any], record: str,
                         questionnaires: dict[str, Questionnaire], result: ParseResult) -> None:
    title = _first_text(data, _NAME_KEYS) or f"{readable_stem(doc.location)} {record}"
    questionnaire = _questionnaire(questionnaires, title, data.get("language"), record)
    questionnaire.description = questionnaire.description or plain_text(data.get("description"))
    questionnaire.keywords.extend(_topics(data))
    questionnaire.extra.update(small_extra(
        {key: value for key, value in data.items() if key not in _INSTRUMENT_FIELDS}))
    questions = data.get("questions", data.get("items")) or []  # a list: the caller checked
    for index, question in enumerate(questions, start=1):
        item_record = f"{record} question {index}"
        if not isinstance(question, dict):
            result.problems.append(Problem(record=item_record, reason="question is not an object"))
            continue
        item = _item(question, item_record, result)
        if item:
            questionnaire.items.append(item)


def _add_item_line(doc: Document, data: dict[str, Any], record: str,
                   questionnaires: dict[str, Questionnaire], result: ParseResult) -> None:
    title = _first_text(data, ("instrument_name", "instrument")) or readable_stem(doc.location)
    item = _item(data, record, result)
    if item:
        _questionnaire(questionnaires, title, data.get("language"), record).items.append(item)


def _questionnaire(questionnaires: dict[str, Questionnaire], title: str, language: Any,
                   record: str) -> Questionnaire:
    if title not in questionnaires:
        declared = language if isinstance(language, str) and language.strip() else None
        questionnaires[title] = Questionnaire(
            title=title, language=language_of(title) or declared, record_key=record)
    return questionnaires[title]


def _item(data: dict[str, Any], record: str, result: ParseResult) -> Item | None:
    """An item from a Harmony question object; text that is only markup or blank is skipped."""
    raw_text = next((data[key] for key in _ITEM_TEXT_KEYS if data.get(key) is not None), None)
    if raw_text is None or isinstance(raw_text, (dict, list)):
        result.problems.append(Problem(record=record, reason="question has no text",
                                       raw=json.dumps(data, ensure_ascii=False)[:MAX_EXTRA_CHARS]))
        return None
    text = plain_text(raw_text)
    if not text:
        return None
    number = next((data[key] for key in _ITEM_NUMBER_KEYS if data.get(key) is not None), None)
    return Item(text=text, number=item_number(number),
                options=_json_options(data.get("options")),
                description=plain_text(data.get("question_intro")), keywords=_topics(data),
                extra=small_extra({key: value for key, value in data.items()
                                   if key not in _ITEM_FIELDS}),
                record_key=record)


def _json_options(options: Any) -> list[Option]:
    if isinstance(options, str):
        return split_options(options)
    if not isinstance(options, list):
        return []
    parsed: list[Option] = []
    for option in options:
        if isinstance(option, dict):
            label = plain_text(option.get("label") or option.get("text"))
            value = option.get("value")
            if label:
                parsed.append((None if value is None else str(value), label))
        elif (label := plain_text(option)):
            parsed.append((None, label))
    return parsed


def _topics(data: dict[str, Any]) -> list[str]:
    topics: list[str] = []
    for key in _TOPIC_KEYS:
        value = data.get(key)
        values = value if isinstance(value, list) else [value]
        topics.extend(topic for entry in values if (topic := plain_text(entry)))
    return topics


def _first_text(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((text for key in keys if (text := plain_text(data.get(key)))), None)
