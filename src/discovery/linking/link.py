"""One linking run over the whole catalogue: clusters, then grant edges, stored in one swap.

Everything a run derives is stored under `linking:` locations and replaced wholesale by the next
run, so linking can be re-run after any ingest without duplicating or orphaning an edge. Edges
are stated between canonical records, so a study held by three catalogues gets one edge per grant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from discovery.catalogue.protocol import CatalogueStore
from discovery.linking.grants import Found, GrantIndex, links_from_outcomes, links_stated, study_texts
from discovery.linking.identifiers import identity_keys
from discovery.linking.identity import FAMILIES, Cluster, candidate, cluster_records
from discovery.linking.text_match import TextMatcher, dataset_text, grant_text
from discovery.model import Kind, Output, Predicate, Project, Record, Relation, Study

IDENTITY = "linking:identity"
GRANTS = "linking:grants"
TEXT = "linking:text"
GTR_PREFIX = "gtr-"  # how GtR parsers name a resource they only know by GUID
KINDS = [k.value for k in (*FAMILIES, Kind.OUTPUT)]


@dataclass
class LinkReport:
    """What a run found, for the CLI and the lead's ingest summary."""

    records: int = 0
    clusters: int = 0
    clustered_records: int = 0
    kept_apart: list[str] = field(default_factory=list)  # joins refused: identifiers disagree
    same_as: int = 0
    funded_by: int = 0
    funded_by_text: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.records} records compared: {self.clusters} clusters joining "
                f"{self.clustered_records} records, {len(self.kept_apart)} look-alikes kept apart "
                f"by disagreeing identifiers; {self.funded_by} dataset-grant links from identifiers "
                f"and outcomes, {self.funded_by_text} from text; {self.same_as} sameAs edges "
                f"({self.seconds:.1f} s)")


def link_catalogue(catalogue: CatalogueStore, on_step: Callable[[str], None] | None = None) -> LinkReport:
    """(Re)derive every cluster and grant edge; idempotent."""
    started = time.perf_counter()
    step = on_step or (lambda _: None)
    report = LinkReport()
    step("reading records")
    records = list(catalogue.records_of_kinds(KINDS))
    stats = catalogue.record_stats(r.id for r in records)
    report.records = len(records)

    step("clustering")
    apart = {frozenset((r.subject, r.object))
             for r in catalogue.relations(predicates=[Predicate.HAS_PART])}
    candidates = [c for r in records if (c := candidate(r, *stats[r.id]))]
    clusters, report.kept_apart = cluster_records(candidates, apart)
    canonical = {member: c.canonical for c in clusters for member in c.members}
    report.clusters = len(clusters)
    report.clustered_records = sum(len(c.members) for c in clusters)
    relations: list[tuple[Relation, str]] = [(r, IDENTITY) for r in _same_as(clusters)]

    step("linking grants")
    by_gtr = {alias.removeprefix("gtr:"): r.id for r in records
              for alias in r.aliases() if alias.startswith("gtr:")}
    found = _grant_links(records, canonical, by_gtr)
    found += [(item, GRANTS) for item in _resolved_references(catalogue, by_gtr)]
    edges: dict[tuple[str, Predicate, str], tuple[Found, str]] = {}
    for item, location in found:
        predicate = item.predicate
        subject, obj = canonical.get(item.subject, item.subject), canonical.get(item.object, item.object)
        if subject == obj:
            continue
        key = (subject, predicate, obj)
        if key not in edges or edges[key][0].confidence < item.confidence:
            edges[key] = (item, location)
    for (subject, predicate, obj), (item, location) in sorted(edges.items()):
        relations.append((Relation(subject=subject, predicate=predicate, object=obj,
                                   evidence=item.evidence, confidence=item.confidence), location))
        if predicate is Predicate.FUNDED_BY:
            if location == TEXT:
                report.funded_by_text += 1
            else:
                report.funded_by += 1
    report.same_as = sum(1 for r, _ in relations if r.predicate is Predicate.SAME_AS)

    step("storing")
    members = [(member, c.canonical, confidence, evidence) for c in clusters
               for member, (confidence, evidence) in c.members.items()]
    catalogue.replace_links(relations, members)
    report.seconds = time.perf_counter() - started
    return report


def _same_as(clusters: list[Cluster]) -> list[Relation]:
    return [Relation(subject=member, predicate=Predicate.SAME_AS, object=c.canonical,
                     evidence=evidence, confidence=confidence)
            for c in clusters for member, (confidence, evidence) in c.members.items()
            if member != c.canonical]


def _resolved_references(catalogue: CatalogueStore, by_gtr: dict[str, str]) -> list[Found]:
    """Edges a GtR document states to a resource held in another document (an outcome naming its
    project by GUID), restated between the records those GUIDs turned out to be."""
    found = []
    for relation in catalogue.dangling_relations(GTR_PREFIX):
        subject = _gtr_record(relation.subject, by_gtr)
        obj = _gtr_record(relation.object, by_gtr)
        if subject and obj and (subject, obj) != (relation.subject, relation.object):
            found.append(Found(subject, obj, relation.confidence,
                               f"{relation.evidence or 'stated by GtR'}; GtR ids resolved across "
                               f"documents", relation.predicate))
    return found


def _gtr_record(rid: str, by_gtr: dict[str, str]) -> str | None:
    """The record a `gtr-<GUID>` reference names, or the id itself when it is no such reference."""
    if not rid.startswith(GTR_PREFIX):
        return rid
    return by_gtr.get(rid.removeprefix(GTR_PREFIX)) or None


def _grant_links(records: list[Record], canonical: dict[str, str],
                 by_gtr: dict[str, str]) -> list[tuple[Found, str]]:
    studies = [r for r in records if isinstance(r, Study)]
    projects = [r for r in records if isinstance(r, Project)]
    project_ids = {p.id for p in projects}
    outputs = []
    for output in (r for r in records if isinstance(r, Output)):
        project = _gtr_record(output.project_id, by_gtr) if output.project_id else None
        if project in project_ids:
            outputs.append(output.model_copy(update={"project_id": project}))
    if not studies or not projects:
        return []
    grants = GrantIndex(projects)
    found: list[tuple[Found, str]] = []
    linked: set[tuple[str, str]] = set()
    for study in studies:
        for item in links_stated(study, grants):
            found.append((item, GRANTS))
            linked.add((canonical.get(item.subject, item.subject), item.object))
    studies_by_key: dict[str, str] = {}
    for study in studies:
        for key in identity_keys(study.aliases(), [link.url for link in study.links]):
            studies_by_key.setdefault(key, canonical.get(study.id, study.id))
    for item in links_from_outcomes(outputs, studies_by_key):
        found.append((item, GRANTS))
        linked.add((item.subject, item.object))

    outputs_of: dict[str, list[Output]] = {}
    for output in outputs:
        if output.project_id:
            outputs_of.setdefault(output.project_id, []).append(output)
    grant_texts = [grant_text(p.id, p.title, [p.abstract or p.description or "",
                                              p.technical_abstract or ""],
                              [p.planned_impact or "",
                               *[text for o in outputs_of.get(p.id, []) for text in _output_texts(o)]],
                              [p.funder] if p.funder else [])
                   for p in projects]
    datasets = [dataset_text(s.id, s.title, study_texts(s), [a.name for a in s.funders])
                for s in studies if canonical.get(s.id, s.id) == s.id]
    matcher = TextMatcher(grant_texts, datasets)
    for dataset in datasets:
        for evidence in matcher.match(dataset):
            confidence = evidence.confidence()
            if confidence is not None and (dataset.id, evidence.grant) not in linked:
                found.append((Found(dataset.id, evidence.grant, confidence, evidence.describe()), TEXT))
    return found


def _output_texts(output: Output) -> list[str]:
    return [output.title, output.description or "", *output.fields.values(), output.url or ""]
