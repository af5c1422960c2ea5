"""Funders named in records and texts, reduced to one name each.

A dataset page says "ESRC-funded", a grant page names the Economic and Social Research Council,
a DDI file says "Economic and Social Research Council (ESRC)": all three are one funder. The
lexicon holds the major research funders whose data and grants the catalogues carry; a funder
outside it still counts when two records give the same full name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# canonical name -> acronyms and other names it goes by
FUNDERS: dict[str, tuple[str, ...]] = {
    "Economic and Social Research Council": ("ESRC",),
    "Medical Research Council": ("MRC",),
    "Arts and Humanities Research Council": ("AHRC",),
    "Biotechnology and Biological Sciences Research Council": ("BBSRC",),
    "Engineering and Physical Sciences Research Council": ("EPSRC",),
    "Natural Environment Research Council": ("NERC",),
    "Science and Technology Facilities Council": ("STFC",),
    "UK Research and Innovation": ("UKRI",),
    "Innovate UK": (),
    "National Institute for Health and Care Research": ("NIHR",
                                                        "National Institute for Health Research"),
    "Wellcome Trust": ("Wellcome",),
    "Leverhulme Trust": (),
    "Nuffield Foundation": (),
    "European Research Council": ("ERC",),
    "National Science Foundation": ("NSF",),
    "National Institutes of Health": ("NIH",),
    "Deutsche Forschungsgemeinschaft": ("DFG", "German Research Foundation"),
    "Swiss National Science Foundation": ("SNSF", "SNF",
                                          "Fonds national suisse de la recherche scientifique"),
    "Research Council of Finland": ("Academy of Finland",),
}
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for name, others in FUNDERS.items():
        for form in (name, *others):
            flags = 0 if _ACRONYM.match(form) else re.IGNORECASE
            # acronyms match as whole words in any case only inside URLs and slugs, where
            # they are written lower case (`.../esrc-relations-study-seminar/`)
            patterns.append((re.compile(rf"(?<![\w]){re.escape(form)}(?![\w])", flags), name))
            if _ACRONYM.match(form):
                patterns.append((re.compile(rf"(?<=[/\-_.]){form.lower()}(?=[/\-_.])"), name))
    return patterns


_PATTERNS = _patterns()


def funders_named(text: str) -> set[str]:
    """Canonical names of the lexicon's funders that a text names."""
    return {name for pattern, name in _PATTERNS if pattern.search(text)}


def canonical_funders(names: Iterable[str]) -> set[str]:
    """Structured funder names (a record's `funders`), reduced to canonical names; a name the
    lexicon does not know is kept as written, lower-cased."""
    found: set[str] = set()
    for name in names:
        known = funders_named(name)
        found |= known or {" ".join(name.lower().split())}
    return found
