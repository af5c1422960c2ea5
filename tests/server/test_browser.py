"""The pages in Debian's Chromium, driven by Playwright against a real server on 127.0.0.1:
search, a facet, an item, its variables download, its grant; hostile metadata stays inert, its
script links are text, and the Content-Security-Policy runs no inline script (and no page breaks
it); keyboard use and labelled controls. Screenshots go to test-artifacts/ for people to look at."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.server.site import HOSTILE_TITLE, SCRIPT_LINKS, Site

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FSD = "financial-awareness-of-finnish-people-2014"
RELATIONS = "relations-study-data-2021-2022"

# Every visible form control must have a label a screen reader announces.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""
# Every link's scheme once the browser has read its href (tabs removed, entities decoded).
LINK_SCHEMES = "() => [...document.querySelectorAll('a[href]')].map(a => a.protocol)"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert errors == [], f"script errors or policy violations in the page: {errors}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_facet_item_download_and_grant(page: Page, search_site: Site) -> None:
    page.goto(search_site.url + "/")
    page.get_by_label("Search query").fill("financial knowledge")
    page.keyboard.press("Enter")
    expect(page.locator(".results-count")).to_contain_text("results for “financial knowledge”")
    expect(page.locator(".hit").first).to_contain_text("Financial Awareness of Finnish People 2014")
    expect(page.locator(".matched-vars").first).to_be_visible()
    page.locator(".why summary").first.click()
    expect(page.locator(".why p").first).not_to_be_empty()
    shot(page, "01-search")

    total_before = int(re.sub(r"\D", "", page.locator(".results-count").inner_text().split("result")[0]))
    page.locator(".facet", has_text="Country").get_by_text("Finland").click()
    page.wait_for_url(re.compile(r"filter=country%3AFinland"))
    expect(page.locator(".active-filters")).to_contain_text("Country: Finland")
    total_after = int(re.sub(r"\D", "", page.locator(".results-count").inner_text().split("result")[0]))
    assert 0 < total_after < total_before
    for card in page.locator(".hit .facts-inline").all():
        expect(card).to_contain_text("Finland")
    shot(page, "02-search-facet")

    page.locator(".hit h3 a", has_text="Financial Awareness").first.click()
    page.wait_for_url(re.compile(rf"/items/{FSD}\?q=financial\+knowledge$"))
    expect(page.locator("h1")).to_have_text("Financial Awareness of Finnish People 2014")
    expect(page.locator("#variables-h")).to_contain_text("234")
    # the variables that matched the search come first, marked, with the query's words marked
    expect(page.locator("p.fits")).to_contain_text("of the 234 variables fit “financial knowledge”")
    expect(page.locator("table.variables tbody tr").first).to_have_class("fits")
    expect(page.locator("table.variables tbody tr.fits mark").first).to_be_visible()
    page.get_by_label("Find variables").fill("retirement")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"vq=retirement"))
    shown = page.locator("table.variables tbody tr").count()
    assert 0 < shown < 50
    shot(page, "03-item")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    target = ARTIFACTS / f"{FSD}-retirement-variables.csv"
    info.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["id", "name", "label"] and len(rows) == shown + 1
    assert all("retirement" in " ".join(row).lower() for row in rows[1:])

    page.goto(f"{search_site.url}/items/{RELATIONS}")
    grant = page.locator("#grant")
    expect(grant).to_contain_text("Governing parental opioid use: a relational ethnography")
    expect(page.locator("#topics")).to_contain_text("DRUG USE")
    expect(page.locator("#coverage")).to_contain_text("2021-04-01/2022-12-01")
    expect(page.locator("#catalogues-h + ul")).to_contain_text("UK Data Service")
    shot(page, "04-relations-study")
    grant.get_by_role("link", name="Governing parental opioid use: a relational ethnography").click()
    page.wait_for_url("**/projects/governing-parental-opioid-use-a-relational-ethnography")
    expect(page.locator("#outcomes-h")).to_contain_text("20")
    expect(page.locator("#impact")).to_contain_text("OUR MAIN BENEFICIARIES")
    expect(page.locator("#datasets")).to_contain_text("The Relations Study Data, 2021-2022")
    shot(page, "05-project")


def test_hostile_metadata_renders_as_inert_text(page: Page, search_site: Site) -> None:
    page.goto(f"{search_site.url}/items/{search_site.hostile_id}")
    expect(page.locator("h1")).to_have_text(HOSTILE_TITLE)
    expect(page.locator(".description")).to_contain_text("<script>window.__pwned=4</script>")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("main img, main svg:not(.chart svg), main b, main i").count() == 0
    assert page.title().startswith("Hostile <script>")
    jsonld_name = page.evaluate(
        "JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent).name")
    assert jsonld_name == HOSTILE_TITLE
    shot(page, "06-hostile-item")
    page.goto(f"{search_site.url}/?q=hostile")
    expect(page.locator(".hit").first).to_contain_text("<script>")
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_script_links_from_metadata_are_text(page: Page, search_site: Site) -> None:
    # the record's url, sameAs, distribution, catalogue and licence links are javascript:, data:
    # and vbscript: URLs: they rendered as live links
    page.goto(f"{search_site.url}/items/{search_site.hostile_id}")
    assert set(page.evaluate(LINK_SCHEMES)) <= {"http:", "https:", "mailto:"}
    links = page.locator("#links-h + ul")
    expect(links.get_by_role("link", name="https://example.org/ok")).to_be_visible()
    expect(links).to_contain_text("javascript:window.__pwned=7")  # shown, not linked
    expect(page.locator("#catalogues-h + ul")).to_contain_text("Evil catalogue")
    assert page.locator("#catalogues-h + ul a").count() == 0
    for text in ("javascript:window.__pwned=7", "Record at source", "CSV", "Evil catalogue",
                 "vbscript:window.__pwned=12"):
        page.locator(".item-side").get_by_text(text, exact=False).first.click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    jsonld = page.evaluate("document.querySelector('script[type=\"application/ld+json\"]').textContent")
    assert not any(scheme in jsonld.lower() for scheme in SCRIPT_LINKS)
    shot(page, "10-hostile-links")


def test_the_policy_stops_script_that_gets_into_a_page(browser: Browser, search_site: Site) -> None:
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(f"{search_site.url}/items/{search_site.hostile_id}")
    page.evaluate("""() => {
        const inline = document.createElement('script');
        inline.textContent = 'window.__pwned = 13';
        document.body.append(inline);
        const frame = document.createElement('iframe');
        frame.src = 'data:text/html,<script>parent.__pwned = 14</script>';
        document.body.append(frame);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert any("Content Security Policy" in text for text in violations), violations
    context.close()


def test_keyboard_navigation_and_labels(page: Page, search_site: Site) -> None:
    paths = ["/", "/?q=money", f"/items/{FSD}", f"/items/{RELATIONS}", f"/variables/{FSD}.q1",
             "/projects/governing-parental-opioid-use-a-relational-ethnography", "/explore", "/docs",
             "/harmonise"]
    for path in paths:
        page.goto(search_site.url + path)
        assert page.evaluate(UNLABELLED) == [], path
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link", path
        page.keyboard.press("Enter")  # a search page skips to its results, others to the content
        target = "hits" if path[:2] in ("/", "/?") else "main"
        assert page.evaluate("document.activeElement.id") == target, path
    shot(page, "08-docs")
    page.goto(search_site.url + "/explore")
    assert page.locator("section.chart").count() == 9
    expect(page.locator(".chart .bar-track rect").first).to_be_visible()
    shot(page, "07-explore")
    page.keyboard.press("/")
    page.keyboard.type("pensions")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q=pensions"))


def gad7_lines(corpus: Path, language: str) -> str:
    path = corpus / "instruments" / "harmony_original_csv" / f"GAD-7_{language}.csv"
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return "\n".join(row["Question"] for row in csv.DictReader(handle, delimiter="\t"))


def test_harmonise_page(page: Page, search_site: Site, corpus: Path) -> None:
    page.goto(search_site.url + "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Harmonise").click()
    page.wait_for_url("**/harmonise")
    page.get_by_label("Name of instrument 1", exact=True).fill("GAD-7 English")
    page.get_by_label("Items of instrument 1, one per line", exact=True).fill(gad7_lines(corpus, "English"))
    page.get_by_label("Name of instrument 2", exact=True).fill("GAD-7 Portuguese")
    page.get_by_label("Items of instrument 2, one per line", exact=True).fill(
        gad7_lines(corpus, "Portuguese"))
    page.get_by_role("button", name="Add an instrument").click()
    third = page.get_by_label("Items of instrument 3, one per line", exact=True)
    expect(third).to_be_focused()  # the page came back with the new box ready to type in
    page.keyboard.type("I can relax easily\nMe preocupo demasiado")
    page.get_by_role("button", name="Match items").click()
    expect(page.locator("#matches-h")).to_contain_text("matches")
    relaxing = page.locator("table.matches tbody tr", has_text="Trouble relaxing")
    expect(relaxing.filter(has_text="Dificuldade para relaxar").first).to_contain_text("same direction")
    relax = page.locator("table.matches tbody tr", has_text="I can relax easily")
    expect(relax.filter(has_text="Trouble relaxing")).to_contain_text("reverse-code")
    expect(page.locator(".clusters li.card").first).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    shot(page, "09-harmonise")

    with page.expect_download() as info:
        page.get_by_role("button", name="CSV").click()
    target = ARTIFACTS / "harmonise-crosswalk.csv"
    info.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {row["instrument"] for row in rows} == {"GAD-7 English", "GAD-7 Portuguese", "Instrument 3"}

    page.get_by_role("link", name="Which studies measured this question?").click()
    page.get_by_label("Question text").fill("Have you saved money for your retirement?")
    page.get_by_role("button", name="Find studies").click()
    page.wait_for_url(re.compile(r"/measured\?q=Have"))
    expect(page.locator(".measured-studies")).to_contain_text("Financial Awareness of Finnish People 2014")


@pytest.mark.parametrize("width, height", [(1366, 900), (390, 844)])
def test_explore_charts_fit_the_screen_and_a_bar_opens_its_count(browser: Browser, search_site: Site,
                                                                 width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(search_site.url + "/explore")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    bar = page.locator("#by-country a.bar-row").first
    label, count = (" ".join((bar.locator(f".bar-{part}").text_content() or "").split())
                    for part in ("label", "value"))
    assert re.fullmatch(r"[\d,]+ studies and datasets", count)  # the count as text, not only a length
    shot(page, f"explore-{width}x{height}")
    bar.click()
    expect(page.locator(".results-count")).to_contain_text(count.split()[0] + " result")
    expect(page.locator(".active-filters")).to_contain_text(label.split(" ")[0])
    context.close()


WIDTHS = [(1366, 900), (768, 1024), (390, 844)]  # desktop, tablet, phone
EHIS = "ehis-2025-questionnaire-test-es0-sequence-1-questionnaire"
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def measured_answer(page: Page) -> None:
    """The harmonisation models load in the background on a fresh server: until they are ready
    the page says so (503 from the API); reload until the answer is there."""
    for _ in range(30):
        if page.locator(".measured-studies").count():
            return
        expect(page.locator("#measured .notice")).to_contain_text("loading")
        page.wait_for_timeout(3000)
        page.reload()
    raise AssertionError("the harmonisation models did not load in 90 s")


@pytest.mark.parametrize("width, height", WIDTHS)
def test_search_questionnaire_question_and_which_studies_measured_it(
        browser: Browser, crawl_site: Site, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(crawl_site.url + "/")
    page.get_by_label("Search query").fill("feeling nervous anxious on edge")
    page.keyboard.press("Enter")
    hit = page.locator(".hit").filter(has=page.locator(".badge", has_text="instrument")).first
    expect(hit.locator(".matched-vars a").first).to_have_attribute("href", re.compile(r"^/questions/"))
    hit.locator("h3 a").click()
    page.wait_for_url(re.compile(r"/questionnaires/[^?]+\?q=feeling"))
    expect(page.locator(".badge").first).to_have_text("Questionnaire")
    first = page.locator("ol.questions > li").first
    expect(first).to_have_class(re.compile("fits"))
    expect(first.locator("mark").first).to_have_text(
        re.compile("nervous|anxious|feeling|edge", re.IGNORECASE))
    expect(page.locator("#studies-h")).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    shot(page, f"search-to-questionnaire-{width}x{height}")

    first.locator(".q-body > a").click()
    page.wait_for_url(re.compile(r"/questions/"))
    expect(page.locator("h1")).to_contain_text("nervous")
    expect(page.locator("header .lead")).to_contain_text(re.compile(r"Question \d+ of \d+ in"))
    expect(page.locator("ul.similar li").first).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    shot(page, f"search-to-question-{width}x{height}")

    page.get_by_role("button", name="Which studies measured this?").click()
    page.wait_for_url(re.compile(r"/measured\?q=Feeling"))
    measured_answer(page)
    expect(page.locator(".measured-studies")).to_contain_text("GAD-7")
    assert page.evaluate(OVERFLOW) <= 0
    shot(page, f"search-to-measured-{width}x{height}")
    context.close()


RECORD_PAGES = {
    "item": f"/items/{FSD}?q=retirement",
    "variable": f"/variables/{EHIS.removesuffix('-questionnaire')}.hs1",
    "project": "/projects/governing-parental-opioid-use-a-relational-ethnography",
    "organisation": "/records/university-of-stirling",
    "questionnaire": f"/questionnaires/{EHIS}",
    "question": f"/questions/{EHIS}.hs1",
}


@pytest.mark.parametrize("width, height", WIDTHS)
def test_record_pages_fit_every_width_with_labels_and_a_skip_link(
        browser: Browser, crawl_site: Site, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for name, path in RECORD_PAGES.items():
        page.goto(crawl_site.url + path)
        expect(page.locator("h1")).to_be_visible()
        assert page.evaluate(OVERFLOW) <= 0, (name, width)
        assert page.evaluate(UNLABELLED) == [], name
        assert set(page.evaluate(LINK_SCHEMES)) <= {"http:", "https:", "mailto:"}, name
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link", name
        shot(page, f"{name}-{width}x{height}")
    context.close()
