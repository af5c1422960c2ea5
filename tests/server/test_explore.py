"""The explore page over HTTP on the indexed test site: every bar opens a search that lists
exactly the count it shows, every bar says its count in text, and the chips of an item page lead
to results (issue 11: `topic:CHILDREN` and `country:GB` chips found nothing), also as a browser
shows them at desktop, tablet and phone widths."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser

from tests.server.site import Site

FSD = "financial-awareness-of-finnish-people-2014"


ROW = re.compile(r'<(?:a|span) class="bar-row"(?: href="([^"]*)")?>(.*?)</(?:a|span)>\s*(?:<ol|</li>)', re.S)
LABEL = re.compile(r'<span class="bar-label">(.*?)</span>\s*<svg', re.S)
VALUE = re.compile(r'<span class="bar-value"[^>]*>(.*)', re.S)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def bar_rows(page: str) -> list[tuple[str | None, str, str]]:
    """(link or None, label, count as text) of each bar on the page, as its HTML says them."""
    rows = []
    for href, inner in ROW.findall(page):
        label, value = LABEL.search(inner), VALUE.search(inner)
        assert label and value, inner
        rows.append((html.unescape(href) or None, text(label.group(1)), text(value.group(1))))
    return rows


def search_total(site: Site, href: str) -> int:
    """The total the search page shows for a link, read from the JSON API given the same query."""
    parts = urlsplit(href)
    assert parts.path == "/" and not parts.netloc, href
    response = httpx.get(f"{site.url}/api/search?{parts.query}&size=1&facets=false", timeout=60)
    assert response.status_code == 200, (href, response.text[:300])
    return response.json()["total"]


def test_every_explore_bar_opens_a_search_with_its_count(search_site: Site) -> None:
    page = httpx.get(f"{search_site.url}/explore", timeout=60)
    assert page.status_code == 200
    rows = bar_rows(page.text)
    linked = [(href, label, value) for href, label, value in rows if href]
    assert len(linked) >= 25, rows
    for href, label, value in rows:
        assert re.fullmatch(r"[\d,]+ [a-z ]+", value), (label, value)  # the count as text, with its unit
        assert (href is None) == value.startswith("0 "), label  # a bar of 0 leads nowhere: no link
    wrong = [(label, value, search_total(search_site, href)) for href, label, value in linked
             if search_total(search_site, href) != int(value.split()[0].replace(",", ""))]
    assert wrong == []
    countries = [label for href, label, _ in linked if "country%3A" in href]
    assert "United Kingdom GB" in countries and "GB" not in countries


def test_topic_and_country_filters_from_any_spelling_give_the_same_results(search_site: Site) -> None:
    def total(*filters: str) -> int:
        return httpx.get(f"{search_site.url}/api/search", params={"filter": list(filters), "size": 1},
                         timeout=60).json()["total"]
    assert total("country:GB") == total("country:United Kingdom") == total("country:uk") > 0
    assert total("country:Finland") == total("country:FI") == total("country:Suomi") > 0
    topic = httpx.get(f"{search_site.url}/api/facets", timeout=60).json()["facets"]["topic"][0]
    assert total(f"topic:{topic['value'].upper()}") == total(f"topic:{topic['value']}") == topic["count"]


def test_every_topic_chip_on_an_item_page_gives_results(search_site: Site) -> None:
    page = httpx.get(f"{search_site.url}/items/{FSD}", timeout=60).text
    chips = sorted(set(re.findall(r'href="(/\?filter=(?:topic|country)[^"]+)"', page)))
    assert chips, "the item page shows no topic chips"
    for href in chips:
        assert search_total(search_site, html.unescape(href)) > 0, href



def test_totals_say_one_of_a_kind_in_the_singular(search_site: Site) -> None:
    page = httpx.get(f"{search_site.url}/explore").text
    tiles = re.findall(r'<li><span class="num">([\d,]+)</span> ([^<]+)</li>', page)
    singular = {"study or dataset", "questionnaire", "variable", "question", "grant", "record in all"}
    assert len(tiles) == 6 and ("1", "grant") in tiles  # the search slice holds one grant
    assert all((count == "1") == (noun in singular) for count, noun in tiles), tiles


# ---- in the browser ----------------------------------------------------------------------------

VISIBLE_FILTER_LINKS = """els => els.filter(e => e.getClientRects().length > 0)
                                 .map(e => e.getAttribute('href'))"""


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (768, 1024), (390, 844)])
def test_every_chip_and_bar_a_screen_shows_gives_results(browser: Browser, search_site: Site,
                                                        width: int, height: int) -> None:
    """Each filter link the rendered item page and /explore show at this width leads to results,
    and following one in the browser lists them."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for path in (f"/items/{FSD}", "/explore"):
        page.goto(search_site.url + path)
        links = sorted(set(page.eval_on_selector_all('main a[href^="/?filter="]', VISIBLE_FILTER_LINKS)))
        assert links, f"{path} shows no filter link at {width} px"
        assert [href for href in links if search_total(search_site, href) == 0] == [], path
        page.locator(f'main a[href="{links[0]}"]').first.click()
        page.wait_for_url(re.compile(r"/\?filter="))
        assert page.locator(".hit").count() > 0, (path, links[0])
    context.close()
