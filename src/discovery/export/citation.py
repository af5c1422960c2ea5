"""Citations of a study or dataset as RIS and BibTeX, for reference managers.

Metadata is untrusted: RIS is line-based, so line breaks inside values are folded to spaces
(a newline must not start a new tag); BibTeX values are escaped so braces and backslashes in a
title cannot close the field or run a macro.

Organisations are corporate authors. BibTeX reads `University of London, Institute of Education`
as a person called "Institute of Education University of London" unless the name is braced;
reference managers read an RIS author without a comma as one name (Zotero's single-field
author), and with one as "Last, First". So a person is written "Last, First" and an
organisation without commas, its parts joined by full stops as the UK Data Service cites them.
"""

from __future__ import annotations

import re

from discovery.model import Agent, Study, normalise_doi

_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&",
                   "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
                   "^": r"\textasciicircum{}"}
_BIBTEX_RE = re.compile("|".join(re.escape(ch) for ch in _BIBTEX_SPECIAL))
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
# Words that make a name an organisation's even where a source types its creator as a person
# (schema.org `creator` Person "SSCZO Southern Sierra Critical Zone Observatory").
_ORGANISATION_WORDS = re.compile(
    r"\b(universit\w*|institut\w*|centre|center|college|school|observatory|consortium|council|"
    r"department|ministry|office|agency|service|bureau|foundation|association|society|"
    r"laborator\w*|archive|survey|statistics|research|commission|committee|authority|trust|"
    r"network|group|programme|program|project|inc|ltd|gmbh|corporation|company)\b", re.IGNORECASE)


def citation_year(study: Study) -> str | None:
    """Year of publication, else the start of the coverage: what a citation shows as its date."""
    for text in (study.date_published, study.temporal_coverage):
        if text and (match := _YEAR.search(text)):
            return match.group(1)
    return None


def study_doi(study: Study) -> str | None:
    for identifier in study.identifiers:
        if identifier.scheme == "doi":
            return normalise_doi(identifier.value)
    return None


def is_organisation(agent: Agent) -> bool:
    """An organisation by its type, or a "person" whose name is plainly an organisation's."""
    if agent.type == "Organization":
        return True
    return "," not in agent.name and bool(_ORGANISATION_WORDS.search(agent.name))


def _authors(study: Study) -> list[Agent]:
    return list(study.creators) or ([study.publisher] if study.publisher else [])


def _ris_name(agent: Agent) -> str:
    name = _one_line(agent.name)
    if is_organisation(agent):
        return re.sub(r"\s*,\s*", ". ", name)
    if "," in name or " " not in name:
        return name
    given, family = name.rsplit(" ", 1)
    return f"{family}, {given}"


def _bibtex_name(agent: Agent) -> str:
    name = _bibtex_value(agent.name)
    return f"{{{name}}}" if is_organisation(agent) else name


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_ris(study: Study, url: str) -> str:
    """RIS record of type DATA; `url` is the canonical page of the record."""
    lines = [("TY", "DATA"), ("TI", study.title)]
    lines += [("AU", _ris_name(agent)) for agent in _authors(study)]
    if year := citation_year(study):
        lines.append(("PY", year))
    if study.publisher:
        lines.append(("PB", study.publisher.name))
    if doi := study_doi(study):
        lines.append(("DO", doi))
    lines.append(("UR", url))
    if study.version:
        lines.append(("ET", study.version))
    lines += [("KW", keyword) for keyword in study.keywords[:30]]
    if study.description:
        lines.append(("AB", study.description))
    lines.append(("ID", study.id))
    body = "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines if value.strip())
    return body + "ER  - \r\n"


def _bibtex_value(text: str) -> str:
    return _BIBTEX_RE.sub(lambda m: _BIBTEX_SPECIAL[m.group(0)], _one_line(text))


def bibtex_key(study: Study) -> str:
    """A key reference managers accept: letters, digits and hyphens from the record id."""
    return re.sub(r"[^A-Za-z0-9-]", "-", study.id)[:60] or "dataset"


def to_bibtex(study: Study, url: str) -> str:
    """BibTeX `@misc` entry (the type most styles render datasets with)."""
    fields = [("title", _bibtex_value(study.title)),
              ("author", " and ".join(_bibtex_name(agent) for agent in _authors(study)))]
    fields.append(("year", citation_year(study) or ""))
    fields.append(("publisher", _bibtex_value(study.publisher.name) if study.publisher else ""))
    fields.append(("doi", _bibtex_value(study_doi(study) or "")))
    fields.append(("url", _bibtex_value(url)))
    fields.append(("version", _bibtex_value(study.version or "")))
    fields.append(("note", "Dataset"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{bibtex_key(study)},\n{body}\n}}\n"
