"""The harmonise page over a real server: questionnaire files uploaded as multipart form data,
their header rows and columns detected and chosen, the crosswalk downloaded with options and
numbers; bad files answered on the page with their (escaped) names; and, in Chromium, two CSV
files uploaded, columns picked and both crosswalk files downloaded, at desktop, tablet and phone sizes.

The server's catalogue is empty, so the matcher has no item bank to build and loads quickly."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from discovery.catalogue.store import Catalogue
from discovery.harmonise.crosswalk import CROSSWALK_COLUMNS, DEFAULT_THRESHOLD
from discovery.harmonise.upload import MAX_UPLOAD_BYTES
from tests.server.site import serve

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
GAD7 = "instruments/harmony_original_csv/GAD-7_{}.csv"
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
HIDDEN = re.compile(r'<input type="hidden" name="(upload_name|upload_data)" value="([^"]*)">')
SELECTED = re.compile(r'<select id="[^"]*" name="((?:header|text|options)\.[^"]+)">(.*?)</select>', re.S)


def portuguese_csv(corpus: Path) -> bytes:
    """GAD-7 in Portuguese as a comma-separated file whose header the parser cannot name."""
    with open(corpus / GAD7.format("Portuguese"), newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Nr", "Enunciado", "Escala de resposta"])
    writer.writerows([row["Question No"], row["Question"], row["Options"]] for row in rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    data = tmp_path_factory.mktemp("harmonise-page")
    Catalogue(data).close()
    return serve(data)


@pytest.fixture(scope="module")
def files(corpus: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    english = corpus / GAD7.format("English")
    return [("file", ("gad7-pt.csv", portuguese_csv(corpus), "text/csv")),
            ("file", (english.name, english.read_bytes(), "text/csv"))]


def answered(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """The response once the server's matcher has loaded (503 while it loads)."""
    deadline = time.monotonic() + 300
    while True:
        response = httpx.request(method, url, timeout=300, **kwargs)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(1)


def carried(page: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The files the page carries (as hidden fields) and the selected value of each column choice."""
    fields = [(name, html.unescape(value)) for name, value in HIDDEN.findall(page)]
    choices = {name: re.search(r'<option value="([^"]*)"[^>]* selected>', options).group(1)
               for name, options in SELECTED.findall(page)}
    return fields, choices


def form_data(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx sends them: a list of values per name, in order."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


def matched_texts(page: str) -> list[str]:
    table = page.split('<table class="matches">', 1)[1].split("</table>", 1)[0]
    return [html.unescape(text).strip() for text in
            re.findall(r'<span class="instrument-name">[^<]*</span> ([^<]*)', table)]


def test_two_uploaded_files_match_with_detected_headers_and_columns(url: str, files: Any) -> None:
    response = answered("POST", url + "/harmonise", files=files, data={"action": "match"})
    assert response.status_code == 200, response.text
    page = response.text
    fields, choices = carried(page)
    assert [name for name, _ in fields] == ["upload_name", "upload_data"] * 2
    assert sorted(choices.values()) == ["1", "1", "1", "1", "2", "2"]  # header row 1, text B, options C
    assert "Column B: Enunciado (detected)" in page
    texts = matched_texts(page)
    assert "Feeling nervous, anxious, or on edge" in texts
    assert not {"Enunciado", "Question", "Nr"} & set(texts)  # no header became an item
    assert re.search(r"<th scope=\"col\">Equivalence</th><th scope=\"col\">Relatedness</th>", page)
    assert "<dt>Relatedness</dt>" in page and 'class="item-options"' in page


def test_columns_picked_by_hand_reach_the_crosswalk_files(url: str, files: Any) -> None:
    first = answered("POST", url + "/harmonise", files=files, data={"action": "match"}).text
    fields, choices = carried(first)
    english = next(key for key in choices if key.startswith("options.")
                   and "GAD-7_English" not in key)  # any table: choose no options column for it
    form = form_data([*fields, *choices.items(), (english, ""), ("threshold", "0.3")])
    csv_file = answered("POST", url + "/harmonise/crosswalk.csv", data=form)
    assert csv_file.status_code == 200, csv_file.text
    rows = list(csv.DictReader(io.StringIO(csv_file.text)))
    assert tuple(rows[0]) == CROSSWALK_COLUMNS
    assert sum(bool(row["options"]) for row in rows) == 8  # one file's options left out by hand
    linked = [row for row in rows if row["matched_text"]]
    assert len(linked) >= 6 and all(-1 <= float(row[n]) <= 1 for row in linked
                                    for n in ("score", "equivalence", "relatedness"))
    book = load_workbook(io.BytesIO(answered("POST", url + "/harmonise/crosswalk.xlsx", data=form).content))
    sheet = [[("" if cell is None else str(cell)) for cell in row]
             for row in book["crosswalk"].iter_rows(values_only=True)]
    assert sheet[0] == list(CROSSWALK_COLUMNS)
    assert sheet[1:] == [[row[column] for column in CROSSWALK_COLUMNS] for row in rows]  # same numbers
    matches = list(book["matches"].iter_rows(values_only=True))
    assert {"options_1", "score", "equivalence", "relatedness"} <= set(matches[0])


def test_a_bad_file_is_named_on_the_page_and_escaped(url: str, files: Any) -> None:
    name = "<img src=x onerror=alert(1)>.xlsx"
    response = answered("POST", url + "/harmonise", data={"action": "match"},
                        files=[files[0], ("file", (name, b"PK\x03\x04 broken", "application/zip"))])
    assert response.status_code == 422
    assert "&lt;img src=x onerror=alert(1)&gt;.xlsx" in response.text
    assert "<img src=x" not in response.text and "not a readable XLSX workbook" in response.text
    assert 'name="upload_data"' in response.text  # the good file stays in the form


@pytest.mark.parametrize(("upload", "reason"), [
    (("notes.docx", b"PK\x03\x04", "application/zip"), "not a kind of file the harmoniser reads"),
    (("big.csv", b"question\n" + b"x" * MAX_UPLOAD_BYTES, "text/csv"), "over the 1,000,000-byte limit"),
    (("../../../etc/cron.d/x.csv", b"\n \n", "text/csv"), "x.csv</strong>: <strong>the file is empty"),
])
def test_refused_uploads_say_which_file_and_why(url: str, upload: Any, reason: str) -> None:
    response = httpx.post(url + "/harmonise", files=[("file", upload)], data={"action": "match"},
                          timeout=60)
    assert response.status_code == 422 and reason in response.text
    assert "/etc/" not in response.text


def test_a_body_over_the_apps_limit_is_refused_before_reading(url: str) -> None:
    big = ("big.csv", b"x" * 2_100_000, "text/csv")
    assert httpx.post(url + "/harmonise", files=[("file", big)], timeout=60).status_code == 413


def test_pasted_csv_headers_are_never_matched(url: str) -> None:
    boxes = {"name": ["A", "B"], "action": "match", "threshold": "-1",
             "items": ["question,options\nI feel nervous,Never|Often\nI worry a lot,Never|Often",
                       "Question;Options\nTrouble relaxing;Not at all|Often\nI am at ease;No|Yes"]}
    page = answered("POST", url + "/harmonise", data=boxes).text
    texts = matched_texts(page)
    assert "I feel nervous" in texts and not {"question", "Question"} & set(texts)
    assert "Never / Often" in page


def test_removing_a_file_and_adding_a_box(url: str, files: Any) -> None:
    first = answered("POST", url + "/harmonise", files=files, data={"action": "add"}).text
    fields, _ = carried(first)
    key = re.search(r'name="remove" value="([^"]+)"', first).group(1)
    page = answered("POST", url + "/harmonise",
                    data=form_data(fields + [("remove", key), ("action", "add")])).text
    assert page.count('name="upload_name"') == 1 and 'id="items-3"' in page


def test_the_threshold_hint_is_the_matchers_default(url: str) -> None:
    page = httpx.get(url + "/harmonise", timeout=60).text
    assert f'value="{DEFAULT_THRESHOLD}"' in page and f"the default, {DEFAULT_THRESHOLD:.2f}" in page
    assert "0.25" not in page
    refused = httpx.post(url + "/harmonise", data={"threshold": "2", "items": ["a", "b"]}, timeout=60)
    assert refused.status_code == 400 and f"the default is {DEFAULT_THRESHOLD:g}" in refused.text


def test_which_studies_measured_this_has_its_own_page(url: str) -> None:
    old = httpx.get(url + "/harmonise?q=Feeling+nervous", timeout=60)
    assert old.status_code == 303 and old.headers["location"] == "/measured?q=Feeling+nervous"
    page = httpx.get(url + "/measured", timeout=60)
    assert page.status_code == 200 and 'action="/measured"' in page.text


def test_a_form_of_another_type_is_refused(url: str) -> None:
    response = httpx.post(url + "/harmonise", content=b"{}", headers={"content-type": "application/json"},
                          timeout=60)
    assert response.status_code == 400


# ---- in the browser ----------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height"), [(1366, 900), (768, 1024), (390, 844)])
def test_upload_two_csv_files_pick_columns_and_download_the_crosswalk(
        browser: Browser, url: str, corpus: Path, tmp_path: Path, width: int, height: int) -> None:
    answered("GET", url + "/harmonise")
    portuguese = tmp_path / "gad7-pt.csv"
    portuguese.write_bytes(portuguese_csv(corpus))
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url + "/harmonise")
    page.get_by_label("Upload questionnaire files").set_input_files(
        [str(portuguese), str(corpus / GAD7.format("English"))])
    for _ in range(60):  # the matcher may still be loading on a fresh server
        page.get_by_role("button", name="Match items").click()
        if page.locator("#matches-h").count():
            break
        expect(page.locator(".notice")).to_contain_text("loading")
        page.wait_for_timeout(3000)
    expect(page.locator("#matches-h")).to_contain_text("matches")
    choice = page.locator(".table-choice", has_text="gad7-pt.csv")
    expect(choice.get_by_label("Header row")).to_have_value("1")
    choice.get_by_label("Item text").select_option(label="Column B: Enunciado (detected)")
    choice.get_by_label("Response options").select_option(label="Column C: Escala de resposta (detected)")
    page.get_by_role("button", name="Match items").click()
    expect(page.locator("#matches-h")).to_contain_text("matches")
    row = page.locator("table.matches tbody tr", has_text="Dificuldade para relaxar")
    expect(row.filter(has_text="Trouble relaxing")).to_contain_text("same direction")
    expect(page.locator(".number-key")).to_contain_text("Equivalence")
    assert page.evaluate(OVERFLOW) <= 0, f"the page overflows sideways at {width} px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"harmonise-upload-{width}x{height}.png"), full_page=True)

    downloaded = {}
    for fmt in ("CSV", "XLSX"):
        with page.expect_download() as info:
            page.get_by_role("button", name=fmt, exact=True).click()
        downloaded[fmt] = ARTIFACTS / f"harmonise-upload-crosswalk-{width}.{fmt.lower()}"
        info.value.save_as(downloaded[fmt])
    rows = list(csv.DictReader(io.StringIO(downloaded["CSV"].read_text(encoding="utf-8"))))
    pair = {"Dificuldade para relaxar", "Trouble relaxing"}
    relax = next(row for row in rows if {row["text"], row["matched_text"]} == pair)  # one of the cluster
    assert float(relax["score"]) > DEFAULT_THRESHOLD and relax["reverse_code"] == "no"
    options = {row["text"]: row["options"] for row in rows}
    assert options["Dificuldade para relaxar"] == \
        "Nenhuma vez | Vários dias | Mais da metade dos dias | Quase todos os dias"
    sheet = load_workbook(downloaded["XLSX"])["crosswalk"]
    header = [cell.value for cell in sheet[1]]
    xlsx_relax = next(dict(zip(header, values, strict=True)) for values in sheet.iter_rows(values_only=True)
                      if values[header.index("item_id")] == relax["item_id"])
    assert xlsx_relax["options"] == relax["options"] and xlsx_relax["score"] == float(relax["score"])
    assert xlsx_relax["equivalence"] == float(relax["equivalence"])
    assert xlsx_relax["relatedness"] == float(relax["relatedness"])
    context.close()
    assert errors == []


def test_too_many_items_name_the_files_that_hold_them(url: str) -> None:
    rows = "question\n" + "".join(f"Item number {n} about feeling something\n" for n in range(350))
    files = [("file", ("long.csv", rows.encode(), "text/csv")),
             ("file", ("longer.csv", rows.encode() + b"One more item here\n", "text/csv"))]
    response = httpx.post(url + "/harmonise", files=files, data={"action": "match"}, timeout=120)
    assert response.status_code == 400
    assert "701 items in all" in response.text and "long.csv: 350, longer.csv: 351" in response.text
