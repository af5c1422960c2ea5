"""How facet values are compared: the key one value is counted under, and the keys a filter in
any spelling asks for.

Values are normalised when a record is indexed (`documents.facet_values`: countries to ISO names,
topics case-folded, catalogues inferred); the keys here make what is left of spelling irrelevant
twice over. Columns count values that share a key as one, shown in their most common spelling
(questionnaires: "GAD-7" and "GAD 7"), and a filter is looked up by key, so `country:GB`,
`country:United Kingdom`, `topic:CHILDREN` and `language:eng` find what the facet lists as
United Kingdom, children and en.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from discovery.index.aliases import alias_key
from discovery.index.places import filter_places
from discovery.index.topics import topic_value

LANG3 = {"eng": "en", "fin": "fi", "fre": "fr", "fra": "fr", "ger": "de", "deu": "de", "spa": "es",
         "ita": "it", "swe": "sv", "nor": "no", "dut": "nl", "nld": "nl", "por": "pt"}


def language_code(code: str) -> str:
    """ISO 639-1 for the tags catalogues write: "en-GB", "en_US", "eng" -> "en"."""
    base = code.strip().lower().split("-")[0].split("_")[0]
    return LANG3.get(base, base)


def _text_key(value: str) -> str:
    return " ".join(value.split()).casefold()


KEYS: dict[str, Callable[[str], str]] = {"topic": topic_value, "language": language_code,
                                         "questionnaire": alias_key}


@lru_cache(maxsize=65536)
def value_key(facet: str, value: str) -> str:
    """The key a stored facet value is counted and found under."""
    return KEYS.get(facet, _text_key)(value)


def filter_keys(facet: str, wanted: str) -> list[str]:
    """The keys a filter value asks for: a place resolves to its ISO country or UK nation (a
    group such as "England and Wales" asks for either nation); anything else to its own key."""
    if facet == "country":
        places = filter_places(wanted)
        if places:
            return [value_key(facet, place) for place in places]
    return [value_key(facet, wanted)]
