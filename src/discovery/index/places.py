"""Place names as catalogues write them -> the country facet: ISO 3166 country names, with the
nations of the United Kingdom kept as regions beneath it.

Catalogues name one country many ways ("GB", "UK", "Great Britain", "United Kingdom"; "DE",
"Deutschland"; "Suisse (CH)"), so before this each spelling was its own facet value and a filter
on one missed the rest (issue 11: `country:GB` found nothing stored as "United Kingdom"). A place
now gives its country's ISO name and, for England, Scotland, Wales and Northern Ireland (ISO
3166-2:GB), the nation too, so `country:United Kingdom` finds a study of England and
`country:England` finds it alone. Text that names no country ("Municipality of Milano",
"Global") gives no value: the record keeps it, the facet does not list it as a country.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from discovery.index.iso3166 import COUNTRIES


@dataclass(frozen=True)
class Region:
    name: str
    code: str  # ISO 3166-2
    country: str  # the ISO name of the country it is part of


UNITED_KINGDOM = "United Kingdom"
REGIONS = (Region("England", "GB-ENG", UNITED_KINGDOM), Region("Scotland", "GB-SCT", UNITED_KINGDOM),
           Region("Wales", "GB-WLS", UNITED_KINGDOM),
           Region("Northern Ireland", "GB-NIR", UNITED_KINGDOM))
# ISO 3166-2:GB also codes these groupings of nations; a study of one covers each nation in it.
REGION_GROUPS = {"England and Wales": ("GB-EAW", ("England", "Wales"))}
REGION_SPELLINGS = {"Cymru": "Wales", "Alba": "Scotland", "Tuaisceart Éireann": "Northern Ireland",
                    "N. Ireland": "Northern Ireland", "England & Wales": "England and Wales"}

# Other spellings of ISO countries found in catalogue metadata: common English names, older
# names, official long names and names in the country's own language(s).
ALIASES = {
    UNITED_KINGDOM: ("UK", "U.K.", "Great Britain", "Britain", "United Kingdom of Great Britain and "
                     "Northern Ireland", "Royaume-Uni", "Vereinigtes Königreich", "Reino Unido",
                     "Regno Unito"),
    "United States": ("USA", "U.S.", "U.S.A.", "United States of America", "Vereinigte Staaten",
                      "États-Unis", "Estados Unidos", "Stati Uniti"),
    "Germany": ("Deutschland", "Federal Republic of Germany", "Allemagne", "Alemania", "Germania",
                "Bundesrepublik Deutschland", "Saksa", "Tyskland"),
    "Switzerland": ("Schweiz", "Suisse", "Svizzera", "Svizra", "Confoederatio Helvetica", "Helvetia",
                    "Swiss Confederation"),
    "Austria": ("Österreich",),
    "France": ("République française", "Frankreich", "Francia", "Ranska"),
    "Italy": ("Italia", "Italien", "Italie"),
    "Spain": ("España", "Espagne", "Spanien", "Espanya"),
    "Portugal": ("República Portuguesa",),
    "Netherlands": ("Nederland", "Holland", "The Netherlands", "Niederlande", "Pays-Bas"),
    "Belgium": ("België", "Belgique", "Belgien"),
    "Luxembourg": ("Lëtzebuerg", "Luxemburg"),
    "Finland": ("Suomi", "Finnland", "Finlande"),
    "Sweden": ("Sverige", "Schweden", "Suède", "Ruotsi"),
    "Norway": ("Norge", "Noreg", "Norwegen", "Norvège"),
    "Denmark": ("Danmark", "Dänemark", "Danemark"),
    "Iceland": ("Ísland",),
    "Ireland": ("Éire", "Republic of Ireland", "Irland", "Irlande"),
    "Poland": ("Polska", "Polen", "Pologne"),
    "Czechia": ("Czech Republic", "Česko", "Česká republika", "Tschechien"),
    "Slovakia": ("Slovensko", "Slovak Republic"),
    "Slovenia": ("Slovenija",),
    "Croatia": ("Hrvatska",),
    "Hungary": ("Magyarország", "Ungarn"),
    "Romania": ("România", "Rumänien"),
    "Bulgaria": ("България", "Balgariya"),
    "Greece": ("Ελλάδα", "Hellas", "Hellenic Republic", "Griechenland"),
    "Estonia": ("Eesti",),
    "Latvia": ("Latvija",),
    "Lithuania": ("Lietuva",),
    "Türkiye": ("Turkey", "Türkei", "Turquie"),
    "Russian Federation": ("Russia", "Россия", "Rossiya", "Russland"),
    "Ukraine": ("Україна",),
    "Bolivia, Plurinational State of": ("Bolivia",),
    "Venezuela, Bolivarian Republic of": ("Venezuela",),
    "Iran, Islamic Republic of": ("Iran",),
    "Korea, Republic of": ("South Korea", "Republic of Korea"),
    "Korea, Democratic People's Republic of": ("North Korea",),
    "Lao People's Democratic Republic": ("Laos",),
    "Moldova, Republic of": ("Moldova",),
    "Syrian Arab Republic": ("Syria",),
    "Tanzania, United Republic of": ("Tanzania",),
    "Taiwan, Province of China": ("Taiwan",),
    "Viet Nam": ("Vietnam",),
    "Micronesia, Federated States of": ("Micronesia",),
    "Palestine, State of": ("Palestine",),
    "Congo, The Democratic Republic of the": ("Democratic Republic of the Congo", "DR Congo"),
    "Congo": ("Republic of the Congo",),
    "Côte d'Ivoire": ("Ivory Coast",),
    "Cabo Verde": ("Cape Verde",),
    "Eswatini": ("Swaziland",),
    "North Macedonia": ("Macedonia",),
    "Myanmar": ("Burma",),
    "Timor-Leste": ("East Timor",),
    "Holy See (Vatican City State)": ("Vatican", "Vatican City"),
    "Brunei Darussalam": ("Brunei",),
    "Macao": ("Macau",),
    "Mexico": ("México",),
    "Brazil": ("Brasil",),
    "Peru": ("Perú",),
    "China": ("People's Republic of China", "中国"),
    "Japan": ("日本", "Nippon"),
}

_BRACKET = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_PARTS = re.compile(r"\s*(?:[;,/|]|\s-\s)\s*")
_CODE = re.compile(r"^(?:[A-Z]{2,3}|GB-[A-Z]{3})$")


def place_key(text: str) -> str:
    """The form spellings are compared in: accents, case, punctuation and a leading "the"
    dropped ("Côte d'Ivoire" and "cote d ivoire" agree)."""
    folded = unicodedata.normalize("NFKD", text.replace("&", " and ")).casefold()
    plain = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    return re.sub(r"^the ", "", " ".join(plain.split()))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, str]]:
    """(names, codes, code of each facet value): names and codes map to the facet values a place
    gives, its country first."""
    names: dict[str, tuple[str, ...]] = {}
    codes: dict[str, tuple[str, ...]] = {}
    code_of: dict[str, str] = {}
    for alpha2, alpha3, name in COUNTRIES:
        names[place_key(name)] = (name,)
        codes[alpha2] = codes[alpha3] = (name,)
        code_of[name] = alpha2
    for name, spellings in ALIASES.items():
        for spelling in spellings:
            names.setdefault(place_key(spelling), (name,))
    for region in REGIONS:
        names[place_key(region.name)] = codes[region.code] = (region.country, region.name)
        code_of[region.name] = region.code
    for group, (code, members) in REGION_GROUPS.items():
        names[place_key(group)] = codes[code] = (UNITED_KINGDOM, *members)
    for spelling, name in REGION_SPELLINGS.items():
        names[place_key(spelling)] = names[place_key(name)]
    codes["UK"] = (UNITED_KINGDOM,)  # not ISO (it is reserved), but how many catalogues write it
    return names, codes, code_of


def _lookup(text: str, codes_any_case: bool) -> tuple[str, ...] | None:
    names, codes, _ = _tables()
    stripped = text.strip()
    if _CODE.match(stripped.upper()) and (codes_any_case or _CODE.match(stripped)):
        found = codes.get(stripped.upper())
        if found:
            return found
    return names.get(place_key(stripped))


def facet_places(text: str) -> list[str]:
    """The country facet values for one place as a catalogue wrote it: its country's ISO name,
    then any UK nations it names; empty when it names no country. Tried whole, then without a
    bracket or by the code in it ("Suisse (CH)"), then part by part ("Milano, Italy"); a code
    inside longer text counts only in capitals, so "no" in a list is not Norway."""
    return _resolve(text, codes_any_case=True)


def _resolve(text: str, codes_any_case: bool) -> list[str]:
    found = _lookup(text, codes_any_case)
    if found is None:
        bracket = _BRACKET.match(text)
        if bracket:
            found = _lookup(bracket.group(1), False) or _lookup(bracket.group(2), False)
    if found is not None:
        return list(found)
    parts = [part for part in _PARTS.split(text) if part]
    if len(parts) < 2:
        return []
    return list(dict.fromkeys(value for part in parts for value in _resolve(part, False)))


def filter_places(text: str) -> list[str]:
    """The facet values a filter in any spelling asks for: `GB` -> United Kingdom, `England` ->
    England alone (not all of the UK), `England and Wales` -> either nation."""
    values = facet_places(text)
    regions = [value for value in values if region_country(value)]
    return regions or values


def code_of(value: str) -> str | None:
    """The ISO code of a facet value: alpha-2 for a country, 3166-2 for a UK nation."""
    return _tables()[2].get(value)


def region_country(value: str) -> str | None:
    """The country a region facet value lies in; None for a country."""
    return next((region.country for region in REGIONS if region.name == value), None)
