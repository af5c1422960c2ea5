"""Identity keys: the identifiers that name one study or grant, in one normal form.

Catalogues write the same identifier many ways (`10.5255/UKDA-SN-6684-1`, `ukds:6684`,
`https://datacatalogue.ukdataservice.ac.uk/studies/study/6684`, `urn:nbn:fi:fsd:T-FSD3271`), so
every alias is reduced to `scheme:value` keys, and study numbers hidden in DOIs and catalogue
URLs are drawn out. Grant references are found in free text in the forms GtR uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from discovery.model import (STRONG_SCHEMES, STUDY_NUMBER_PREFIXES, normalise_doi, normalise_grant,
                             study_number_alias)

# Schemes whose values name exactly one thing: sharing one is evidence of sameness.
IDENTITY_SCHEMES = STRONG_SCHEMES | {"dataguid", "minid", "urn"}
# Schemes a study has exactly one value of: two different values mean two different studies.
STUDY_NUMBER_SCHEMES = tuple(STUDY_NUMBER_PREFIXES)
# ...and a grant exactly one of these.
GRANT_SCHEMES = ("grant", "gtr")

_UKDS_DOI = re.compile(r"^10\.5255/ukda-sn-(\d+)(?:-\d+)?$")
_ICPSR_DOI = re.compile(r"^10\.3886/icpsr(\d+)(?:\.v\d+)?$")
_FSD_URN = re.compile(r"fsd:t-(fsd\d+)")
_UKDS_URL = re.compile(r"ukdataservice\.ac\.uk/(?:.*?(?:studies/study/|[?&]id=)|(?<=reshare\.ukdataservice"
                       r"\.ac\.uk/))(\d{3,7})\b")
_GESIS_URL = re.compile(r"gesis\.org/.*?(?:[?&]no=|research_data/za)(\d{3,5})\b")
_VERSION_SUFFIX = re.compile(r"(?:[-.]v?\d{1,3})$")
# study-number schemes and the prefix their normal form carries (`za2800`, `fsd3271`)

# GtR grant references: research council forms (ES/T005912/1, AH/V001116/1, EP/R513179/1),
# MRC unit codes (MC_PC_17210, MC_UU_00002/7) and old ESRC forms (RES-062-23-1234).
GRANT_REFERENCE = re.compile(
    r"\b(?:[A-Z]{1,4}/[A-Z0-9]{6,9}/\d{1,2}|MC_[A-Z]{2}_[A-Z0-9]{2,8}(?:/\d{1,2})?"
    r"|RES-\d{3}-\d{2}-\d{4}(?:-[A-Z])?)\b")


def alias_keys(alias: str) -> set[str]:
    """The identity keys one stored alias (`Identifier.alias()`, so study numbers and grant
    references are already in normal form) stands for; none for local ids, OAI ids, checksums."""
    scheme, _, value = alias.partition(":")
    value = value.strip().lower()
    if not value:
        return set()
    if scheme == "doi":
        return _doi_keys(normalise_doi(value))
    if scheme == "url":
        return url_keys(value)
    if scheme == "urn":
        match = _FSD_URN.search(value)
        return {f"urn:{value}", *([study_number_alias("fsd", match.group(1))] if match else [])}
    return {f"{scheme}:{value}"} if scheme in IDENTITY_SCHEMES else set()


def url_keys(url: str) -> set[str]:
    """Identity keys a landing-page URL gives away: a DOI, a UKDS, GESIS or FSD study number."""
    url = url.strip().lower()
    keys = _doi_keys(normalise_doi(url)) if "doi.org/" in url else set()
    for scheme, pattern in (("ukds", _UKDS_URL), ("gesis", _GESIS_URL), ("fsd", _FSD_URN)):
        if match := pattern.search(url):
            keys.add(study_number_alias(scheme, match.group(1)))
    return keys


def _doi_keys(doi: str) -> set[str]:
    """A normalised DOI's key, and the UKDS or ICPSR study number it carries."""
    keys = {f"doi:{doi}"}
    for scheme, pattern in (("ukds", _UKDS_DOI), ("icpsr", _ICPSR_DOI)):
        if match := pattern.match(doi):
            keys.add(study_number_alias(scheme, match.group(1)))
    return keys


def identity_keys(aliases: Iterable[str], urls: Iterable[str] = ()) -> set[str]:
    """All identity keys of a record: from its aliases and from the URLs it says it is the same
    as (schema.org `sameAs`, catalogue links)."""
    keys: set[str] = set()
    for alias in aliases:
        keys |= alias_keys(alias)
    for url in urls:
        keys |= url_keys(url)
    return keys


def by_scheme(keys: Iterable[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for key in keys:
        scheme, _, value = key.partition(":")
        found.setdefault(scheme, set()).add(value)
    return found


def disagreement(mine: set[str], theirs: set[str], schemes: Iterable[str]) -> str | None:
    """Why two key sets cannot name the same thing, or None: a scheme both have values of, with
    no value in common. DOIs count only when neither set's study numbers agree, since a study's
    versions carry different DOIs (`...-6684-1`, `...-6684-2`)."""
    a, b = by_scheme(mine), by_scheme(theirs)
    for scheme in schemes:
        if scheme in a and scheme in b and a[scheme].isdisjoint(b[scheme]):
            return f"{scheme} {', '.join(sorted(a[scheme]))} vs {', '.join(sorted(b[scheme]))}"
    if "doi" in a and "doi" in b and a["doi"].isdisjoint(b["doi"]):
        agree = any(s in a and s in b and not a[s].isdisjoint(b[s]) for s in STUDY_NUMBER_SCHEMES)
        same_base = {_VERSION_SUFFIX.sub("", d) for d in a["doi"]} & \
            {_VERSION_SUFFIX.sub("", d) for d in b["doi"]}
        if not agree and not same_base:
            return f"doi {', '.join(sorted(a['doi']))} vs {', '.join(sorted(b['doi']))}"
    return None


def grant_references(text: str) -> list[str]:
    """Grant references written in a text, normalised, in order, once each."""
    return list(dict.fromkeys(normalise_grant(m.group(0)) for m in GRANT_REFERENCE.finditer(text)))
