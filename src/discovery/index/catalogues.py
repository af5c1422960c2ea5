"""The publishing catalogues of a record, for the catalogue facet: those its sources state, those
it lists, and otherwise those its own identifiers and addresses name.

Why 95% of records showed "(not stated)" (issue 11; 15,446 of the demo's 16,296): a parser sets
the catalogue only where the source names its publisher (a DDI distributor, a CMM publisher,
GtR, Harmony Discovery pages), and the explore page counted every stored record. 13,976 of those
are questions and 757 variables, whose files (Harmony's JSON Lines and annotated PDFs, CSV and
spreadsheet item lists, DDI without a distributor) name no catalogue; the 702 questionnaires
holding the questions come from the same files. In the index a variable or question is counted
under its study or questionnaire (`columns.py`). A study or dataset whose sources name no
catalogue often still says where it was published: a study number of a catalogue's scheme, a
DOI under a catalogue's registrant prefix, a landing page or harvest address on a catalogue's
host. Those are read here; a questionnaire read from a local file keeps no catalogue, because
nothing in it says where it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

UKDS = "UK Data Service"
GESIS = "GESIS Data Archive for the Social Sciences"
FSD = "Finnish Social Science Data Archive"
ICPSR = "ICPSR"
HARVARD = "Harvard Dataverse"
HARMONY = "Harmony Discovery"  # as `sources/jsonld.py` names it
GTR = "UKRI Gateway to Research"  # as `sources/gtr.py` names it

# identifier schemes the parsers give a catalogue's own study numbers
SCHEMES = {"ukds": UKDS, "gesis": GESIS, "fsd": FSD, "icpsr": ICPSR}
# DOI registrant prefixes held by one catalogue
DOI_PREFIXES = {"10.5255": UKDS, "10.4232": GESIS, "10.3886": ICPSR, "10.7910": HARVARD}
HOSTS = {"datacatalogue.ukdataservice.ac.uk": UKDS, "reshare.ukdataservice.ac.uk": UKDS,
         "beta.ukdataservice.ac.uk": UKDS, "dbk.gesis.org": GESIS, "search.gesis.org": GESIS,
         "services.fsd.tuni.fi": FSD, "www.fsd.tuni.fi": FSD, "www.icpsr.umich.edu": ICPSR,
         "dataverse.harvard.edu": HARVARD, "harmonydata.ac.uk": HARMONY, "gtr.ukri.org": GTR,
         "datos.gob.es": "datos.gob.es", "data.gov.uk": "data.gov.uk",
         "datacatalogue.cessda.eu": "CESSDA Data Catalogue"}
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9})/", re.IGNORECASE)


def catalogue_name(text: str) -> str:
    """A catalogue's name with its spacing tidied (names are otherwise kept as written)."""
    return " ".join(text.split())


def record_catalogues(stated: Iterable[str], data: dict[str, Any], locations: Iterable[str]
                      ) -> list[str]:
    """The catalogues the sources state, then those the record lists; when there are none, the
    catalogues its identifiers, landing pages and harvest addresses name."""
    listed = [c["name"] for c in data.get("data_catalogs", []) if c.get("name")]
    named = _unique(catalogue_name(name) for name in [*stated, *listed])
    if named:
        return named
    addresses = [data.get("url") or "", *(link.get("url") or "" for link in data.get("links", [])),
                 *locations]
    inferred = [SCHEMES.get(i.get("scheme", "")) or _by_address(str(i.get("value", "")))
                for i in data.get("identifiers", [])]
    inferred += [_by_address(address) for address in addresses]
    return _unique(name for name in inferred if name)


def _by_address(text: str) -> str | None:
    """The catalogue a DOI's prefix or a URL's host belongs to."""
    doi = _DOI.match(text.strip())
    if doi:
        return DOI_PREFIXES.get(doi.group(1))
    if not text.startswith(("http://", "https://")):
        return None
    host = (urlsplit(text).hostname or "").lower()
    return HOSTS.get(host) or HOSTS.get(host.removeprefix("www."))


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(name for name in names if name))
