"""Blow-ups (defect 8): each hostile file, built from real corpus files, is parsed in a fresh
process as `discovery ingest` would, and must finish within seconds and a bounded growth of peak
RSS, as records or as one quarantinable failure with its reason, never as a crash. The old parsers
took 14-212 s and up to 1.9 GB on these shapes (figures in each test and in the README).

Only `parse_document` is used in the measured process, and this module imports nothing the
old code lacked, so the same tests measure the old code (PYTHONPATH=old/src pytest ...).
The budget that bounds what no structure can is tested in test_budgets.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from discovery.model import ParseResult
from discovery.sources import ddi
from discovery.sources.base import Document, parse_xml
from tests.conftest import load
from tests.sources import hostile

SECONDS = 8.0  # per file, on a loaded 2-core machine; each takes under 2 s here when idle


def _parse(path: Path, data: bytes, limit_mb: float, seconds: float = SECONDS) -> dict[str, object]:
    path.write_bytes(data)
    outcome = hostile.measure(path, timeout=seconds)
    assert "timed_out" not in outcome, f"{path.name} still parsing after {seconds} s"
    assert "exit" not in outcome, outcome
    assert outcome["crash"] is None, outcome["crash"]
    assert outcome["seconds"] < seconds, outcome
    assert outcome["peak_growth_mb"] < limit_mb, outcome
    return outcome


# --- DDI --------------------------------------------------------------------------------------

def test_a_large_codebook_is_streamed_not_held_as_a_tree(tmp_path: Path) -> None:
    """16 MB of the FSD export's variables (11,400): the whole tree peaked at +380 MB, streamed
    it is +250 MB, the records themselves (~15 KB each); 200 MB: 4,195 -> 2,368 MB."""
    outcome = _parse(tmp_path / "big.xml", hostile.codebook(16), limit_mb=290, seconds=30)
    assert outcome["records"] == 11_467


def test_thousands_of_variables_named_alike_get_ids_in_linear_time(tmp_path: Path) -> None:
    """19,674 copies of one variable: the old id loop probed `-2`, `-3`... from the start for each
    (quadratic: over 60 s); now the next number is remembered."""
    outcome = _parse(tmp_path / "alike.xml", hostile.codebook(7, renamed=False, var_name="FSD_NO"),
                     limit_mb=400, seconds=20)
    assert outcome["records"] == 19_675


def test_streamed_codebooks_give_the_records_of_the_whole_tree(corpus: Path) -> None:
    for path in sorted((corpus / "ddi").glob("ddi*_*.xml")):
        doc = load(path)
        root = parse_xml(doc)
        if ddi._local(root) != "codeBook":
            continue
        assert _dump(ddi.parse(doc)) == _dump(ddi.parse_codebook_element(root, doc)), path.name


def test_a_codebook_that_contradicts_its_stream_is_parsed_whole(tmp_path: Path) -> None:
    """A varGrp after the variables changes what they carry: the stream notices at the end and
    parses the file again as a tree, so the records are still the tree's."""
    text = hostile.FSD_CODEBOOK.read_text(encoding="utf-8").replace('<var name="T3">',
                                                                   '<var name="T3" ID="T3">')
    late_group = ('<varGrp ID="late" var="T3 T4"><labl xml:lang="en">Late group</labl></varGrp>'
                  "</dataDscr>")
    doc = Document(location=str(tmp_path / "late.xml"),
                   content=text.replace("</dataDscr>", late_group, 1).encode("utf-8"))
    streamed = ddi.parse(doc)
    assert _dump(streamed) == _dump(ddi.parse_codebook_element(parse_xml(doc), doc))
    groups = {record.name: record.extra.get("groups") for record in streamed.records[1:]}
    assert groups["T3"] == ["Late group"]


def _dump(result: ParseResult) -> str:
    return json.dumps([[item.model_dump(mode="json") for item in items]
                       for items in (result.records, result.relations, result.problems)])


# --- XLSX -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "size", "reason"), [
    # 0.47 MB inflating to 136 MB of rows: old 85 s, 1.4 GB (refused only at 2,000,000 rows)
    ("rows", 2_000_000, "zip bomb"),
    # 0.2 MB, 2 million empty rows: old ~14 s
    ("empty_rows", 2_000_000, "zip bomb"),
    # 0.2 MB, 5 million shared strings: old ~50 s (20 million: 212 s, 1.9 GB)
    ("shared_strings", 5_000_000, "zip bomb"),
])
def test_xlsx_bombs_are_refused_before_they_inflate(tmp_path: Path, kind: str, size: int,
                                                    reason: str) -> None:
    outcome = _parse(tmp_path / f"{kind}.xlsx", hostile.workbook(kind, size), limit_mb=100)
    assert reason in str(outcome["failure"]), outcome
    assert "hint:" in str(outcome["failure"])


def test_a_dimension_claiming_the_whole_grid_does_not_pad_every_row(tmp_path: Path) -> None:
    """10,000 real rows under A1:XFD1048576: openpyxl padded each row to 16,384 cells."""
    outcome = _parse(tmp_path / "dimension.xlsx", hostile.workbook("huge_dimension", 10_000),
                     limit_mb=200)
    assert outcome["records"] == 10_001


# --- PDF and CSV ------------------------------------------------------------------------------

def test_a_pdf_drawing_one_stream_on_every_page_is_refused_quickly(tmp_path: Path) -> None:
    """32 KB, 200 pages that all draw one stream of 20,000 operations: old ~3 minutes (2,000
    pages, 0.3 MB: over 5 minutes, killed)."""
    outcome = _parse(tmp_path / "pages.pdf", hostile.pdf(pages=200, lines=10_000), limit_mb=150)
    assert "operations" in str(outcome["failure"]), outcome


def test_a_pdf_page_with_a_huge_content_stream_is_skipped(tmp_path: Path) -> None:
    """0.1 MB inflating to a 39 MB content stream of 2 million operations on one page."""
    outcome = _parse(tmp_path / "stream.pdf", hostile.pdf(pages=1, lines=1_000_000), limit_mb=250)
    assert "content stream over" in str(outcome["failure"]), outcome


def test_a_csv_built_against_the_sniffer_is_read_in_a_second(tmp_path: Path) -> None:
    """60 KB of `,"a` after a real header: csv.Sniffer's quote regexes took 11-16 s on it here."""
    outcome = _parse(tmp_path / "sniffer.csv", hostile.sniffer_csv(60_000), limit_mb=100,
                     seconds=3)
    assert outcome["records"] == 4




# --- slow patterns the fuzzing and review found -------------------------------------------------

def test_digits_before_a_question_mark_do_not_backtrack(tmp_path: Path) -> None:
    """40 digits and a "!" before `<q>`: the number-prefix regex tried every way of cutting them into 1-3
    digit numbers (32 digits took 94 s, each further digit ~1.8x more)."""
    text = "1" * 40 + "! <q>How often do you feel calm?</q>\n<q>How often do you feel nervous?</q>\n"
    outcome = _parse(tmp_path / "digits.txt", text.encode(), limit_mb=100)
    assert outcome["records"] == 3


def test_unclosed_question_marks_are_matched_in_linear_time(tmp_path: Path) -> None:
    """100,000 `<q>` that never close after two real items (0.3 MB): the mark regex scanned to the
    end of the text from each of them."""
    text = "<q>How often do you feel calm?</q>\n<q>How often do you feel nervous?</q>\n" + "<q>" * 100_000
    outcome = _parse(tmp_path / "unclosed.txt", text.encode(), limit_mb=100)
    assert outcome["records"] == 3


def test_markup_with_unclosed_tags_is_stripped_in_linear_time(tmp_path: Path) -> None:
    """A DDI abstract of 90,000 `<a` (180 KB, under the 200,000-character field limit): the
    markup stripper scanned to the end of the field from each."""
    text = hostile.FSD_CODEBOOK.read_text(encoding="utf-8")
    abstract = text.index("<abstract")
    text = text[:abstract] + "<abstract>" + "&lt;a" * 90_000 + "</abstract>" + text[abstract:]
    outcome = _parse(tmp_path / "markup.xml", text.encode("utf-8"), limit_mb=150)
    assert outcome["records"] == 235


def test_a_prologue_of_many_instructions_and_no_root_is_sniffed_quickly(tmp_path: Path) -> None:
    """Found by bench/fuzz.py: a mutated head repeating a processing instruction, with no root
    element after it, made the root-name patterns backtrack for hours (one instruction could be
    matched as several), past every budget: sniffing runs before a parser's budget starts."""
    head = b'<?xml version="1.0" encoding="UTF-8" ?>\n' + \
        b"<?xml-stylesheet type='text/xsl' href='oai2.xsl' ?>\n" * 60 + b"no root element"
    outcome = _parse(tmp_path / "prologue.xml", head, limit_mb=200)
    assert "error" in outcome or "records" in outcome, outcome
