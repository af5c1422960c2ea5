"""Who is the same as whom: records of one study (or grant) held under different ids.

Identifiers decide first: records that share an identity key (a DOI, a study number, a grant
reference) join one cluster unless another identifier disagrees (two GESIS numbers, two study
numbers, unrelated DOIs). Titles are only evidence on top: records with no shared key join when
their titles are the same once normalised, their years agree, a creator or publisher is shared,
and no identifier disagrees. A title never merges anything on its own.

Clusters are built by union-find over whole clusters, so a chain A~B~C cannot smuggle in a
conflict between A and C: every union checks the two clusters' identifiers together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from discovery.linking.identifiers import (GRANT_SCHEMES, IDENTITY_SCHEMES, STUDY_NUMBER_SCHEMES,
                                           disagreement, identity_keys)
from discovery.model import Identifier, Kind, Project, Record, Study

# kinds that may be the same thing as each other; variables and questions follow their parents
FAMILIES: dict[Kind, str] = {Kind.STUDY: "study", Kind.DATASET: "study", Kind.PROJECT: "project",
                             Kind.ORGANISATION: "organisation", Kind.PERSON: "person"}
CONFLICT_SCHEMES = {"study": STUDY_NUMBER_SCHEMES, "project": GRANT_SCHEMES,
                    "organisation": (), "person": ()}
IDENTIFIER_CONFIDENCE = 1.0
TITLE_CONFIDENCE = 0.85
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_WORD = re.compile(r"\w+")
_TITLE_STOP = frozenset({"the", "a", "an", "of", "and", "der", "die", "das", "und"})


@dataclass
class Candidate:
    """What identity looks at in one record."""

    id: str
    family: str
    keys: set[str]
    title_key: str
    years: frozenset[str]
    people: frozenset[str]
    publisher: str | None
    created_at: str
    sources: int


@dataclass
class Cluster:
    """Records found to be one thing; `canonical` stands for it."""

    canonical: str
    members: dict[str, tuple[float, str]] = field(default_factory=dict)  # id -> (confidence, why)


def candidate(record: Record, created_at: str, sources: int) -> Candidate | None:
    family = FAMILIES.get(record.kind)
    if family is None:
        return None
    urls = [link.url for link in record.links] if isinstance(record, Study) else []
    keys = identity_keys(record.aliases(), urls)
    if isinstance(record, Project) and record.grant_reference:
        keys |= identity_keys([Identifier(scheme="grant", value=record.grant_reference).alias()])
    people: set[str] = set()
    publisher = None
    years: set[str] = set(_YEAR.findall(record.title))
    if isinstance(record, Study):
        people = {_family_name(agent.name) for agent in record.creators if agent.name}
        publisher = normalise_title(record.publisher.name) if record.publisher else None
        years |= set(_YEAR.findall(record.temporal_coverage or ""))
    return Candidate(id=record.id, family=family, keys=keys, title_key=normalise_title(record.title),
                     years=frozenset(years), people=frozenset(p for p in people if p),
                     publisher=publisher, created_at=created_at, sources=sources)


def normalise_title(title: str) -> str:
    """Case, accents, punctuation and articles do not make titles different."""
    text = unicodedata.normalize("NFKD", title.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(w for w in _WORD.findall(text) if w not in _TITLE_STOP)


def _family_name(name: str) -> str:
    """`Hood, C.C.` and `C. C. Hood` both give `hood`."""
    name = name.strip()
    if "," in name:
        name = name.split(",", 1)[0]
    else:
        name = name.split()[-1] if name.split() else ""
    return normalise_title(name)


class _Clusters:
    """Union-find over candidates, keeping each cluster's keys and members for conflict checks."""

    def __init__(self, candidates: list[Candidate], apart: dict[str, set[str]]) -> None:
        self.parent = {c.id: c.id for c in candidates}
        self.keys = {c.id: set(c.keys) for c in candidates}
        self.members = {c.id: {c.id} for c in candidates}
        self.apart = apart
        self.edges: list[tuple[str, str, float, str]] = []
        self.rejected: list[str] = []

    def find(self, rid: str) -> str:
        while self.parent[rid] != rid:
            self.parent[rid] = self.parent[self.parent[rid]]
            rid = self.parent[rid]
        return rid

    def join(self, a: str, b: str, confidence: float, evidence: str, schemes: Iterable[str]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if any(other in self.members[rb] for m in self.members[ra] for other in self.apart.get(m, ())):
            return
        reason = disagreement(self.keys[ra], self.keys[rb], schemes)
        if reason:
            self.rejected.append(f"{a} / {b}: {reason}")
            return
        self.parent[rb] = ra
        self.keys[ra] |= self.keys.pop(rb)
        self.members[ra] |= self.members.pop(rb)
        self.edges.append((a, b, confidence, evidence))


def cluster_records(candidates: list[Candidate], apart: set[frozenset[str]]
                    ) -> tuple[list[Cluster], list[str]]:
    """Clusters of two or more records, and the joins refused because identifiers disagreed.
    `apart` holds pairs known to be different things (a study and its own sub-dataset), which
    never join, whatever they share."""
    by_id = {c.id: c for c in candidates}
    partners: dict[str, set[str]] = {}
    for pair in apart:
        x, y = tuple(pair)
        partners.setdefault(x, set()).add(y)
        partners.setdefault(y, set()).add(x)
    forest = _Clusters(candidates, partners)
    try_join = forest.join

    # 1. shared identity keys, rarest key first so a key many records share is tried last
    holders: dict[tuple[str, str], list[str]] = {}
    for c in candidates:
        for key in c.keys:
            holders.setdefault((c.family, key), []).append(c.id)
    for (family, key), ids in sorted(holders.items(), key=lambda item: (len(item[1]), item[0])):
        ids = sorted(ids)
        for other in ids[1:]:
            try_join(ids[0], other, IDENTIFIER_CONFIDENCE, f"shares identifier {key}",
                     CONFLICT_SCHEMES[family])

    # 2. titles as evidence, never alone: same normalised title + years + a shared person or
    # publisher, and no identifier of any scheme may disagree
    by_title: dict[tuple[str, str], list[str]] = {}
    for c in candidates:
        if c.family == "study" and len(c.title_key.split()) >= 3:
            by_title.setdefault((c.family, c.title_key), []).append(c.id)
    every_scheme = sorted(IDENTITY_SCHEMES)
    for (_, title_key), ids in sorted(by_title.items()):
        ids = sorted(ids)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                ca, cb = by_id[a], by_id[b]
                if ca.years != cb.years:
                    continue
                shared = sorted(ca.people & cb.people)
                same_publisher = ca.publisher is not None and ca.publisher == cb.publisher
                if not shared and not same_publisher:
                    continue
                support = f"creators {', '.join(shared)}" if shared else f"publisher {ca.publisher}"
                years = ", ".join(sorted(ca.years)) or "none stated"
                try_join(a, b, TITLE_CONFIDENCE,
                         f"same title \"{title_key}\", years {years}, same {support}", every_scheme)

    joins: dict[str, list[tuple[float, str]]] = {}
    for a, b, confidence, evidence in forest.edges:
        joins.setdefault(a, []).append((confidence, f"{evidence} (with {b})"))
        joins.setdefault(b, []).append((confidence, f"{evidence} (with {a})"))
    groups: dict[str, list[str]] = {}
    for c in candidates:
        groups.setdefault(forest.find(c.id), []).append(c.id)
    clusters = []
    for ids in groups.values():
        if len(ids) < 2:
            continue
        canonical = min(ids, key=lambda rid: (-by_id[rid].sources, by_id[rid].created_at, rid))
        cluster = Cluster(canonical=canonical)
        for rid in sorted(ids):
            if rid == canonical:
                cluster.members[rid] = (1.0, "canonical record of the cluster")
            else:  # the strongest join it took part in
                cluster.members[rid] = max(joins[rid], key=lambda join: join[0])
        clusters.append(cluster)
    return sorted(clusters, key=lambda c: c.canonical), forest.rejected

