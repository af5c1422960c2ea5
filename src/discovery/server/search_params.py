"""The one reader of a search's parameters: `search_request` turns query-string pairs into a
SearchRequest for `/api/search`, the search page and `discovery search` alike, and `query_of`
writes a request back as such pairs, so any search can be linked to.

One filter syntax everywhere: `filter=facet:value` (repeatable; values of one facet are
alternatives). Ranges are `range=name:min:max` with either bound empty, or `name_min` /
`name_max` pairs from the page's form fields. The CLI's older spellings `facet=value` and
`name=min:max` are read by the same functions. The API declares the colon forms as patterns
(FILTER_PATTERN, RANGE_PATTERN), so its schema says what it accepts.

Every other parameter is a SearchRequest field of the same name, read by pydantic the way
FastAPI reads the API's declared parameters ("false", "0", "no" are false), so a query means the
same on the page as in the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import ConfigDict, ValidationError

from discovery.errors import DiscoveryError
from discovery.search.models import FACETS, KINDS, RANGES, SearchRequest

MAX_FILTERS = 50  # filter= (or range=) parameters in one request
_NUMBER = r"-?\d+(\.\d+)?"
FILTER_PATTERN = (rf"^(kind:({'|'.join(KINDS)})|"
                  rf"({'|'.join(f for f in FACETS if f != 'kind')}):.+)$")
RANGE_PATTERN = rf"^({'|'.join(RANGES)}):({_NUMBER})?:({_NUMBER})?$"
# Parameters that are read as SearchRequest fields of the same name, as given.
FIELDS = ("q", "mode", "semantic_weight", "sort", "size", "cursor", "similar_to", "within", "group",
          "collapse", "spellcheck", "variables_per_hit", "facets")
OPTIONAL = frozenset({"cursor", "similar_to", "within"})  # an empty value is none
Params = Iterable[tuple[str, str]]


class BadRequest(DiscoveryError):
    """A request parameter is malformed; the message names it and what is allowed."""


class SearchBody(SearchRequest):
    """A search as the JSON body of `POST /api/search`: every value of its schema's type, so
    `"size": "10"` or `"facets": 0` is refused (422) rather than read as 10 or false."""

    model_config = ConfigDict(strict=True)


def _name_and_rest(item: str) -> tuple[str, str, str]:
    """`facet:value` (or the CLI's older `facet=value`) split at whichever mark comes first."""
    marks = [i for i in (item.find(":"), item.find("=")) if i >= 0]
    if not marks:
        return item, "", ""
    at = min(marks)
    return item[:at].strip(), item[at], item[at + 1:]


def parse_filters(values: Sequence[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in values:
        facet, sep, value = _name_and_rest(item)
        value = value.strip()
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
    """`name:min:max` items, then any `name_min` / `name_max` pairs in `extra` (form fields)."""
    ranges: dict[str, tuple[float | None, float | None]] = {}
    for item in values:
        name, _, span = _name_and_rest(item)
        parts = span.split(":")
        if len(parts) != 2:
            raise BadRequest(f"range {item!r} must look like name:min:max (a bound may be empty), "
                             "e.g. year:1990:2000")
        if name not in RANGES:
            raise BadRequest(f"range {item!r}: unknown range {name!r}", hint="ranges: " + ", ".join(RANGES))
        ranges[name] = (_bound(name, parts[0]), _bound(name, parts[1]))
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


def search_request(params: Params) -> SearchRequest:
    """The search that query-string pairs ask for. A repeated field counts by its last value, as
    in the API; parameters that are no search field (a page's own, say) are left alone."""
    pairs = list(params)
    last = dict(pairs)
    fields: dict[str, object] = {name: last[name] for name in FIELDS
                                 if name in last and not (name in OPTIONAL and not last[name])}
    return build_request(**fields,
                         filters=parse_filters([v for k, v in pairs if k == "filter"]),
                         ranges=parse_ranges([v for k, v in pairs if k == "range"], last))


def _number(value: float) -> str:
    return f"{value:g}"


def query_of(request: SearchRequest) -> list[tuple[str, str]]:
    """The query-string pairs that `search_request` reads back as `request`: only what differs
    from the defaults, filters and ranges in the one syntax."""
    defaults = SearchRequest()
    pairs: list[tuple[str, str]] = []
    for name in FIELDS:
        value = getattr(request, name)
        if value == getattr(defaults, name):
            continue
        if name == "semantic_weight":
            pairs.append((name, _number(value)))
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        else:
            pairs.append((name, str(value)))
    pairs += [("filter", f"{facet}:{value}") for facet, values in request.filters.items()
              for value in values]
    pairs += [("range", f"{name}:{'' if low is None else _number(low)}:"
                        f"{'' if high is None else _number(high)}")
              for name, (low, high) in request.ranges.items()]
    return pairs
