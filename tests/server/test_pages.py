"""The pages over HTTP on the crawl site: a page for every kind of record (questionnaires,
questions, outputs and organisations beside studies, variables and grants), the details that
make them readable (human field labels, cut-short addresses as text, variables in natural order,
no server path), the search pager's position, and filter chips that never lead to nothing."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from discovery.server.records import natural_key
from tests.server.site import Site

FSD = "financial-awareness-of-finnish-people-2014"
EHIS = "ehis-2025-questionnaire-test-es0-sequence-1-questionnaire"
GRANT = "governing-parental-opioid-use-a-relational-ethnography"
MACHINERY = "machinery-of-government-1976-1977"


def get(site: Site, path: str, **options: object) -> httpx.Response:
    return httpx.get(site.url + path, timeout=60, **options)  # type: ignore[arg-type]


def hrefs(page: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]*)"', page)]


def test_a_questionnaire_page_lists_its_questions_with_options_in_order(crawl_site: Site) -> None:
    page = get(crawl_site, f"/questionnaires/{EHIS}").text
    questions = re.findall(r'<a href="/questions/([^"]+)">', page)
    assert len(questions) == 36 and questions[:2] == [f"{EHIS}.acces-par", f"{EHIS}.hs1"]
    assert "Oui, vous acceptez" in page and "Très mauvais" in page  # the options, under each
    assert len(re.findall(r'href="/variables/', page)) == 45  # the variables recorded from it
    assert f'href="/harmonise?with={EHIS}"' in page
    assert "Similar questionnaires" in page and "Where it came from" in page


def test_a_questionnaire_whose_title_states_another_size_shows_both_as_the_source_gives_them(
        full_site: Site) -> None:
    # The Mental Health Catalogue file lists 15 questions, numbered 1 to 15 (the GDS short form's
    # items), under the name "Geriatric Depression Scale (10-item) (GDS)": which is wrong, the
    # name or the list, the file does not say.
    gds = unescape(get(full_site, "/questionnaires/geriatric-depression-scale-10-item-gds").text)
    assert "Its title says 10 items; the source lists the 15 questions below. Both are shown" in gds
    assert 'data-count="15">15 questions</a>' in gds
    gad = unescape(get(full_site, "/questionnaires/generalised-anxiety-disorder-assessment-7-item-gad-7"
                       ).text)
    assert ("Its title says 7 items; the source lists the 8 questions below, 1 of them without a "
            "number.") in gad
    rses = get(full_site, "/questionnaires/rosenberg-self-esteem-scale-10-item-rses").text
    assert "Its title says" not in rses  # 10 items, 10 listed


def test_harmonise_with_puts_the_questionnaire_in_the_first_box(crawl_site: Site) -> None:
    page = unescape(get(crawl_site, f"/harmonise?with={EHIS}").text)
    boxes = re.findall(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert boxes[0].splitlines()[1] == "Comment est votre état de santé général ?"  # its order
    assert len(boxes[0].splitlines()) == 36 and boxes[1] == ""
    assert 'value="EHIS 2025 - questionnaire test ES0 - séquence 1 questionnaire"' in page


def test_a_question_page_says_where_it_stands_and_what_it_measures(crawl_site: Site) -> None:
    page = unescape(get(crawl_site, f"/questions/{EHIS}.hs1").text)
    assert f'Question 2 of <a href="/questionnaires/{EHIS}#questions" data-count="36">36</a> in' in page
    assert f'href="/questionnaires/{EHIS}"' in page
    assert "<td>Très bon</td>" in page
    assert 'href="/variables/ehis-2025-questionnaire-test-es0-sequence-1.hs1"' in page
    assert f'rel="prev" href="/questions/{EHIS}.acces-par"' in page and 'rel="next"' in page
    assert '<form class="measured-ask" action="/measured" method="get">' in page
    assert 'value="Comment est votre état de santé général ?"' in page


def test_outputs_and_organisations_have_pages_and_other_kinds_go_to_their_own(crawl_site: Site) -> None:
    organisation = get(crawl_site, "/records/university-of-stirling").text
    assert "leads" in organisation and f'href="/projects/{GRANT}"' in organisation
    output = get(crawl_site, f"/records/{GRANT}.engagement-1").text
    assert "Form of engagement activity" in output
    moved = get(crawl_site, f"/records/{FSD}")
    assert moved.status_code == 301 and moved.headers["location"] == f"/items/{FSD}"


def test_grant_outcomes_read_as_labels_and_cut_short_addresses_are_not_links(crawl_site: Site) -> None:
    page = unescape(get(crawl_site, f"/projects/{GRANT}").text)
    assert "part_of_official_scheme" not in page and "Part of an official scheme?" in page
    assert "Geographic reach" in page and "Results and impact" in page
    assert not [h for h in hrefs(page) if h.endswith(("...", "…"))]
    assert "Address as the source gives it, cut short: https://relations.stir.ac.uk/" in page


@pytest.mark.parametrize("path", [f"/items/{FSD}", f"/items/{MACHINERY}", f"/questionnaires/{EHIS}",
                                  "/questionnaires/gad-7", f"/projects/{GRANT}",
                                  "/records/university-of-stirling",
                                  f"/api/items/{FSD}", "/api/records/gad-7"])
def test_the_public_never_sees_a_path_on_the_server(crawl_site: Site, path: str) -> None:
    body = get(crawl_site, path).text
    assert "shared/corpus" not in body and "web-sites" not in body, path
    assert "/tmp/" not in body and "../" not in body, path


def test_variables_are_in_natural_order_on_the_page_and_in_the_api(crawl_site: Site) -> None:
    names = [v["name"] for v in get(crawl_site, f"/api/items/{FSD}/variables?size=200").json()["variables"]]
    assert names == sorted(names, key=natural_key)
    assert names.index("Q3_9") < names.index("Q3_10") < names.index("Q4_1")
    page = get(crawl_site, f"/items/{FSD}").text
    assert re.findall(r"<code>([^<]+)</code></a></td>", page) == names[:50]


def test_the_search_pager_says_where_you_are(crawl_site: Site) -> None:
    first = get(crawl_site, "/?q=retirement&group=false").text
    total = int(re.search(r'data-total="(\d+)"', first).group(1))
    of = f'data-list="/?q=retirement&amp;group=false#results">{total}</span>'
    assert total > 10 and f"1–10 of <span data-count=\"{total}\" {of}" in first
    second = get(crawl_site, re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&"))
    assert f"11–{min(20, total)} of <span data-count=\"{total}\" {of}" in second.text


def test_a_hit_link_carries_the_query_to_the_page_that_marks_what_fits(crawl_site: Site) -> None:
    page = get(crawl_site, "/?q=retirement").text
    assert f'href="/items/{FSD}?q=retirement"' in page
    item = get(crawl_site, f"/items/{FSD}?q=retirement").text
    assert re.search(r"<mark>\d+</mark> of the 234 variables fit “retirement”", item)
    assert '<tr class="fits" data-item=' in item and "<mark>retirement</mark>" in item.lower()
    nothing = get(crawl_site, f"/items/{FSD}?q=zzqxv").text
    assert "of the 234 variables fit" not in nothing and '<tr class="fits"' not in nothing
    assert "None of this study's variables fits “zzqxv” by itself" in nothing


def test_a_filter_chip_that_would_leave_nothing_is_not_a_link(crawl_site: Site) -> None:
    page = unescape(get(crawl_site, "/?filter=kind:study&filter=kind:dataset&filter=country:Finland").text)
    assert 'data-total="1"' in page  # the Finnish study, and no Finnish dataset
    assert '<span class="chip chosen">Kind: study' in page  # dropping "study" would leave nothing
    assert 'aria-label="Remove filter Kind: dataset"' in page
    assert 'aria-label="Remove filter Country: Finland"' in page


def test_a_bare_number_keyword_is_text_and_a_word_is_a_search(crawl_site: Site) -> None:
    page = get(crawl_site, f"/items/{MACHINERY}").text
    assert '<span class="chip">1976</span>' in page
    assert 'href="/?q=BUREAUCRACY"' in page


def test_the_sitemap_lists_questionnaires_and_questions(crawl_site: Site) -> None:
    sitemap = get(crawl_site, "/sitemap.xml").text
    assert f"/questionnaires/{EHIS}</loc>" in sitemap and f"/questions/{EHIS}.hs1</loc>" in sitemap


def test_a_country_code_filter_is_named_and_its_chip_keeps_the_rest_of_the_search(crawl_site: Site) -> None:
    # issue 11: `country:GB` showed "Country: GB", and its box under "United Kingdom" unticked
    page = unescape(get(crawl_site, "/?filter=country:GB&filter=kind:dataset&sort=recent").text)
    total = re.search(r'data-total="(\d+)"', page)
    assert total and int(total.group(1)) > 0
    chip = re.search(r'<a class="chip chosen" href="([^"]*)"[^>]*>Country: United Kingdom ', page)
    assert chip and chip.group(1) == "/?filter=kind%3Adataset&sort=recent"
    assert "Country: GB" not in page
    assert 'value="country:United Kingdom" checked' in page


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_when_nothing_fits_each_filter_chip_leads_out(crawl_site: Site, mode: str) -> None:
    page = unescape(get(crawl_site, f"/?q=zzqxv&mode={mode}&filter=country:GB").text)
    assert 'data-total="0"' in page
    assert f'<a class="chip chosen" href="/?q=zzqxv&mode={mode}" data-refocus="results-heading" ' \
           'aria-label="Remove filter Country: United Kingdom">' in page



def test_an_instrument_hit_counts_and_lists_questions_not_variables(crawl_site: Site) -> None:
    hits = re.split(r'<li class="hit card"[^>]*>', get(crawl_site, "/?q=nervous+anxious+on+edge").text)[1:]
    instrument = next(hit for hit in hits if "/questionnaires/" in hit.split("</h3>")[0])
    assert re.search(r'#questions" data-count="\d+">\d+ questions?</a>', instrument)
    assert "Matching questions" in instrument
    assert "variables" not in instrument.split('class="why"')[0].lower()
