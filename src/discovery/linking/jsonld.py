"""An item's schema.org JSON-LD with what the graph knows about it, for item pages.

The record's own JSON-LD (`Record.to_schema_org`) is enriched with:
- `sameAs`: the URLs and DOIs of every other record of its cluster, and outcomes that are it;
- `funder` (typed Organization) and `funding` (a schema.org Grant per linked grant, carrying its
  reference, URL and funder) for data; `fundedItem` for a grant, listing the data it funded;
- `hasPart` / `isPartOf` from containment edges, and `isBasedOn` for the instruments data used.
"""

from __future__ import annotations

from typing import Any

from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import NotFoundError
from discovery.linking.funders import funders_named
from discovery.linking.grants import study_texts
from discovery.linking.neighbourhood import neighbourhood
from discovery.model import SCHEMA_TYPES, Predicate, Project, Record, Study, normalise_doi


def item_jsonld(catalogue: CatalogueStore, rid: str) -> dict[str, Any]:
    """Raises NotFoundError when `rid` names no record."""
    record = catalogue.get(rid)
    data = record.to_schema_org()
    hood = neighbourhood(catalogue, record.id)
    own = {data.get("@id"), data.get("url")}

    same = list(data.get("sameAs", []))
    for member in hood.cluster.members:
        if member.id != record.id:
            same += _urls(catalogue, member.id)
    for edge in hood.edges:
        if edge.predicate is Predicate.SAME_AS:
            same += _urls(catalogue, edge.other)
    _put(data, "sameAs", [u for u in dict.fromkeys(same) if u not in own])

    linked = [_get(catalogue, e.other) for e in hood.edges
              if e.predicate is Predicate.FUNDED_BY and e.direction == "out" and e.other_kind == "project"]
    grants = [g for g in linked if isinstance(g, Project)]
    if isinstance(record, Study) and grants:
        funders = list(data.get("funder", []))
        funding = []
        for grant in grants:
            names = _grant_funders(catalogue, grant, record)
            organisations = [{"@type": "Organization", "name": name} for name in names]
            funders += [o for o in organisations if o["name"] not in {f.get("name") for f in funders}]
            node: dict[str, Any] = {"@type": "Grant", "name": grant.title}
            _put(node, "identifier", grant.grant_reference)
            _put(node, "url", grant.url)
            _put(node, "funder", organisations)
            funding.append(node)
        _put(data, "funder", funders)
        data["funding"] = funding

    if isinstance(record, Project):
        funded = [_node(catalogue, e.other) for e in hood.edges
                  if e.predicate is Predicate.FUNDED_BY and e.direction == "in"
                  and e.other_kind in ("study", "dataset")]
        if funded:
            types = data["@type"] if isinstance(data["@type"], list) else [data["@type"]]
            data["@type"] = types if "Grant" in types or "MonetaryGrant" in types else [*types, "Grant"]
            data["fundedItem"] = funded

    parts = [_node(catalogue, e.other) for e in hood.edges
             if e.predicate is Predicate.HAS_PART and e.direction == "out"]
    whole = [_node(catalogue, e.other) for e in hood.edges
             if e.predicate is Predicate.HAS_PART and e.direction == "in"]
    based_on = [_node(catalogue, e.other) for e in hood.edges
                if e.predicate is Predicate.USES_INSTRUMENT and e.direction == "out"]
    _put(data, "hasPart", parts)
    _put(data, "isPartOf", whole)
    _put(data, "isBasedOn", based_on)
    return data


def _grant_funders(catalogue: CatalogueStore, grant: Project, study: Study) -> list[str]:
    """Who funds a grant: as the grant states it, else the funder organisations it is linked to,
    else the funders both the grant's and the study's texts name."""
    if grant.funder:
        return [grant.funder]
    organisations = [r.object for r in catalogue.relations(grant.id)
                     if r.predicate is Predicate.FUNDED_BY and r.subject == grant.id]
    names = [title for _, title in catalogue.titles(organisations).values()]
    if names:
        return names
    grant_text = " ".join([grant.title, grant.abstract or grant.description or "",
                           *[title for _, title in catalogue.titles(
                               r.object for r in catalogue.relations(grant.id)
                               if r.predicate is Predicate.HAS_OUTPUT).values()]])
    study_text = " ".join(study_texts(study) + [a.name for a in study.funders])
    outputs_text = " ".join(_output_urls(catalogue, grant.id))
    return sorted(funders_named(study_text) & funders_named(grant_text + " " + outputs_text))


def _output_urls(catalogue: CatalogueStore, grant_id: str) -> list[str]:
    ids = [r.object for r in catalogue.relations(grant_id) if r.predicate is Predicate.HAS_OUTPUT]
    return [url for rid in ids if (url := getattr(_get(catalogue, rid), "url", None))]


def _get(catalogue: CatalogueStore, rid: str) -> Record | None:
    try:
        return catalogue.get(rid)
    except NotFoundError:
        return None


def _urls(catalogue: CatalogueStore, rid: str) -> list[str]:
    """The URL and DOIs another record is known by."""
    record = _get(catalogue, rid)
    if record is None:
        return []
    urls = [record.url] if record.url else []
    urls += [f"https://doi.org/{normalise_doi(i.value)}" for i in record.identifiers if i.scheme == "doi"]
    return urls


def _node(catalogue: CatalogueStore, rid: str) -> dict[str, Any]:
    record = _get(catalogue, rid)
    if record is None:
        return {"identifier": rid}
    node: dict[str, Any] = {"@type": SCHEMA_TYPES[record.kind], "name": record.title,
                            "identifier": record.id}
    _put(node, "url", record.url)
    return node


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        data[key] = value
