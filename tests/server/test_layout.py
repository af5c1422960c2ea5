"""Every page template on phone, tablet and desktop screens, in Chromium against a real server on
127.0.0.1: nothing wider than the screen from 320 to 1920 px, the first search result on the first
screen, the filters in a panel that a phone keeps closed until asked (and that works without
script), the search options closed after a search, Explore's charts readable on a phone.
Screenshots of every template at every size go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.server.site import Site
from tests.server.browsing import (DESKTOP, NARROWEST, OPEN_ALL, OVERFLOW, PHONE, SCREENS,
                                STICKING_OUT, TEMPLATES, TYPICAL_QUERY, WIDEST, harmonised, shot)

# A sweep of widths, with both sides of every breakpoint in style.css.
BREAKPOINTS = (520, 600, 860)
SWEEP = sorted({*range(NARROWEST, WIDEST + 1, 160), WIDEST, 360, 390, 414, 768, 1024, 1366,
                *(b + d for b in BREAKPOINTS for d in (0, 1))})


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    yield context
    context.close()


def open_at(browser: Browser, size: tuple[int, int], script: bool = True) -> BrowserContext:
    return browser.new_context(viewport={"width": size[0], "height": size[1]},
                               java_script_enabled=script)


@pytest.mark.parametrize("screen", [*SCREENS, "narrowest"])
def test_every_template_fits_the_screen(browser: Browser, crawl_site: Site, screen: str) -> None:
    size = SCREENS.get(screen, (NARROWEST, 640))
    context = open_at(browser, size)
    page = context.new_page()
    for name, path in TEMPLATES.items():
        response = page.goto(crawl_site.url + path)
        assert response is not None and response.status == (404 if name == "error" else 200), name
        expect(page.locator("h1").first).to_be_visible()
        assert page.evaluate(OVERFLOW) <= 0, \
            f"{name} is wider than a {size[0]} px screen: {page.evaluate(STICKING_OUT)}"
        shot(page, f"layout-{name}-{size[0]}x{size[1]}")
    context.close()


def test_no_template_overflows_at_any_width_from_320_to_1920(context: BrowserContext,
                                                            crawl_site: Site) -> None:
    page = context.new_page()
    wider: list[tuple[str, int, int, list[str]]] = []
    for name, path in TEMPLATES.items():
        page.goto(crawl_site.url + path)
        page.evaluate(OPEN_ALL)  # what a person can unfold must fit too
        for width in SWEEP:
            page.set_viewport_size({"width": width, "height": 900})
            extra = page.evaluate(OVERFLOW)
            if extra > 0:
                wider.append((name, width, extra, page.evaluate(STICKING_OUT)))
    assert wider == [], "(template, screen width, pixels too wide, what sticks out): " + repr(wider)


def test_harmonise_results_fit_every_width(context: BrowserContext, crawl_site: Site,
                                           corpus: Path) -> None:
    page = context.new_page()
    harmonised(page, crawl_site.url, corpus)
    page.evaluate(OPEN_ALL)
    wider = []
    for width in SWEEP:
        page.set_viewport_size({"width": width, "height": 900})
        if page.evaluate(OVERFLOW) > 0:
            wider.append((width, page.evaluate(OVERFLOW), page.evaluate(STICKING_OUT)))
        if width in (NARROWEST, *(size[0] for size in SCREENS.values())):
            shot(page, f"layout-harmonise-results-{width}")
    assert wider == [], "(screen width, pixels too wide, what sticks out): " + repr(wider)


# Metadata longer than the crawl site's: a resource type of 80 letters shown as a badge, titles
# and creators in German, from the search site's slice of the corpus (tests/server/site.py).
LONG_METADATA = ("/items/family-life-and-work-experience-before-1918-1870-1973",
                 "/items/allbus-ggss-1996-allgemeine-bevolkerungsumfrage-der-sozialwissenschaften-german")


def test_long_metadata_fits_a_phone(browser: Browser, search_site: Site) -> None:
    context = open_at(browser, (NARROWEST, 640))
    page = context.new_page()
    wider = []
    for path in LONG_METADATA:
        page.goto(search_site.url + path)
        page.evaluate(OPEN_ALL)
        for width in (NARROWEST, 360, PHONE[0]):
            page.set_viewport_size({"width": width, "height": 640})
            if page.evaluate(OVERFLOW) > 0:
                wider.append((path, width, page.evaluate(OVERFLOW), page.evaluate(STICKING_OUT)))
    context.close()
    assert wider == [], "(page, screen width, pixels too wide, what sticks out): " + repr(wider)


def search_from_the_box(page: Page, url: str) -> None:
    """A search as a person makes one: the query typed into the box, then Enter."""
    page.goto(url + "/")
    page.get_by_label("Search query").fill(TYPICAL_QUERY)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q=feeling"))


@pytest.mark.parametrize("screen", SCREENS)
def test_first_result_is_on_the_first_screen(browser: Browser, crawl_site: Site, screen: str) -> None:
    width, height = SCREENS[screen]
    context = open_at(browser, (width, height))
    page = context.new_page()
    search_from_the_box(page, crawl_site.url)
    first = page.locator(".hit").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None and box["y"] + 40 < height, \
        f"the first result starts at {box and box['y']:.0f} px on a {width}x{height} screen"
    # the search sent every option, yet the options panel stays closed
    expect(page.locator("details.search-options")).not_to_have_attribute("open", re.compile(".*"))
    toggle = page.locator("#refine-toggle")
    if width < 861:
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(page.locator("#refine")).to_be_hidden()
    else:
        expect(toggle).to_be_hidden()
        expect(page.locator("#refine")).to_be_visible()
    shot(page, f"search-first-screen-{width}x{height}")
    context.close()


def test_filters_panel_opens_and_closes_on_a_phone(browser: Browser, crawl_site: Site) -> None:
    context = open_at(browser, PHONE)
    page = context.new_page()
    page.goto(crawl_site.url + TEMPLATES["search"])
    toggle = page.locator("#refine-toggle")
    expect(toggle).to_have_attribute("aria-controls", "refine")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#refine .facet").first).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    shot(page, f"search-filters-open-{PHONE[0]}x{PHONE[1]}")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#refine")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_results_and_filters_without_script(browser: Browser, crawl_site: Site, screen: str) -> None:
    context = open_at(browser, SCREENS[screen], script=False)
    page = context.new_page()
    page.goto(crawl_site.url + TEMPLATES["search"])
    expect(page.locator(".hit").first).to_be_visible()
    expect(page.locator("#refine .facet").first).to_be_visible()  # no button to press: shown
    expect(page.locator("#refine-toggle")).to_be_hidden()
    title = page.locator("#refine .facets-title").bounding_box()  # the panel's heading, in full
    assert title is not None and title["width"] > 40
    page.locator("#refine").get_by_role("button", name="Apply filters").scroll_into_view_if_needed()
    assert page.evaluate(OVERFLOW) <= 0
    shot(page, f"search-without-script-{SCREENS[screen][0]}x{SCREENS[screen][1]}")
    context.close()


def test_explore_charts_are_readable_on_a_phone(browser: Browser, crawl_site: Site) -> None:
    context = open_at(browser, PHONE)
    page = context.new_page()
    page.goto(crawl_site.url + "/explore")
    readings = page.evaluate("""() => [...document.querySelectorAll('.chart .bar-row')].map(row => {
        const label = row.querySelector('.bar-label'), bar = row.querySelector('.bar-track');
        const value = row.querySelector('.bar-value'), chart = row.closest('.chart');
        return {label: label.textContent.trim(), font: parseFloat(getComputedStyle(label).fontSize),
                cut: label.scrollWidth > label.clientWidth + 1, bar: bar.getBoundingClientRect().width,
                right: Math.max(value.getBoundingClientRect().right, bar.getBoundingClientRect().right),
                edge: chart.getBoundingClientRect().right};
    })""")
    assert readings, "no bars on /explore"
    for row in readings:
        assert row["font"] >= 13, row
        assert not row["cut"], row
        assert row["bar"] >= 120, row  # a bar long enough to compare with its neighbours
        assert row["right"] <= row["edge"], row
    context.close()
