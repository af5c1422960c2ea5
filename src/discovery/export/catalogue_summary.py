"""What the catalogue holds, for the explore page and `/api/stats`: counts from the catalogue
(`summarise`), and charts whose every bar is a search (`explore_charts`).

A chart bar is counted by running the search its link opens: the bar for "children" is the total
of `filter=kind:study&filter=kind:dataset&filter=topic:children`, read from the facet counts
(which are the totals a click on them gives, `search/service.py`) or, for the number ranges, from
a search per bucket. So a bar and the page it leads to cannot disagree, and a bar of 0 is shown
without a link (it would lead nowhere).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from discovery.catalogue.protocol import CatalogueStore
from discovery.index.columns import KINDS
from discovery.index.places import code_of, facet_places, region_country
from discovery.index.topics import topic_value
from discovery.model import Kind, Study
from discovery.search.models import FacetValue, SearchRequest, SearchResults
from discovery.search.service import FACET_VALUES

_YEAR = re.compile(r"^\s*(\d{4})")
TOP = 20
BARS = 15  # bars in a chart of facet values: more do not fit a phone screen
Search = Callable[[SearchRequest], SearchResults]
Params = list[tuple[str, str]]
STUDIES = ["study", "dataset"]
Bucket = tuple[int | None, int | None, str]  # inclusive bounds (None: open) and the bar's label
SAMPLE_SIZES: tuple[Bucket, ...] = (
    (1, 99, "under 100"), (100, 999, "100 to 999"), (1000, 9999, "1,000 to 9,999"),
    (10_000, 99_999, "10,000 to 99,999"), (100_000, None, "100,000 or more"))
AGES: tuple[Bucket, ...] = (
    (0, 4, "0 to 4"), (5, 11, "5 to 11"), (12, 17, "12 to 17"), (18, 24, "18 to 24"),
    (25, 44, "25 to 44"), (45, 64, "45 to 64"), (65, None, "65 and over"))
FIRST_DECADE = 1900  # earlier years share one bar


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


def summarise(catalogue: CatalogueStore) -> CatalogueSummary:
    """Counts over the stored studies and datasets, with places and topics normalised as the
    index normalises them."""
    topics: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    years: Counter[int] = Counter()
    studies = undated = 0
    for kind in (Kind.STUDY, Kind.DATASET):
        ids = [rid for rid, _, _, _ in catalogue.list_records(kind.value)]
        found = catalogue.get_many(ids)  # one query, not two for each study
        for record in (found.get(rid) for rid in ids):
            if not isinstance(record, Study):
                continue
            studies += 1
            # sorted, so values tied in count keep one order in every process (a set's order
            # follows the process's string hashing: two workers listed ties differently)
            topics.update(sorted(set(topic_value(t) for t in record.topics or record.keywords) - {""}))
            countries.update(sorted({value for place in record.spatial_coverage
                                     for value in facet_places(place)}))
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


# ---- charts whose bars are searches --------------------------------------------------------------

@dataclass
class Bar:
    label: str
    count: int
    params: Params  # the search page's query that lists exactly `count` hits
    code: str | None = None  # ISO code of a country or UK nation
    parts: list[Bar] = field(default_factory=list)  # UK nations under their country


@dataclass
class Chart:
    id: str
    title: str
    unit: str  # what a bar counts, for the text beside it: "studies and datasets"
    bars: list[Bar]
    notes: list[str] = field(default_factory=list)  # sentences
    empty: str = "Nothing to count yet."

    @property
    def most(self) -> int:
        """The longest bar's count, which sets the scale."""
        return max((bar.count for top in self.bars for bar in [top, *top.parts]), default=0)


@dataclass
class _Scope:
    """The records a chart counts: a search without words, and the query that repeats it."""

    filters: dict[str, list[str]]
    group: bool = True
    collapse: bool = True

    def params(self, *extra: tuple[str, str]) -> Params:
        found = [("filter", f"{facet}:{value}") for facet, values in self.filters.items()
                 for value in values]
        found += [("group", "false")] * (not self.group) + [("collapse", "false")] * (not self.collapse)
        return found + list(extra)

    def request(self, filters: dict[str, list[str]] | None = None,
                ranges: dict[str, tuple[float | None, float | None]] | None = None,
                facets: bool = False) -> SearchRequest:
        return SearchRequest(filters={**self.filters, **(filters or {})}, ranges=ranges or {},
                             group=self.group, collapse=self.collapse, facets=facets, size=1,
                             variables_per_hit=0, spellcheck=False)


def explore_charts(search: Search, this_year: int | None = None) -> list[Chart]:
    """The explore page's charts: studies and datasets by topic, country, years covered, sample
    size and ages; the most-used questionnaires; every record by catalogue, source and kind."""
    studies = _Scope({"kind": STUDIES})
    facets = search(studies.request(facets=True)).facets
    records = _Scope({}, collapse=False)  # every top-level record, each version on its own
    overall = search(records.request(facets=True))
    each = _Scope({}, group=False)  # variables and questions too, each on its own
    unit = "studies and datasets"
    return [
        _facet_chart("by-topic", "Studies and datasets by topic", unit, studies, "topic",
                     facets.get("topic", [])),
        _country_chart(studies, facets.get("country", []), unit),
        _range_chart(search, studies, "by-year", "Studies and datasets by years covered", "year",
                     _decades(this_year or datetime.date.today().year), "years covered",
                     "A study counts in every decade its years reach."),
        _range_chart(search, studies, "by-sample-size", "Studies and datasets by sample size",
                     "sample_size", SAMPLE_SIZES, "a sample size"),
        _range_chart(search, studies, "by-age", "Studies and datasets by ages covered", "age", AGES,
                     "ages covered", "A study counts in every band its ages reach."),
        _facet_chart("by-questionnaire", "Most-used questionnaires", "records", records,
                     "questionnaire", overall.facets.get("questionnaire", []),
                     ["Each bar counts the records of one questionnaire: its versions (forms, "
                      "translations, copies from other sources) and the studies that name it as "
                      "an instrument."], "No questionnaire in the index yet."),
        _catalogue_chart(search, records, overall),
        _facet_chart("by-source", "Records by source format", "records", records, "source",
                     overall.facets.get("source", [])),
        _kind_chart(search, each),
    ]


def _facet_chart(chart_id: str, title: str, unit: str, scope: _Scope, facet: str,
                 values: list[FacetValue], notes: list[str] | None = None,
                 empty: str = "Nothing to count yet.") -> Chart:
    bars = [Bar(v.value, v.count, scope.params(("filter", f"{facet}:{v.value}")))
            for v in values[:BARS]]
    return Chart(chart_id, title, unit, bars, notes or [], empty)


def _kind_chart(search: Search, scope: _Scope) -> Chart:
    """Records of each kind, each counted on its own: a search per kind, because the kind facet
    counts the hits a record is shown under (a question under its questionnaire)."""
    values = [FacetValue(value=kind, count=search(scope.request({"kind": [kind]})).total)
              for kind in KINDS]
    values = sorted((v for v in values if v.count), key=lambda v: -v.count)
    return _facet_chart("by-kind", "Records by kind", "records", scope, "kind", values,
                        ["Each record counts on its own here: a variable is not counted as its "
                         "study."])


def _country_chart(scope: _Scope, values: list[FacetValue], unit: str) -> Chart:
    """Countries, most first, each holding the UK nations counted under it."""
    bars = [_country_bar(scope, v.value, v.count) for v in values if not region_country(v.value)]
    for bar in bars:
        bar.parts = [_country_bar(scope, v.value, v.count) for v in values
                     if region_country(v.value) == bar.label]
    return Chart("by-country", "Studies and datasets by country", unit, bars[:BARS],
                 ["England, Scotland, Wales and Northern Ireland are shown under the United "
                  "Kingdom; a study of England and Wales counts in both."])


def _country_bar(scope: _Scope, name: str, count: int) -> Bar:
    return Bar(name, count, scope.params(("filter", f"country:{name}")), code_of(name))


def _catalogue_chart(search: Search, scope: _Scope, overall: SearchResults) -> Chart:
    """Records by catalogue, and how many name none (counted while every catalogue is listed)."""
    values = overall.facets.get("catalogue", [])
    chart = _facet_chart("by-catalogue", "Records by catalogue", "records", scope, "catalogue",
                         values)
    if values and len(values) < FACET_VALUES:
        named = search(scope.request({"catalogue": [v.value for v in values]})).total
        if named < overall.total:
            chart.notes.append(
                f"{overall.total - named:,} of {overall.total:,} records name no catalogue: their "
                "sources do not say where they were published (questionnaires read from files, "
                "for instance), and nothing else in them does.")
    return chart


def _range_chart(search: Search, scope: _Scope, chart_id: str, title: str, name: str,
                 buckets: tuple[Bucket, ...], noun: str, overlap: str | None = None) -> Chart:
    """One bar per bucket, each the total of the search for that range; empty buckets before
    the first and after the last counted one are left out."""
    bars = []
    for low, high, label in buckets:
        total = search(scope.request(ranges={name: (low, high)})).total
        bars.append(Bar(label, total, scope.params(("range", f"{name}:{_bound(low)}:{_bound(high)}"))))
    counted = [i for i, bar in enumerate(bars) if bar.count]
    bars = bars[counted[0]:counted[-1] + 1] if counted else []
    chart = Chart(chart_id, title, "studies and datasets", bars,
                  empty=f"No study or dataset in the index states {noun}.")
    stated = search(scope.request(ranges={name: (None, None)})).total
    everyone = search(scope.request()).total
    if bars and stated < everyone:
        chart.notes.append(f"{everyone - stated:,} of {everyone:,} state no {noun.removeprefix('a ')}.")
    if bars and overlap:
        chart.notes.append(overlap)
    return chart


def _bound(value: int | None) -> str:
    return "" if value is None else str(value)


def _decades(this_year: int) -> tuple[Bucket, ...]:
    last = this_year - this_year % 10
    return ((None, FIRST_DECADE - 1, f"before {FIRST_DECADE}"),
            *((d, d + 9, f"{d}s") for d in range(FIRST_DECADE, last + 10, 10)))
