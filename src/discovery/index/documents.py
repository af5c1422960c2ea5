"""What the index keeps of one catalogue record: texts by field, the text to embed, facet values
and numeric ranges. Pure functions over the stored record JSON, so indexing needs no model objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from discovery.catalogue.protocol import StoredRecord
from discovery.index.aliases import family_key, questionnaire_name, record_aliases
from discovery.index.catalogues import record_catalogues
from discovery.index.facet_keys import language_code
from discovery.index.places import facet_places
from discovery.index.topics import topic_value

CONTENTS_LIMIT = 400  # child texts a parent carries: enough to say what it measures
EMBED_CHARS = 1500  # the models read 512 tokens at most; the start of a description says most
CATEGORY_LIMIT = 12  # a few response options help ("Not at all", "Several days"); hundreds drown the item
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
NUMBER = re.compile(r"\d+")
# The children a record's page lists: a questionnaire's questions (not the variables recorded from
# it, which its page lists apart), a study's or dataset's variables. A hit's "N questions" counts
# these, so the number is what its link opens (it said 81 questions of a questionnaire of 36).
LISTED_ITEMS = {"instrument": "question", "study": "variable", "dataset": "variable"}


@dataclass
class IndexDocument:
    id: str
    kind: str
    parent: str | None
    title: str
    fields: dict[str, str]  # lexical field -> text
    embed_text: str
    facets: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, float | None] = field(default_factory=dict)  # year_start, year_end, ...
    display: dict[str, Any] = field(default_factory=dict)  # what a hit shows without the catalogue
    aliases: dict[str, bool] = field(default_factory=dict)  # exact-name keys -> is a code
    family: str | None = None  # versions of one instrument or study share it
    languages: list[str] = field(default_factory=list)  # ISO 639-1, declared (items: their parent's)
    # what filters read for this record when it is an item under a parent: the parent's facet
    # values and ranges (`columns.py`); None for a record filtered by its own
    inherited: FilterValues | None = None

    def filter_values(self) -> FilterValues:
        return self.inherited or FilterValues(self.facets, self.ranges)


@dataclass
class FilterValues:
    """The facet values and numeric ranges a record is filtered by."""

    facets: dict[str, list[str]]
    ranges: dict[str, float | None]


def filter_values(stored: StoredRecord) -> FilterValues:
    """What filters read of a record that items are grouped under (its item count aside, which
    filters on items do not read from the lexical index: `lexical.CARRIED_RANGES`)."""
    return FilterValues(facet_values(stored), range_values(stored.data, 0))


def index_document(stored: StoredRecord, children: list[tuple[str, str]] | None = None
                   ) -> IndexDocument:
    """`children` are the kind and label or question text of the record's variables or questions:
    a study or instrument is also found by what it measures, as one document, not only item by
    item."""
    children = children or []
    listed = sum(kind == LISTED_ITEMS.get(stored.kind) for kind, _ in children)
    data = stored.data
    kind = stored.kind
    title = data.get("title") or stored.id
    titles = _unique([title] + [t["value"] for t in data.get("titles", [])])
    descriptions = _unique(([data["description"]] if data.get("description") else [])
                           + [t["value"] for t in data.get("descriptions", [])]
                           + [data.get(k) for k in ("abstract", "technical_abstract") if data.get(k)])
    keywords = _unique(data.get("keywords", []) + data.get("topics", []) + data.get("subjects", [])
                       + data.get("concepts", []))
    questions = [t["value"] for t in data.get("question_texts", [])]
    options = data.get("categories", []) or data.get("options", [])
    categories = _unique([o["label"] for o in options if not o.get("missing")])
    names = _unique([data.get("name") or ""] + [i["value"] for i in data.get("identifiers", [])]
                    + [a["name"] for a in data.get("creators", []) + data.get("funders", [])]
                    + [data.get(k) or "" for k in ("grant_reference", "lead_organisation", "funder",
                                                   "number")])
    if kind == "question":  # a question's title is its text
        questions, titles = titles, []
    questions = [q for q in questions if q not in titles]  # a label often repeats the question
    contents = _unique([title for _, title in children[:CONTENTS_LIMIT]])
    fields = {"title": "\n".join(titles), "description": "\n".join(descriptions),
              "keywords": "\n".join(keywords), "question": "\n".join(questions),
              "categories": "\n".join(categories), "names": "\n".join(names),
              "contents": "\n".join(contents)}
    return IndexDocument(
        id=stored.id, kind=kind, parent=stored.parent, title=title,
        fields={k: v for k, v in fields.items() if v},
        embed_text=embed_text(kind, titles, questions, descriptions, keywords, categories, contents),
        facets=facet_values(stored),
        ranges=range_values(data, listed),
        display=display_values(stored, descriptions, questions, listed),
        aliases=record_aliases(kind, titles, data.get("identifiers", [])),
        family=family_key(kind, title),
        languages=declared_languages(data))


def embed_text(kind: str, titles: list[str], questions: list[str], descriptions: list[str],
               keywords: list[str], categories: list[str], contents: list[str]) -> str:
    """One passage per record: what it is called and asks first, then what describes it, then
    (room allowing) the items it holds."""
    head = _unique(titles[:1] + questions[:1]) if kind != "question" else questions[:1]
    parts = head + ([", ".join(keywords[:30])] if keywords else []) + descriptions[:1]
    if categories and kind in ("variable", "question"):
        parts.append(" / ".join(categories[:CATEGORY_LIMIT]))
    if contents:
        parts.append("; ".join(contents))
    return " \n".join(parts)[:EMBED_CHARS]


def facet_values(stored: StoredRecord) -> dict[str, list[str]]:
    """Facet values normalised for counting and filtering (the stored record keeps what its
    sources wrote): places as ISO countries and UK nations, topics case-folded, the publishing
    catalogue inferred where the sources state none, and the questionnaire an instrument is a
    version of (or a study lists)."""
    data = stored.data
    funders = [a["name"] for a in data.get("funders", []) if a.get("role") != "sponsor"] \
        or [a["name"] for a in data.get("funders", [])]
    if data.get("funder"):
        funders.append(data["funder"])
    questionnaires = [questionnaire_name(data.get("title") or "")] \
        if stored.kind == "instrument" else [questionnaire_name(n) for n in data.get("instruments", [])]
    values = {
        "source": stored.sources,
        "catalogue": _catalogues(stored),
        "country": [value for place in _places(data) for value in facet_places(place)],
        "language": [language_code(code) for code in data.get("language", [])],
        "topic": [topic_value(k) for k in data.get("topics", []) + data.get("keywords", [])
                  + data.get("subjects", [])],
        "design": [d.strip() for d in data.get("study_design", [])],
        "resource_type": [t for t in (data.get("resource_type"), data.get("output_type")) if t],
        "funder": funders,
        "questionnaire": questionnaires,
    }
    return {name: _unique([v for v in found if v]) for name, found in values.items() if found}


def range_values(data: dict[str, Any], child_count: int) -> dict[str, float | None]:
    """Years, ages, sample size and size in items: the larger of the count the source states and
    the items listed here (a dataset may state 4,691 variables and list none)."""
    coverage = data.get("temporal_coverage") or "/".join(
        [data.get("start") or "", data.get("end") or ""] + data.get("years", []))
    years = [int(y) for y in YEAR.findall(coverage)]
    ages = [int(a) for a in NUMBER.findall(data.get("age_coverage") or "")]
    age_max: float | None = max(ages) if ages else None
    if ages and "+" in (data.get("age_coverage") or ""):
        age_max = 120
    declared = data.get("variable_count") or data.get("question_count")
    variables = max(declared or 0, child_count) or None
    return {"year_start": min(years) if years else None, "year_end": max(years) if years else None,
            "age_min": min(ages) if ages else None, "age_max": age_max,
            "sample_size": data.get("sample_size"), "variables": variables}


def display_values(stored: StoredRecord, descriptions: list[str], questions: list[str],
                   listed: int = 0) -> dict[str, Any]:
    data = stored.data
    return {"items": listed, "url": data.get("url"),
            "snippet": (descriptions[0][:300] if descriptions else None),
            "name": data.get("name"), "question": questions[0] if questions else None,
            "countries": _unique([value for place in _places(data)
                                  for value in (facet_places(place) or [place])]),
            "catalogues": _catalogues(stored)}


def _places(data: dict[str, Any]) -> list[str]:
    return data.get("spatial_coverage", []) + ([data["country"]] if data.get("country") else [])


def _catalogues(stored: StoredRecord) -> list[str]:
    return record_catalogues(stored.catalogues, stored.data, stored.locations)


def declared_languages(data: dict[str, Any]) -> list[str]:
    return _unique([language_code(code) for code in data.get("language", [])])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in items if item and item.strip()))
