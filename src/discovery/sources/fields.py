"""Reading the loosely written fields many formats share: bare agent names, periods written as
text, identifiers of unknown scheme. One reading for all parsers, so a name is a person or an
organisation whichever catalogue it came from."""

from __future__ import annotations

import re

from discovery.model import DOI_RE, Agent, Identifier, normalise_doi

ORGANISATION_WORDS = re.compile(
    r"\b(universit\w*|institut\w*|college|schools?|departments?|ministr(?:y|ies)|offices?|"
    r"agenc(?:y|ies)|councils?|cent(?:re|er)s?|consortium|associations?|societ(?:y|ies)|"
    r"foundations?|services?|bureau|commissions?|government|surveys?|research|laborator\w*|"
    r"archives?|librar(?:y|ies)|trusts?|ltd|limited|inc|gmbh|company|corporation|groups?|"
    r"networks?|committees?|authorit(?:y|ies)|board|registry|hospitals?|bank|statistic\w*)\b",
    re.I)


def guess_agent(name: str, role: str | None = None) -> Agent:
    """Person or organisation from a bare name, as Dublin Core, CKAN and CMM give them.

    "Hood, C.C., University of York" is a person with an affiliation; a name with an
    organisation word in it is an organisation; "Surname, Given" or a short name is a person.
    """
    parts = [part.strip() for part in name.split(",")]
    if (len(parts) >= 3 and not ORGANISATION_WORDS.search(", ".join(parts[:2]))
            and ORGANISATION_WORDS.search(", ".join(parts[2:]))):
        return Agent(type="Person", name=f"{parts[0]}, {parts[1]}",
                     affiliation=", ".join(parts[2:]), role=role)
    if ORGANISATION_WORDS.search(name):
        return Agent(type="Organization", name=name, role=role)
    if "," in name or 2 <= len(name.split()) <= 4:
        return Agent(type="Person", name=name, role=role)
    return Agent(type="Organization", name=name, role=role)


_YEAR_RANGE = re.compile(r"^(\d{4}(?:-\d{2}){0,2})\s*(?:/|-|–|to)\s*(\d{4}(?:-\d{2}){0,2})$")
_DATE = re.compile(r"^\d{4}(?:-\d{2}){0,2}$")
_PERIOD_PART = re.compile(r"\b(start|end)\s*=\s*([^;]+)")


def iso_period(text: str) -> str | None:
    """An ISO 8601 interval from the ways Dublin Core writes periods (`1946/1985`,
    `1946-1985`, DCMI Period `start=1946; end=1985`), or a single date; None otherwise."""
    text = text.strip()
    if _DATE.match(text):
        return text
    match = _YEAR_RANGE.match(text)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    parts = dict((key, value.strip()) for key, value in _PERIOD_PART.findall(text))
    if parts:
        return f"{parts.get('start', '..')}/{parts.get('end', '..')}"
    return None


def classify_identifier(value: str) -> Identifier | None:
    """A DOI (bare, `doi:` or a doi.org URL) or a URL; None for local numbers we cannot scope."""
    lowered = value.lower()
    if (lowered.startswith(("10.", "doi:", "info:doi/")) or "doi.org/10." in lowered) \
            and DOI_RE.search(value):
        return Identifier(scheme="doi", value=normalise_doi(value))
    if lowered.startswith(("http://", "https://")):
        return Identifier(scheme="url", value=value)
    return None
