"""The explore page's charts on the session's built index: every bar's search lists exactly the
count the bar shows, and the charts say what they count; the catalogue's counts read alike in
every process."""

from __future__ import annotations

import os
import subprocess
import sys

from discovery.catalogue.store import Catalogue
from discovery.model import ParseResult, Provenance, Study, content_hash
from discovery.server.search_params import search_request
from discovery.export.catalogue_summary import Bar, Chart, explore_charts
from discovery.search.service import SearchService


def bars(charts: list[Chart]) -> list[Bar]:
    return [bar for chart in charts for top in chart.bars for bar in [top, *top.parts]]


def total(service: SearchService, bar: Bar) -> int:
    """What the search page shows for the bar's link: the same parameters, read the same way."""
    request = search_request([*bar.params, ("size", "1"), ("facets", "false")])
    return service.search(request).total


def test_every_bar_lists_exactly_its_count(service):
    charts = explore_charts(service.search, this_year=2025)
    linked = [bar for bar in bars(charts) if bar.count]
    assert len(linked) > 30
    mismatched = [(bar.label, bar.count, total(service, bar)) for bar in linked
                  if total(service, bar) != bar.count]
    assert mismatched == []


def test_the_charts_cover_the_data_and_say_what_they_count(service, index_data):
    charts = {chart.id: chart for chart in explore_charts(service.search, this_year=2025)}
    assert list(charts) == ["by-topic", "by-country", "by-year", "by-sample-size", "by-age",
                            "by-questionnaire", "by-catalogue", "by-source", "by-kind"]
    countries = {bar.label: bar for bar in charts["by-country"].bars}
    assert {"Germany", "Finland", "United Kingdom"} <= set(countries)
    assert countries["Germany"].code == "DE"
    assert [bar.label for bar in charts["by-questionnaire"].bars][:1] == ["GAD-7"]
    years = charts["by-year"].bars
    assert years[0].count and years[-1].count  # empty decades at the ends are left out
    assert all(bar.params[-1][0] == "range" for bar in years)
    kinds = {bar.label: bar.count for bar in charts["by-kind"].bars}
    with Catalogue(index_data) as catalogue:
        assert kinds == catalogue.counts_by_kind()  # each variable on its own, not as its study
    assert charts["by-age"].bars == [] and "ages" in charts["by-age"].empty


SUMMARY_TIES = """
import sys
from discovery.catalogue.store import Catalogue
from discovery.export.catalogue_summary import summarise
with Catalogue(sys.argv[1]) as catalogue:
    summary = summarise(catalogue)
print(summary.topics, summary.countries)
"""


def test_counts_tied_between_values_list_them_in_one_order_in_every_process(tmp_path):
    """Each server worker is a process with its own string hashing; /api/stats must not depend
    on which worker answers."""
    topics = ["health", "income", "housing", "crime", "sleep", "diet", "trust", "voting"]
    with Catalogue(tmp_path) as catalogue:
        catalogue.apply("ties.json", b"{}", "2026-12-01T00:00:00+00:00", ParseResult(records=[
            Study(id=f"s{n}", title=f"Study {n}", topics=topics,
                  spatial_coverage=["Finland", "Germany", "France", "Spain", "Italy", "Norway"],
                  provenance=Provenance(source="test", location="ties.json",
                                        content_hash=content_hash(b"{}")))
            for n in range(2)]))
    answers = {subprocess.run([sys.executable, "-c", SUMMARY_TIES, str(tmp_path)], check=True,
                              capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
               for seed in range(1, 4)}
    assert len(answers) == 1 and "('health', 2)" in answers.pop()
