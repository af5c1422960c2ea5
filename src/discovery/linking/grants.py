"""Dataset -> grant edges from what records state, most certain first.

1. Grant numbers the dataset states (DDI `grantNo`, schema.org `funding` identifiers, DataCite
   `fundingReference` award numbers, CESSDA funding) that a grant in the catalogue carries: 1.0.
2. A GtR research-database outcome of a grant whose DOI or URL is the dataset's: 0.95, and the
   outcome is the same thing as the dataset.
3. A grant reference written in the dataset's texts: 0.9.
4. A grant's full title written in the dataset's texts: 0.85.
Textual resemblance (`text_match`) comes after these, with lower confidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from discovery.linking.identifiers import grant_references, identity_keys
from discovery.linking.identity import normalise_title
from discovery.model import Output, Predicate, Project, Study, normalise_grant

RESEARCH_DATABASE = "research database and model"
STATED, OUTCOME, MENTIONED, TITLED = 1.0, 0.95, 0.9, 0.85
MIN_TITLE_WORDS = 4
_GRANT_KEYS = re.compile(r"(?:award|grant)_?(?:number|no|id|identifier)$", re.I)


@dataclass(frozen=True)
class Found:
    """One edge a rule found: subject -> object, with why and how sure."""

    subject: str
    object: str
    confidence: float
    evidence: str
    predicate: Predicate = Predicate.FUNDED_BY


class GrantIndex:
    """Grants by reference and by normalised title."""

    def __init__(self, projects: Iterable[Project]) -> None:
        self.by_reference: dict[str, str] = {}
        self.by_title: dict[str, str] = {}
        for project in projects:
            references = [i.value for i in project.identifiers if i.scheme == "grant"]
            if project.grant_reference:
                references.append(project.grant_reference)
            for reference in references:
                self.by_reference.setdefault(normalise_grant(reference), project.id)
            title = normalise_title(project.title)
            if len(title.split()) >= MIN_TITLE_WORDS:
                self.by_title.setdefault(title, project.id)


def study_texts(study: Study) -> list[str]:
    """The free texts of a study where a grant may be named."""
    texts = [t.value for t in study.descriptions] or ([study.description] if study.description else [])
    return texts + [t.value for t in study.titles]


def stated_references(study: Study) -> list[tuple[str, str]]:
    """(reference, where) for every grant number the study's fields state."""
    found = [(number, "grant numbers") for number in study.grant_numbers]
    found += [(i.value, "identifiers") for i in study.identifiers if i.scheme == "grant"]
    found += [(value, f"extra.{key}") for key, value in _walk(study.extra) if _GRANT_KEYS.search(key)]
    return found


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, text) for every string inside nested extra fields, e.g. DataCite fundingReferences."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        yield key, str(value)


def links_stated(study: Study, grants: GrantIndex) -> list[Found]:
    found: dict[str, Found] = {}
    for reference, where in stated_references(study):
        project = grants.by_reference.get(normalise_grant(reference))
        if project and project not in found:
            found[project] = Found(study.id, project, STATED,
                                   f"grant reference {normalise_grant(reference)} stated in the "
                                   f"dataset's {where}")
    texts = study_texts(study)
    for text in texts:
        for reference in grant_references(text):
            project = grants.by_reference.get(reference)
            if project and project not in found:
                found[project] = Found(study.id, project, MENTIONED,
                                       f"grant reference {reference} written in the dataset's text: "
                                       f"\"{_context(text, reference)}\"")
    body = " " + normalise_title(" ".join(texts)) + " "
    for title, project in grants.by_title.items():
        if project not in found and f" {title} " in body:
            found[project] = Found(study.id, project, TITLED,
                                   f"the grant's title \"{title}\" is written in the dataset's text")
    return list(found.values())


def links_from_outcomes(outputs: Iterable[Output], studies_by_key: dict[str, str]) -> list[Found]:
    """Research-database outcomes of grants that are datasets in the catalogue: the dataset is
    funded by the outcome's grant, and the outcome is the same thing as the dataset."""
    found = []
    for output in outputs:
        if output.output_type != RESEARCH_DATABASE or not output.project_id:
            continue
        urls = [u for u in [output.url, *output.fields.values()] if u and "://" in u]
        keys = identity_keys(output.aliases(), urls)
        matches = sorted({studies_by_key[k] for k in keys if k in studies_by_key})
        for study in matches:
            shared = sorted(k for k in keys if studies_by_key.get(k) == study)
            why = f"GtR research database outcome \"{output.title}\" points at {', '.join(shared)}"
            found.append(Found(study, output.project_id, OUTCOME, why))
            found.append(Found(output.id, study, OUTCOME, why, Predicate.SAME_AS))
    return found


def _context(text: str, reference: str, width: int = 60) -> str:
    at = text.upper().find(reference)
    if at < 0:
        return reference
    start, end = max(0, at - width), min(len(text), at + len(reference) + width)
    return ("…" if start else "") + " ".join(text[start:end].split()) + ("…" if end < len(text) else "")
