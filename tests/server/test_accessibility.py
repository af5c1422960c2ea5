"""Accessibility in Chromium against a real server on 127.0.0.1: axe-core finds no serious or
critical violation on any page template at desktop and phone widths; the first Tab reaches a skip
link (to the results on a search page); focus comes back to the facet box or sort control a
keyboard user changed, or to the count of results, instead of the top of the page; the pager says
where in the results a page is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.server.site import Site
from tests.server.axe_core import AXE, axe_source
from tests.server.browsing import (ARTIFACTS, DESKTOP, OPEN_ALL, PHONE, SCREENS, TEMPLATES, TYPICAL_QUERY,
                                harmonised)

SERIOUS = ("serious", "critical")
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""
FOCUSED = """() => { const el = document.activeElement;
  return {id: el.id, value: el.value ?? null, checked: el.checked ?? null, tag: el.tagName}; }"""


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def new_context(browser: Browser, size: tuple[int, int], bypass_csp: bool = False) -> BrowserContext:
    return browser.new_context(viewport={"width": size[0], "height": size[1]}, bypass_csp=bypass_csp)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_axe_finds_no_serious_violation_on_any_template(browser: Browser, crawl_site: Site, axe: str,
                                                        screen: str) -> None:
    # axe is injected as an inline script, which the site's Content-Security-Policy forbids
    # (test_browser.py checks that the policy holds); this context alone sets it aside
    context = new_context(browser, SCREENS[screen], bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[dict[str, object]]] = {}
    for name, path in TEMPLATES.items():
        page.goto(crawl_site.url + path)
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        expect(skip).to_have_class("skip-link")
        expect(skip).to_have_attribute("href", "#hits" if name.startswith("search") else "#main")
        page.evaluate(OPEN_ALL)  # axe passes over what is hidden
        page.add_script_tag(content=axe)
        found[name] = page.evaluate(RUN_AXE)
    context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{AXE.version}-{screen}.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
    serious = {name: [v for v in violations if v["impact"] in SERIOUS]
               for name, violations in found.items()}
    assert {name: v for name, v in serious.items() if v} == {}


def test_axe_finds_no_serious_violation_in_harmonise_results(browser: Browser, crawl_site: Site,
                                                             axe: str, corpus: Path) -> None:
    context = new_context(browser, PHONE, bypass_csp=True)
    page = context.new_page()
    harmonised(page, crawl_site.url, corpus)
    page.evaluate(OPEN_ALL)
    page.add_script_tag(content=axe)
    found = {}
    for screen, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size({"width": width, "height": height})
        found[screen] = [v for v in page.evaluate(RUN_AXE) if v["impact"] in SERIOUS]
    context.close()
    assert found == {"phone": [], "desktop": []}


def test_skip_to_results_then_the_first_result(desktop: Page, crawl_site: Site) -> None:
    desktop.goto(crawl_site.url + TEMPLATES["search"])
    desktop.keyboard.press("Tab")
    expect(desktop.locator(":focus")).to_have_text("Skip to results")
    desktop.keyboard.press("Enter")
    expect(desktop.locator("#hits")).to_be_focused()
    desktop.keyboard.press("Tab")
    expect(desktop.locator(".hit h3 a").first).to_be_focused()


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_focus_comes_back_to_the_facet_box_a_keyboard_ticked(browser: Browser, crawl_site: Site,
                                                             screen: str) -> None:
    context = new_context(browser, SCREENS[screen])
    page = context.new_page()
    page.goto(crawl_site.url + TEMPLATES["search"])
    count = page.locator("#results-heading").inner_text()
    if screen == "phone":
        page.locator("#refine-toggle").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#refine-toggle")).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Tab")  # into the panel: its first box
    else:
        page.locator("input.facet-box").first.focus()
    box = page.locator("input.facet-box").first
    expect(box).to_be_focused()
    value = box.get_attribute("value")
    assert value is not None
    page.keyboard.press("Space")
    page.wait_for_url(re.compile("filter="))
    ticked = page.locator(f'input.facet-box[value="{value}"]')
    expect(ticked).to_be_focused()
    expect(ticked).to_be_checked()
    expect(page.locator(".active-filters")).to_be_visible()
    if screen == "phone":
        expect(page.locator("#refine-toggle")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Space")  # and untick it: back where it started
    page.wait_for_url(lambda url: "filter=" not in url)
    expect(ticked).to_be_focused()
    expect(ticked).not_to_be_checked()
    expect(page.locator("#results-heading")).to_have_text(count)
    context.close()


def test_focus_comes_back_to_the_sort_control(desktop: Page, crawl_site: Site) -> None:
    desktop.goto(crawl_site.url + "/?q=survey")
    desktop.locator("#sort").focus()
    desktop.keyboard.press("ArrowDown")  # Relevance -> Most recent
    desktop.keyboard.press("Tab")
    expect(desktop.get_by_role("button", name="Sort", exact=True)).to_be_focused()
    desktop.keyboard.press("Enter")
    desktop.wait_for_url(re.compile(r"sort=recent"))
    expect(desktop.locator("#sort")).to_be_focused()
    expect(desktop.locator("#sort")).to_have_value("recent")
    expect(desktop.locator("details.search-options")).not_to_have_attribute("open", re.compile(".*"))


def test_removing_a_chip_focuses_the_new_count(desktop: Page, crawl_site: Site) -> None:
    desktop.goto(crawl_site.url + f"/?q={TYPICAL_QUERY}&filter=kind:instrument&sort=recent")
    chip = desktop.get_by_role("link", name="Remove filter Kind: instrument")
    chip.focus()
    desktop.keyboard.press("Enter")
    desktop.wait_for_url(lambda url: "filter=" not in url)
    assert "sort=recent" in desktop.url and "q=feeling" in desktop.url  # the same search, less the filter
    expect(desktop.locator("#results-heading")).to_be_focused()


def test_the_pager_says_where_a_page_is_and_focuses_the_count(desktop: Page, crawl_site: Site) -> None:
    desktop.goto(crawl_site.url + "/?group=false&size=10")
    total = int(re.sub(r"\D", "", desktop.locator("#results-heading").inner_text().split("result")[0]))
    assert total > 20
    expect(desktop.locator(".pager .position")).to_have_text(f"1–10 of {total:,}")
    desktop.get_by_role("link", name="Next page").focus()
    desktop.keyboard.press("Enter")
    desktop.wait_for_url(re.compile("cursor="))
    expect(desktop.locator(".pager .position")).to_have_text(f"11–20 of {total:,}")
    expect(desktop.locator("#results-heading")).to_be_focused()

