"""The harmonise request, shared by `/api/harmonise` and the harmonise page: two or more
instruments of items and a threshold, bounded so that one request cannot hold the server for long.

Encoding is most of the work: each item twice with MiniLM, and twice more with multilingual-e5
when any item is not English. Without a cache, on this project's loaded 2-core machine, 100
English items took 3 s and 500 items with other languages among them 43-46 s; 2,000 took 30-44 s
of CPU in the issue's measurement. At most 400 items in all keeps one request near half a minute
at worst, and every text must have something to match (a blank one is refused by the schema).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from discovery.server.search_params import BadRequest
from discovery.harmonise.crosswalk import DEFAULT_THRESHOLD
from discovery.harmonise.items import Instrument, instrument_from_items
from discovery.search.models import encodable

MAX_ITEMS = 400
MAX_INSTRUMENTS = 20
MAX_TEXT = 1000
MAX_OPTIONS = 20
MAX_NAME = 200
NOT_BLANK = r"\S"

ItemText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK),
                     AfterValidator(encodable)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME,
                                        pattern=NOT_BLANK), AfterValidator(encodable)]
Option = Annotated[str, StringConstraints(max_length=MAX_NAME), AfterValidator(encodable)]


class ItemIn(BaseModel):
    """An item with its response options (kept in the crosswalk, compared between matches)."""

    model_config = ConfigDict(strict=True)  # values of the schema's types, nothing coerced

    text: ItemText
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)


class InstrumentIn(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Name
    items: list[ItemText | ItemIn] = Field(min_length=1, max_length=MAX_ITEMS,
                                           description="Item texts, or items with options")


class HarmoniseRequest(BaseModel):
    model_config = ConfigDict(strict=True, json_schema_extra={"examples": [{
        "instruments": [{"name": "A", "items": ["I feel calm", "I worry a lot"]},
                        {"name": "B", "items": [{"text": "I feel nervous",
                                                 "options": ["Never", "Sometimes", "Often"]}]}],
        "threshold": DEFAULT_THRESHOLD}]})

    instruments: list[InstrumentIn] = Field(min_length=2, max_length=MAX_INSTRUMENTS)
    threshold: float = Field(DEFAULT_THRESHOLD, ge=-1.0, le=1.0,
                             description="Lowest score (cosine, about -1..1) that counts as a match")


def unique_names(names: list[str]) -> list[str]:
    """Instrument names label every item and row of the crosswalk, so two alike get a number."""
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, n = name, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def instruments_of(body: HarmoniseRequest) -> list[Instrument]:
    names = unique_names([instrument.name for instrument in body.instruments])
    return checked([instrument_from_items(name, [(item, ()) if isinstance(item, str)
                                                 else (item.text, item.options)
                                                 for item in instrument.items])
                    for name, instrument in zip(names, body.instruments, strict=True)])


def checked(instruments: list[Instrument]) -> list[Instrument]:
    """The instruments that have items, when there are two to twenty of them and not too many items."""
    filled = [instrument for instrument in instruments if instrument.items]
    total = sum(len(instrument.items) for instrument in filled)
    if total > MAX_ITEMS:
        raise BadRequest(f"{total:,} items in all; one request can harmonise at most {MAX_ITEMS:,}",
                         hint="split the work over several requests, or run `discovery harmonise` "
                              "on the files")
    if len(filled) > MAX_INSTRUMENTS:
        raise BadRequest(f"{len(filled)} instruments; one request can harmonise at most {MAX_INSTRUMENTS}")
    if len(filled) < 2:
        raise BadRequest("need at least two instruments with items to harmonise",
                         hint="give each instrument at least one item that is not blank")
    return filled
