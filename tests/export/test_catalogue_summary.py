"""The explore page's charts on the session's built index: every bar's search lists exactly the
count the bar shows, and the charts say what they count."""

from __future__ import annotations

from discovery.catalogue.store import Catalogue
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
