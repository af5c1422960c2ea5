"""Counts for the explore page: studies and datasets by topic, start year and country, and
records by source format, catalogue and kind.

Computed from the catalogue in one pass over its studies; the caller caches the result because
the catalogue changes only on ingest.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from discovery.catalogue.store import Catalogue
from discovery.model import Kind, Study

_YEAR = re.compile(r"^\s*(\d{4})")
TOP = 20


@dataclass
class CatalogueSummary:
    totals: dict[str, int]
    kinds: dict[str, int]
    sources: list[tuple[str, int]]  # parser format -> distinct records
    catalogues: list[tuple[str, int]]
    topics: list[tuple[str, int]]
    countries: list[tuple[str, int]]
    years: list[tuple[str, int]]  # start year (or decade when the span is long) -> studies
    studies: int = 0
    undated: int = 0
    notes: list[str] = field(default_factory=list)


def summarise(catalogue: Catalogue) -> CatalogueSummary:
    topics: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    years: Counter[int] = Counter()
    studies = undated = 0
    for kind in (Kind.STUDY, Kind.DATASET):
        for rid, _, _, _ in catalogue.list_records(kind.value):
            record = catalogue.get(rid)
            if not isinstance(record, Study):
                continue
            studies += 1
            topics.update(dict.fromkeys(record.topics or record.keywords, 1))
            countries.update(dict.fromkeys(record.spatial_coverage, 1))
            match = _YEAR.match(record.temporal_coverage or "")
            if match:
                years[int(match.group(1))] += 1
            else:
                undated += 1
    sources: Counter[str] = Counter()
    for source, _, count in catalogue.counts_by_source():
        sources[source] += count
    return CatalogueSummary(
        totals=catalogue.totals(), kinds=catalogue.counts_by_kind(),
        sources=sources.most_common(), catalogues=catalogue.counts_by_catalogue(),
        topics=topics.most_common(TOP), countries=countries.most_common(TOP),
        years=_year_buckets(years), studies=studies, undated=undated)


def _year_buckets(years: Counter[int]) -> list[tuple[str, int]]:
    """Single years when they fit a chart, decades when the span is longer than 30 years."""
    if not years:
        return []
    if max(years) - min(years) <= 30:
        return [(str(year), years[year]) for year in range(min(years), max(years) + 1)]
    decades: Counter[int] = Counter()
    for year, count in years.items():
        decades[year - year % 10] += count
    return [(f"{decade}s", decades[decade])
            for decade in range(min(decades), max(decades) + 10, 10)]
