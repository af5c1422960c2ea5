"""Every count the site shows is what its link lists: crawled from `/` on the small catalogue with
every kind of record, each count is checked against its list, followed over all its pages; and the
checker itself catches each kind of wrong count on a small site built to have them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from discovery.server.count_check import check_counts
from tests.server.site import PageHandler, Site, handled_site


def test_every_count_on_the_site_is_what_its_link_lists(crawl_site: Site) -> None:
    report = check_counts(crawl_site.url)
    assert report.mismatches == [], "\n".join(m.line() for m in report.mismatches)
    assert report.crawl.problems == []
    lists = {urlsplit(c.href).path + "#" + urlsplit(c.href).fragment for c in report.claims}
    shown = {c.text for c in report.claims}
    # the questionnaire of 36 questions and 45 variables recorded from it: its hit said 81
    ehis = "/questionnaires/ehis-2025-questionnaire-test-es0-sequence-1-questionnaire"
    assert "36 questions" in shown and f"{ehis}#questions" in lists and f"{ehis}#variables" in lists
    # the study's 234 variables over five pages, from its hit, its header and its pager
    assert "234 variables" in shown and "/items/financial-awareness-of-finnish-people-2014#variables" in lists
    assert any(p.endswith("#outcomes") for p in lists)  # the grant's outcomes, from the dataset
    # search totals and facet values (a value beside a ticked one of its facet included), the
    # explore page's bars, a question's place in its questionnaire
    assert any(c.page.endswith("/explore") for c in report.claims)
    assert any("filter=" in urlsplit(c.page).query and "&filter=" in c.href and c.href.endswith("#results")
               for c in report.claims)
    assert any(urlsplit(c.page).path.startswith("/questions/") and c.href.endswith("#questions")
               for c in report.claims)
    assert len(report.claims) > 1000 and report.lists > 100


# A site with one of each wrong count beside right ones: /list lists a, b on its first page and c
# on its second; /repeat lists a, then a again on its second page.
PAGES = {
    "/": '<!DOCTYPE html><a href="/list" data-count="3">3 things</a> '
         '<a href="/list"><span data-count="4">4</span> things</a> '
         '<p><span data-count="2" data-list="/list">2</span> things</p> '
         '<p><span data-count-min="2" data-list="/list">2+</span> things</p> '
         '<label><input type="checkbox" data-toggle="/list#part" data-count="1"> 1 in part</label> '
         '<a href="/repeat" data-count="1">1 repeated</a> <a href="/list#nowhere" data-count="3">3</a>',
    "/list": '<!DOCTYPE html><ul id="part"><li data-item="a">a</li></ul><li data-item="b">b</li>'
             '<a rel="next" href="/list?page=2">next</a>',
    "/list?page=2": '<!DOCTYPE html><li data-item="c">c</li>',
    "/repeat": '<!DOCTYPE html><li data-item="a">a</li><a rel="next" href="/repeat?page=2">next</a>',
    "/repeat?page=2": '<!DOCTYPE html><li data-item="a">a</li>',
}


class Handler(PageHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        if self.path not in PAGES:
            self.send_error(404)
            return
        self.answer(PAGES[self.path].encode())


@pytest.fixture
def counted_site() -> Iterator[str]:
    with handled_site(Handler) as url:
        yield url


def test_the_checker_reports_each_count_its_list_disagrees_with(counted_site: str) -> None:
    report = check_counts(counted_site)
    found = {(m.claim.text, m.claim.href.removeprefix(counted_site), m.reason) for m in report.mismatches}
    assert found == {
        ("4 things", "/list", "lists 3 over 2 pages"),
        ("2 things", "/list", "lists 3 over 2 pages"),
        ("1 repeated", "/repeat", "lists 'a' 2 times over 2 pages (1 ids listed more than once)"),
        ("3", "/list#nowhere", "has no element #nowhere"),
    }
    assert len(report.claims) == 7 and report.lists == 4  # "3 things", "2+" and the box agree
