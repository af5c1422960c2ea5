"""Names a record is asked for by exactly: scale abbreviations (PHQ-9, SDQ, GAD-7, EPDS, AUDIT),
study numbers (ZA5300, FSD3271, SN 3535), DOIs and whole titles.

A researcher who types "PHQ-9" wants the questionnaire of that name first. BM25 sees two common
tokens ("phq", "9") and the embedding sees a code it cannot read, so exact names are looked up
instead: each record gets alias keys (lower case, letters and digits only, accents folded, so
"GHQ 12", "GHQ-12" and "ghq12" are one key) and the search layer boosts records whose key equals
the query or a phrase in it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from discovery.model import ITEM_KINDS

# "(PHQ-9)", "(GHQ 12)", "(CES-D)", "(K6)", "(PCL:SV)": a bracketed short name with capitals
_BRACKETED = re.compile(r"\(([A-Z][A-Za-z0-9:.\- ]{0,14})\)")
# free-standing abbreviations: two or more capitals, maybe joined to digits ("BCS70", "GAD-7",
# "SF-36", "WEMWBS"); a lone capitalised word ("Scale") is not one
_ABBREVIATION = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*(?:[-:][A-Z0-9]+)*)(?![\w-])")
MAX_TITLE_KEY = 120  # a whole title is an alias while it is short enough to be typed
MIN_KEY = 2


def alias_key(text: str) -> str:
    """The form both sides are compared in: "PHQ-9" and "phq 9" -> "phq9"."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if c.isalnum() and not unicodedata.combining(c))


def abbreviations(title: str) -> list[str]:
    """The short names a title carries: "Patient Health Questionnaire (9-item) (PHQ-9)" -> PHQ-9."""
    found = [m.group(1).strip() for m in _BRACKETED.finditer(title)
             if sum(c.isupper() for c in m.group(1)) >= 2 and len(m.group(1).split()) <= 2]
    free = [m.group(1) for m in _ABBREVIATION.finditer(title)]
    words = re.findall(r"[^\W\d_]{2,}", title)
    if len(free) > 1 and len(free) * 2 > len(words):
        # a heading in capitals: its words are not abbreviations, its codes with digits are
        free = [name for name in free if any(c.isdigit() for c in name)]
    return list(dict.fromkeys(found + free))


def identifier_keys(identifier: dict[str, Any]) -> list[str]:
    """Keys of an identifier as people type it: a study number with and without its catalogue's
    prefix ("3535", "sn3535"), a DOI. URLs and internal hashes are not typed by anyone."""
    scheme, value = identifier.get("scheme", ""), str(identifier.get("value", "")).strip()
    if scheme in ("ukds", "icpsr"):
        number = value.lstrip("0") or "0"
        return [number, f"sn{number}"] if scheme == "ukds" else [number, f"icpsr{number}"]
    if scheme in ("gesis", "fsd"):
        prefix = "za" if scheme == "gesis" else "fsd"
        number = alias_key(value).removeprefix(prefix).lstrip("0") or "0"
        return [f"{prefix}{number}"]
    if scheme in ("doi", "grant"):
        return [alias_key(value)]
    return []


def record_aliases(kind: str, titles: Iterable[str], identifiers: Iterable[dict[str, Any]]
                   ) -> dict[str, bool]:
    """Alias keys of one record, each marked True when it is a code (an abbreviation or an
    identifier) rather than a whole title. Items (variables, questions) get none: their titles
    are question texts, and an exact name belongs to what holds them."""
    if kind in ITEM_KINDS:
        return {}
    keys: dict[str, bool] = {}
    for title in titles:
        for name in abbreviations(title):
            keys[alias_key(name)] = True
        if len(title) <= MAX_TITLE_KEY:
            keys.setdefault(alias_key(title), False)
    for identifier in identifiers:
        keys.update(dict.fromkeys(identifier_keys(identifier), True))
    return {key: code for key, code in keys.items() if len(key) >= (3 if key.isdigit() else MIN_KEY)}


def query_phrases(query: str, longest: int = 4) -> tuple[str, list[str]]:
    """The alias key of the whole query, and those of each run of up to `longest` of its words
    (longest first), so "GAD-7 anxiety items" also asks for the code "gad7"."""
    words = re.findall(r"[^\W_]+(?:[-:./][^\W_]+)*", query)
    phrases = [alias_key(" ".join(words[i:i + size]))
               for size in range(min(longest, len(words)), 0, -1)
               for i in range(len(words) - size + 1)]
    whole = alias_key(query)
    return whole, [p for p in dict.fromkeys(phrases) if len(p) >= MIN_KEY and p != whole]


# what tells versions of one instrument apart without making it another instrument
_VERSION_WORDS = re.compile(
    r"\b(?:\d+[- ]?items?|selected items?|items? only|short (?:form|version)|long (?:form|version)|"
    r"revised|version|form|self[- ]report(?:ed)?|parent[- ]report(?:ed)?|child[- ]report(?:ed)?|"
    r"updated|gold|english|" + "|".join(re.escape(name) for name in (
        "portuguese", "spanish", "french", "german", "chinese", "italian", "dutch", "arabic",
        "japanese", "korean", "norwegian", "swedish", "danish", "finnish", "polish", "russian",
        "turkish", "hindi", "urdu", "welsh")) + r")\b", re.IGNORECASE)


_EMPTY_BRACKETS = re.compile(r"\(\s*\)")


def family_key(kind: str, title: str) -> str | None:
    """What versions of one instrument share, so search can show them as one hit: the key of
    its questionnaire name (below). Studies and datasets share a key only when their whole
    titles agree; items have none."""
    if kind in ITEM_KINDS:
        return None
    if kind != "instrument":
        return f"{kind}:{alias_key(title)}"
    # one namespace: "SCARED English" and "Screen for ... (SCARED)" meet on "scared"
    return alias_key(questionnaire_name(title))


def questionnaire_name(title: str) -> str:
    """The name a questionnaire goes by across its versions: its code ("SDQ", "PHQ-9",
    "AUDIT-C": the first bracketed one, else the first free one), or else its title without
    item counts, forms and languages."""
    bracketed = [m.group(1).strip() for m in _BRACKETED.finditer(title)
                 if sum(c.isupper() for c in m.group(1)) >= 2 and len(m.group(1).split()) <= 2]
    codes = bracketed or abbreviations(title)
    if codes:
        return codes[0]
    bare = _EMPTY_BRACKETS.sub(" ", _VERSION_WORDS.sub(" ", title))
    return " ".join(bare.split()).strip(" -:,") or title
