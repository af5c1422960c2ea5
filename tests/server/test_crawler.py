"""The link crawler: every internal link of the site, crawled from `/` on a small catalogue with
every kind of record, leads to a page (no error, no JSON, no empty search); and the crawler
itself catches each kind of dead end on a small site built to have them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from discovery.server.crawler import crawl
from tests.server.site import PageHandler, Site, handled_site

PAGE_SECTIONS = {"(search)", "items", "variables", "questionnaires", "questions", "projects",
                 "records", "explore", "harmonise", "docs", "sitemap.xml"}


def test_every_internal_link_of_the_site_leads_somewhere(crawl_site: Site) -> None:
    report = crawl(crawl_site.url)
    problems = "\n".join(f"{p.reason}: {p.url} (linked from {p.linked_from})" for p in report.problems)
    assert report.problems == [], problems
    assert PAGE_SECTIONS <= set(report.by_section), report.by_section
    # every record's page is reached: the 3 questionnaires' 7 + 8 + 36 questions, the study's
    # 234 variables and the questionnaire's 45, the grant's 20 outcomes and its organisation
    assert report.by_section["questionnaires"] >= 3 and report.by_section["questions"] >= 51
    assert report.by_section["variables"] >= 234 + 45 and report.by_section["records"] >= 21
    assert report.links > report.fetched > 500


# A site with one of each dead end, and the links that are fine beside them.
BROKEN = {
    "/": '<a href="/page">a page</a> <a href="/missing">gone</a> <a href="/data.json">data</a> '
         '<a download href="/file.json">a file</a> <a href="/?q=nothing">empty search</a> '
         '<a href="https://example.org/">elsewhere</a> <a href="/page#part">same page</a>'
         '<section class="results" data-total="3"></section>',
    "/page": '<a href="/">home</a> <a href="/?q=something">a search</a>',
}


class Handler(PageHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        path = self.path
        if path in ("/data.json", "/file.json"):
            body, kind = json.dumps({"a": 1}).encode(), "application/json"
        elif path == "/?q=nothing":
            body, kind = b'<section class="results" data-total="0"></section>', "text/html"
        elif path == "/?q=something":
            body, kind = b'<section class="results" data-total="2"></section>', "text/html"
        elif path in BROKEN:
            body, kind = BROKEN[path].encode(), "text/html"
        else:
            self.send_error(404)
            return
        self.answer(body, kind, {"Content-Disposition": 'attachment; filename="file.json"'}
                    if path == "/file.json" else None)


@pytest.fixture
def broken_site() -> Iterator[str]:
    with handled_site(Handler) as url:
        yield url


def test_the_crawler_reports_each_dead_end_with_the_page_that_links_to_it(broken_site: str) -> None:
    report = crawl(broken_site)
    found = {(p.url.removeprefix(broken_site), p.reason, p.linked_from.removeprefix(broken_site))
             for p in report.problems}
    assert found == {("/missing", "HTTP 404", "/"), ("/data.json", "opens JSON (application/json)", "/"),
                     ("/?q=nothing", "leads to 0 results", "/")}
    assert report.fetched == 7 and report.external == 1  # the fragment link is the page it names
    assert report.links == 8
