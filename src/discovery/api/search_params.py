"""Query-string parameters -> SearchRequest, shared by `/api/search` and the search page.

Filters come as `filter=facet:value` (repeatable), ranges as `range=name:min:max` with either
bound empty, or as `name_min` / `name_max` pairs from the page's form fields. The API declares
both forms as patterns (FILTER_PATTERN, RANGE_PATTERN), so its schema says what it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ConfigDict, ValidationError

from discovery.errors import DiscoveryError
from discovery.index.columns import KINDS
from discovery.search.models import FACETS, RANGES, SearchRequest

MAX_FILTERS = 50  # filter= (or range=) parameters in one request
_NUMBER = r"-?\d+(\.\d+)?"
FILTER_PATTERN = (rf"^(kind:({'|'.join(KINDS)})|"
                  rf"({'|'.join(f for f in FACETS if f != 'kind')}):.+)$")
RANGE_PATTERN = rf"^({'|'.join(RANGES)}):({_NUMBER})?:({_NUMBER})?$"


class BadRequest(DiscoveryError):
    """A request parameter is malformed; the message names it and what is allowed."""


class SearchBody(SearchRequest):
    """A search as the JSON body of `POST /api/search`: every value of its schema's type, so
    `"size": "10"` or `"facets": 0` is refused (422) rather than read as 10 or false."""

    model_config = ConfigDict(strict=True)


def parse_filters(values: Sequence[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in values:
        facet, sep, value = item.partition(":")
        if not sep or not value:
            raise BadRequest(f"filter {item!r} must look like facet:value, e.g. country:Germany")
        if facet not in FACETS:
            raise BadRequest(f"filter {item!r}: unknown facet {facet!r}",
                             hint="facets: " + ", ".join(FACETS))
        filters.setdefault(facet, [])
        if value not in filters[facet]:
            filters[facet].append(value)
    return filters


def _bound(name: str, text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise BadRequest(f"range {name!r}: {text!r} is not a number") from None


def parse_ranges(values: Sequence[str], extra: Mapping[str, str] | None = None
                 ) -> dict[str, tuple[float | None, float | None]]:
    ranges: dict[str, tuple[float | None, float | None]] = {}
    for item in values:
        parts = item.split(":")
        if len(parts) != 3:
            raise BadRequest(f"range {item!r} must look like name:min:max (a bound may be empty), "
                             "e.g. year:1990:2000")
        name, low, high = parts
        if name not in RANGES:
            raise BadRequest(f"range {item!r}: unknown range {name!r}", hint="ranges: " + ", ".join(RANGES))
        ranges[name] = (_bound(name, low), _bound(name, high))
    for name in RANGES:
        low_text, high_text = (extra or {}).get(f"{name}_min"), (extra or {}).get(f"{name}_max")
        if (low_text or "").strip() or (high_text or "").strip():
            ranges[name] = (_bound(name, low_text), _bound(name, high_text))
    for name, (minimum, maximum) in ranges.items():
        if minimum is not None and maximum is not None and minimum > maximum:
            raise BadRequest(f"range {name!r}: minimum {minimum:g} is above maximum {maximum:g}")
    return ranges


def build_request(**fields: object) -> SearchRequest:
    """A SearchRequest, with pydantic's complaints turned into one readable message."""
    try:
        return SearchRequest.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in error.errors())
        raise BadRequest(f"invalid search parameters: {problems}") from None
