"""schema.org Dataset JSON-LD for item pages, shaped by Google's Dataset guidance.

Starts from the record's own schema.org mapping and adds what a page knows from the graph: the
canonical URL, the variables measured, the grants that fund it, and the catalogues holding it.
Where the record lacks a value Google asks for, we emit only what is true:
- description shorter than 50 characters: composed from the title and the record's own facts
  (kind, publisher, coverage, variables, topics); longer than 5,000: cut at a word boundary.
- identifier missing: the canonical URL of the page, which is the record's identity here.
- includedInDataCatalog: the catalogues that published it plus this catalogue.
- temporalCoverage that is not ISO 8601 is left out (the page still shows it as text).
- creator, funder, license, spatialCoverage: left out when no source names them.
- url, sameAs, contentUrl: only links `urls.safe_url` accepts (no `javascript:` from a source);
  a license that reads as a link is kept only if it is a safe one.
"""

from __future__ import annotations

import re
from typing import Any

from discovery.export.urls import reads_as_link, safe_url
from discovery.model import Project, Study, Variable, as_list

DESCRIPTION_MIN = 50
DESCRIPTION_MAX = 5000
MAX_VARIABLES = 1000
_DATE = r"(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)?)?|\.\.)"
ISO_8601_INTERVAL = re.compile(rf"^{_DATE}(/{_DATE})?$")
LINK_KEYS = ("url", "sameAs", "contentUrl")


def dataset_jsonld(study: Study, *, url: str, catalogue_name: str, catalogue_url: str,
                   variables: list[Variable], grants: list[tuple[Project, str]],
                   variable_url: Any = None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """JSON-LD for one study. `base` is the graph-enriched JSON-LD of the linking layer (else
    the record's own mapping); `grants` pairs each funding project with its page URL;
    `variable_url(id)` gives a variable's page URL when variables have pages."""
    data = dict(base) if base is not None else study.to_schema_org()
    data["@id"] = url
    data["url"] = url
    data["description"] = dataset_description(study, len(variables))
    data["identifier"] = _distinct(as_list(data.get("identifier"))) or [url]
    same_as = [link for link in [study.url, *data.get("sameAs", [])] if link and link != url]
    if same_as:
        data["sameAs"] = list(dict.fromkeys(same_as))
    if study.temporal_coverage and ISO_8601_INTERVAL.match(study.temporal_coverage):
        data["temporalCoverage"] = study.temporal_coverage
    else:
        data.pop("temporalCoverage", None)
    funders = [f for f in as_list(data.get("funder")) if isinstance(f, dict) and f.get("name")]
    funders += [{"@type": "Organization", "name": project.funder} for project, _ in grants
                if project.funder]
    if funders:
        data["funder"] = [{**f, "@type": f.get("@type") if f.get("@type") == "Person"
                           else "Organization"} for f in {f["name"]: f for f in funders}.values()]
    if grants and not data.get("funding"):
        data["funding"] = [_grant(project, page) for project, page in grants]
    elif grants:
        pages: dict[str | None, str] = {project.title: page for project, page in grants}  # None: no name
        data["funding"] = [{**node, "url": node.get("url") or pages.get(node.get("name"))}
                           if isinstance(node, dict) else node for node in as_list(data["funding"])]
    catalogs = as_list(data.get("includedInDataCatalog"))
    if study.provenance.catalogue and study.provenance.catalogue not in {c["name"] for c in catalogs}:
        catalogs.append({"@type": "DataCatalog", "name": study.provenance.catalogue})
    catalogs.append({"@type": "DataCatalog", "name": catalogue_name, "url": catalogue_url})
    data["includedInDataCatalog"] = catalogs
    if variables:
        data["variableMeasured"] = [_variable(v, variable_url) for v in variables[:MAX_VARIABLES]]
    return _safe_links(data)


def _safe_links(node: Any) -> Any:
    """The JSON-LD with every link under LINK_KEYS passed through `safe_url`; a link it refuses
    is left out (search engines show these links to people)."""
    if isinstance(node, list):
        return [_safe_links(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key == "license" and reads_as_link(value):
            if safe_url(value):
                kept[key] = safe_url(value)
            continue
        if key not in LINK_KEYS:
            kept[key] = _safe_links(value)
            continue
        links = [link for link in map(safe_url, as_list(value)) if link]
        if links:
            kept[key] = links if isinstance(value, list) else links[0]
    return kept


def dataset_description(study: Study, variable_count: int = 0) -> str:
    """The record's description when it fits Google's 50-5,000 characters, else an honest one."""
    text = " ".join((study.description or "").split())
    if len(text) >= DESCRIPTION_MIN:
        return _cut(text, DESCRIPTION_MAX)
    return _cut(composed_description(study, variable_count, text), DESCRIPTION_MAX)


def composed_description(study: Study, variable_count: int, own: str = "") -> str:
    """A description built only from the record's facts, for records that have too little text."""
    kind = (study.resource_type or study.kind.value).strip().rstrip(".")
    parts = [f"{study.title.rstrip('.')}: {kind}"]
    source = study.publisher.name if study.publisher else study.provenance.catalogue
    if source:
        parts.append(f"published by {source}")
    if study.spatial_coverage:
        parts.append("covering " + ", ".join(study.spatial_coverage[:5]))
    if study.temporal_coverage:
        parts.append(f"for the period {study.temporal_coverage}")
    count = variable_count or study.variable_count or 0
    if count:
        parts.append(f"with {count} variables")
    if study.topics or study.keywords:
        parts.append("about " + ", ".join((study.topics or study.keywords)[:5]))
    sentence = ", ".join(parts) + "."
    if own:
        sentence = f"{own.rstrip('.')}. {sentence}"
    if len(sentence) < DESCRIPTION_MIN:
        sentence += f" Catalogued from {study.provenance.source} metadata."
    return sentence


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0] + "…"


def _distinct(values: list[Any]) -> list[Any]:
    """Each value once (the record's identifiers, as `to_schema_org` maps them, may repeat)."""
    return list({repr(value): value for value in values}.values())


def _grant(project: Project, page: str) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "MonetaryGrant" if project.amount is not None else "Grant",
                            "name": project.title, "url": page}
    if project.grant_reference:
        data["identifier"] = project.grant_reference
    if project.funder:
        data["funder"] = {"@type": "Organization", "name": project.funder}
    return data


def _variable(variable: Variable, variable_url: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "PropertyValue", "name": variable.name}
    description = variable.question_text or (variable.title if variable.title != variable.name
                                             else None)
    if description:
        data["description"] = " ".join(description.split())[:500]
    if variable_url:
        data["url"] = variable_url(variable.id)
    return data
