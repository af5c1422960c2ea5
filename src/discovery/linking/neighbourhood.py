"""A record's neighbourhood: its cluster and every edge into or out of any member, each with the
other record's title, the evidence and the confidence. What `discovery links` and item pages show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from discovery.catalogue.protocol import CatalogueStore
from discovery.linking.clusters import ClusterView, cluster_view
from discovery.model import Predicate

# edges a record has by the hundred; shown as a count with a few examples
CONTAINMENT = frozenset({Predicate.HAS_VARIABLE, Predicate.HAS_QUESTION, Predicate.MEASURED_BY})
# how an edge reads from its object's side
INVERSE = {
    Predicate.FUNDED_BY: "funds", Predicate.HAS_OUTPUT: "output of", Predicate.HAS_PART: "part of",
    Predicate.HAS_VARIABLE: "variable of", Predicate.HAS_QUESTION: "question of",
    Predicate.USES_INSTRUMENT: "instrument of", Predicate.MEASURED_BY: "measures",
    Predicate.LED_BY: "leads", Predicate.HAS_PARTICIPANT: "participates in",
    Predicate.HAS_INVESTIGATOR: "investigator of", Predicate.CREATED_BY: "created",
    Predicate.PUBLISHED_BY: "published", Predicate.AFFILIATED_WITH: "has member",
    Predicate.SAME_AS: "same as",
}


@dataclass
class Edge:
    direction: str  # "out": this record is the subject; "in": it is the object
    predicate: Predicate
    other: str
    other_kind: str | None
    other_title: str | None
    evidence: str | None
    confidence: float

    @property
    def label(self) -> str:
        return self.predicate.value if self.direction == "out" else INVERSE[self.predicate]

    def to_json(self) -> dict[str, Any]:
        return {"direction": self.direction, "predicate": self.predicate.value, "label": self.label,
                "id": self.other, "kind": self.other_kind, "title": self.other_title,
                "evidence": self.evidence, "confidence": self.confidence}


@dataclass
class Neighbourhood:
    id: str
    kind: str
    title: str
    cluster: ClusterView
    edges: list[Edge]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title,
                "cluster": self.cluster.to_json(), "edges": [e.to_json() for e in self.edges]}


def neighbourhood(catalogue: CatalogueStore, key: str) -> Neighbourhood:
    """Raises NotFoundError when `key` names no record."""
    rid = catalogue.resolve(key)
    view = cluster_view(catalogue, rid)
    members = {m.id for m in view.members}
    seen: set[tuple[str, str, str]] = set()
    raw = []
    for member in sorted(members):
        for relation in catalogue.relations(member):
            if relation.subject in members and relation.object in members:
                continue  # the cluster itself is shown as the cluster
            edge = (relation.subject, relation.predicate.value, relation.object)
            if edge not in seen:
                seen.add(edge)
                raw.append(relation)
    others = catalogue.titles(r.object if r.subject in members else r.subject for r in raw)
    edges = []
    for relation in raw:
        outgoing = relation.subject in members
        other = relation.object if outgoing else relation.subject
        kind, title = others.get(other, (None, None))
        edges.append(Edge("out" if outgoing else "in", relation.predicate, other, kind, title,
                          relation.evidence, relation.confidence))
    edges.sort(key=lambda e: (e.predicate in CONTAINMENT, e.direction, e.predicate.value,
                              -e.confidence, e.other))
    kind, title = catalogue.titles([rid])[rid]
    return Neighbourhood(id=rid, kind=kind, title=title, cluster=view, edges=edges)
