"""The items to harmonise, from wherever they come: questionnaire files, pasted text, the catalogue.

Files go through the same parsers as ingest (CSV, XLSX, text, PDF, JSON Lines...), so an
instrument reads the same here as in the catalogue. Response options are kept with each item:
the crosswalk shows them and says whether two matched items share a response scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import DiscoveryError
from discovery.harvest.files import documents
from discovery.model import Kind, Predicate, Question, Record, Variable
from discovery.sources.base import Document
from discovery.sources.registry import parse_document



@dataclass(frozen=True)
class Item:
    id: str
    text: str
    instrument: str  # the instrument's display name
    number: str | None = None
    options: tuple[str, ...] = ()


@dataclass
class Instrument:
    id: str
    name: str
    source: str  # file path, "pasted text" or a catalogue id
    items: list[Item] = field(default_factory=list)


def item_of(record: Record, instrument: str) -> Item | None:
    """A Question or Variable as an item: its question text (a variable's label when it has none)."""
    if isinstance(record, Question):
        return Item(record.id, record.title, instrument, record.number,
                    tuple(option.label for option in record.options if not option.missing))
    if isinstance(record, Variable):
        text = record.question_texts[0].value if record.question_texts else record.title
        return Item(record.id, text, instrument, record.name,
                    tuple(option.label for option in record.categories if not option.missing))
    return None


def owner_of(record: Record, default: str) -> str:
    """The id an item belongs under: a question's instrument, a variable's study, else `default`."""
    return getattr(record, "instrument_id", None) or getattr(record, "study_id", None) or default


def instruments_from_records(records: Iterable[Record], source: str) -> list[Instrument]:
    """Group questions under their instrument and variables under their study, in source order."""
    records = list(records)
    names = {r.id: r.title for r in records if r.kind in (Kind.INSTRUMENT, Kind.STUDY, Kind.DATASET)}
    found: dict[str, Instrument] = {}
    for record in records:
        owner = owner_of(record, source)
        name = names.get(owner, owner)
        item = item_of(record, name)
        if item is None or not item.text.strip():
            continue
        found.setdefault(owner, Instrument(owner, name, source)).items.append(item)
    return list(found.values())


def instruments_from_document(doc: Document) -> list[Instrument]:
    result = parse_document(doc)
    instruments = instruments_from_records(result.records, doc.location)
    if not instruments:
        raise DiscoveryError("no questions or variables found", file=doc.location,
                             hint="give a questionnaire (CSV, XLSX, text, PDF, JSON Lines) "
                                  "or a variable list")
    return instruments


def instruments_from_files(paths: list[str]) -> list[Instrument]:
    """Every instrument in the files; the first file that cannot be read stops with its error."""
    instruments: list[Instrument] = []
    for doc in documents(paths):
        if isinstance(doc, DiscoveryError):
            raise doc
        instruments += instruments_from_document(doc)
    return instruments


def instrument_from_text(text: str, name: str = "pasted text") -> Instrument:
    """Pasted items, one per line (numbering and response options as the text parser reads them)."""
    doc = Document(location=f"{name}.txt", content=text.encode("utf-8"))
    instruments = instruments_from_document(doc)
    return pasted_instrument(name, [item for instrument in instruments for item in instrument.items])


def pasted_instrument(name: str, items: Iterable[Item]) -> Instrument:
    """Pasted items as one instrument under the name given, whatever the parser called them."""
    return Instrument(name, name, "pasted text",
                      [Item(item.id, item.text, name, item.number, item.options) for item in items])


def instrument_from_items(name: str, entries: Iterable[tuple[str, Sequence[str]]]) -> Instrument:
    """Items given one by one, each a text with its response options (the JSON API's input);
    numbered from 1 in the order given, blank texts skipped."""
    items = [Item(f"{name}.{n}", " ".join(text.split()), name, str(n),
                  tuple(option.strip() for option in options if option.strip()))
             for n, (text, options) in enumerate(((t, o) for t, o in entries if t.strip()), start=1)]
    return Instrument(name, name, "given items", items)


def instrument_from_catalogue(catalogue: CatalogueStore, key: str) -> Instrument:
    """A study's variables or an instrument's questions, from the catalogue."""
    record = catalogue.get(key)
    wanted = {Kind.INSTRUMENT: Predicate.HAS_QUESTION}.get(record.kind, Predicate.HAS_VARIABLE)
    children = [relation.object for relation in catalogue.relations(record.id)
                if relation.subject == record.id and relation.predicate == wanted]
    items = [item for child in children
             if (item := item_of(catalogue.get(child), record.title)) is not None and item.text.strip()]
    if not items:
        what = "questions" if wanted == Predicate.HAS_QUESTION else "variables"
        raise DiscoveryError(f"{record.kind} has no {what}", record=record.id,
                             hint="choose a study with variables or an instrument with questions")
    return Instrument(record.id, record.title, f"catalogue:{record.id}", items)
