"""A cluster seen whole: every source record of every member, merged, field by field attributed.

Nothing is stored for this: the per-source versions in `record_sources` are the truth, and the
merge is recomputed with the catalogue's own rule (`merge_with_origins`), so what a page shows
always agrees with what was ingested.
"""

from __future__ import annotations

import json
import dataclasses
from dataclasses import dataclass
from typing import Any

from discovery.catalogue.rules import merge_with_origins
from discovery.catalogue.protocol import CatalogueStore

_NOT_FIELDS = frozenset({"id", "kind"})


@dataclass
class Member:
    id: str
    title: str
    confidence: float
    evidence: str | None


@dataclass
class SourceRecord:
    """One catalogue's or one file's version of a member."""

    record_id: str
    location: str
    source: str
    catalogue: str | None
    fetched_at: str


@dataclass
class FieldOrigin:
    """Where a field's merged value came from, and which sources said something else."""

    field: str
    sources: list[int]  # positions in ClusterView.sources whose values make up the merged value
    differing: list[int] = dataclasses.field(default_factory=list)  # sources with another, unused value


@dataclass
class ClusterView:
    canonical: str
    members: list[Member]
    sources: list[SourceRecord]
    merged: dict[str, Any]
    fields: list[FieldOrigin]

    def to_json(self) -> dict[str, Any]:
        return {
            "canonical": self.canonical,
            "members": [vars(m) for m in self.members],
            "sources": [vars(s) for s in self.sources],
            "fields": {f.field: {"from": [self.sources[i].location for i in f.sources],
                                 "differing": [self.sources[i].location for i in f.differing]}
                       for f in self.fields},
        }


def cluster_view(catalogue: CatalogueStore, key: str) -> ClusterView:
    """The cluster the record `key` names belongs to (a cluster of one when linking joined it to
    nothing). Raises NotFoundError when `key` names no record."""
    rid = catalogue.resolve(key)
    membership = catalogue.cluster(rid) or [(rid, 1.0, None)]
    titles = catalogue.titles(m for m, _, _ in membership)
    members = [Member(m, titles.get(m, ("", m))[1], confidence, evidence)
               for m, confidence, evidence in membership]
    rows = sorted(((row.fetched_at, row.location, member.id, row) for member in members
                   for row in catalogue.sources(member.id)), key=lambda item: item[:3])
    sources = [SourceRecord(record_id=rid_, location=row.location, source=row.source,
                            catalogue=row.catalogue, fetched_at=row.fetched_at)
               for _, _, rid_, row in rows]
    datas = [row.data for *_, row in rows]
    merged, origins = merge_with_origins(datas) if datas else ({}, {})
    fields = []
    for name, positions in origins.items():
        if name in _NOT_FIELDS:
            continue
        value = merged.get(name)
        differing = [i for i, data in enumerate(datas) if i not in positions
                     and data.get(name) not in (None, "", [], {})
                     and _canonical_json(data.get(name)) != _canonical_json(value)
                     and not _within(data.get(name), value)]
        fields.append(FieldOrigin(name, positions, differing))
    return ClusterView(canonical=membership[0][0], members=members, sources=sources, merged=merged,
                       fields=fields)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _within(part: Any, whole: Any) -> bool:
    """A list whose items all made it into the merged list did not say anything else."""
    if isinstance(part, list) and isinstance(whole, list):
        merged = {_canonical_json(item) for item in whole}
        return all(_canonical_json(item) in merged for item in part)
    if isinstance(part, dict) and isinstance(whole, dict):
        return all(_canonical_json(whole.get(k)) == _canonical_json(v) for k, v in part.items())
    return False
