"""What the layout and accessibility tests share: Debian's Chromium under Playwright, the page
templates as URLs on the crawl site (`tests/server/site.py`), the screen sizes they are seen at, and
the screenshots kept in test-artifacts/ for people to look at."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHOT_HEIGHT = 1400  # a full-page shot is cut here: below it a page only repeats its patterns

PHONE, TABLET, DESKTOP = (390, 844), (768, 1024), (1366, 900)
SCREENS = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}
NARROWEST, WIDEST = 320, 1920
# A query a researcher would type; the crawl site holds GAD-7 and the EHIS questionnaire.
TYPICAL_QUERY = "feeling nervous anxious"
FSD = "financial-awareness-of-finnish-people-2014"
EHIS = "ehis-2025-questionnaire-test-es0-sequence-1-questionnaire"
# One URL for every page template (item.html serves studies and datasets alike).
TEMPLATES = {
    "search": f"/?q={TYPICAL_QUERY.replace(' ', '+')}",
    "search-filtered": f"/?q={TYPICAL_QUERY.replace(' ', '+')}&filter=kind:instrument",
    "search-empty": "/",
    "search-long-words": "/?q=hostile+survey",  # words of 27 letters in a title (tests/server/site.py)
    "study": f"/items/{FSD}?q=retirement",
    "dataset": "/items/relations-study-data-2021-2022",
    "questionnaire": f"/questionnaires/{EHIS}",
    "question": f"/questions/{EHIS}.hs1",
    "variable": f"/variables/{EHIS.removesuffix('-questionnaire')}.hs1",
    "record": "/records/university-of-stirling",
    "project": "/projects/governing-parental-opioid-use-a-relational-ethnography",
    "explore": "/explore",
    "harmonise": "/harmonise",
    "docs": "/docs",
    "error": "/items/no-such-record-here",
}
# Everything a person can unfold, unfolded: the details, and the filters behind their button.
OPEN_ALL = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const toggle = document.getElementById('refine-toggle');
  if (toggle) toggle.setAttribute('aria-expanded', 'true');
}"""
# Where horizontal overflow would show: scrollWidth counts content wider than the viewport.
OVERFLOW = "document.scrollingElement.scrollWidth - window.innerWidth"
# For the failure message: the outermost elements that reach past the right edge (wider than
# the box they sit in) or whose text spills out of their own box.
STICKING_OUT = """() => {
  const out = el => el.getBoundingClientRect().right > window.innerWidth + 0.5;
  return [...document.querySelectorAll('body *')]
    .filter(el => (out(el) && !out(el.parentElement))
                  || (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
                      && getComputedStyle(el).overflowX === 'visible'))
    .slice(0, 4)
    .map(el => `${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 40)}"`);
}"""


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; a missing browser fails the tests (they never download one)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; "
                    ".ci/run does it). Browser tests never download a browser.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Page, name: str) -> None:
    """The page as seen, from its top down to SHOT_HEIGHT pixels."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size or {"width": DESKTOP[0], "height": DESKTOP[1]}
    height = min(SHOT_HEIGHT, int(page.evaluate("document.scrollingElement.scrollHeight")))
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": size["width"], "height": height})


def harmonised(page: Page, site_url: str, corpus: Path) -> None:
    """The harmonise page with its results: GAD-7 in English and Portuguese from the corpus,
    pasted and matched (the matcher's first load can take a while on a fresh server)."""
    page.goto(site_url + "/harmonise")
    for n, language in enumerate(("English", "Portuguese"), start=1):
        path = corpus / "instruments" / "harmony_original_csv" / f"GAD-7_{language}.csv"
        with open(path, newline="", encoding="utf-8-sig") as handle:
            items = "\n".join(row["Question"] for row in csv.DictReader(handle, delimiter="\t"))
        page.get_by_label(f"Items of instrument {n}, one per line", exact=True).fill(items)
    page.get_by_role("button", name="Match items").click()
    expect(page.locator("#matches-h")).to_be_visible(timeout=120_000)
