"""Bad input of every class: each failure is one line naming file, record and reason; the record is
quarantined; the rest of the batch is stored; nothing is half-written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents

GOOD_DDI = "ddi/ddi25_gesis_ZA2800_allbus_1996.xml"
GOOD_JSONLD = "schemaorg_dcat_ckan/schemaorg_gtex_expression_matrices.json"
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE codeBook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation><titlStmt><titl>&xxe;</titl>
</titlStmt></citation></stdyDscr></codeBook>"""
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation><titlStmt><titl>&lol3;</titl>
</titlStmt></citation></stdyDscr></codeBook>"""


def batch(tmp_path: Path, corpus: Path, bad: dict[str, bytes]) -> Path:
    """A folder with two good corpus files and the bad ones."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / GOOD_DDI, folder / "good_ddi.xml")
    shutil.copy(corpus / GOOD_JSONLD, folder / "good.json")
    for name, content in bad.items():
        (folder / name).write_bytes(content)
    return folder


def run(tmp_path: Path, folder: Path):
    catalogue = Catalogue(tmp_path / "data")
    report = ingest(catalogue, documents([str(folder)]))
    return catalogue, report


def ddi_with_title(title: str, extra_vars: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><codeBook xmlns="ddi:codebook:2_5">'
            f"<stdyDscr><citation><titlStmt><titl>{title}</titl></titlStmt></citation></stdyDscr>"
            f"<dataDscr>{extra_vars}</dataDscr></codeBook>").encode("utf-8")


@pytest.mark.parametrize("name, content, reason", [
    ("truncated.xml", ddi_with_title("Cut short")[:-40], "malformed XML"),
    ("truncated.json", b'{"@context": "https://schema.org/", "@type": "Dataset", "name": "Cut',
     "malformed JSON"),
    ("xxe.xml", XXE, "entities"),
    ("bomb.xml", BOMB, "entities"),
    ("empty.xml", b"", "empty file"),
    ("blank.json", b"  \n\t ", "empty file"),
    ("latin1_claims_utf8.xml", ddi_with_title("Gew\xe4hlt").replace(b"\xc3\xa4", b"\xe4"),
     "malformed XML"),
    ("binary.bin", bytes(range(256)) * 4, "unknown format"),
    ("notes.md", b"# Just some notes\n\nNothing to see.\n", "unknown format"),
])
def test_bad_input_is_quarantined_and_the_batch_goes_on(tmp_path, corpus, name, content, reason):
    folder = batch(tmp_path, corpus, {name: content})
    catalogue, report = run(tmp_path, folder)
    assert report.stored == 2, report.failures
    assert len(report.failures) == 1
    [line] = report.failures
    assert name in line and reason in line and "\n" not in line
    [(_, _, location, _, stored_reason, _)] = catalogue.quarantined()
    assert location.endswith(name) and reason in stored_reason
    assert catalogue.counts_by_kind().get("study", 0) >= 1


def test_xxe_never_reads_the_file_it_points_at(tmp_path, corpus):
    folder = batch(tmp_path, corpus, {"xxe.xml": XXE})
    catalogue, _ = run(tmp_path, folder)
    dump = "\n".join(data for (data,) in catalogue.db.execute("SELECT data FROM records"))
    assert "root:" not in dump


def test_utf16_without_bom_and_cp1252_are_read(tmp_path, corpus):
    utf16 = ddi_with_title("Umfrage über Gesundheit").decode("utf-8").replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le")
    folder = batch(tmp_path, corpus, {"utf16.xml": utf16})
    catalogue, report = run(tmp_path, folder)
    assert report.ok, report.failures
    assert catalogue.get("umfrage-uber-gesundheit").title == "Umfrage über Gesundheit"


def test_an_enormous_field_quarantines_that_record_only(tmp_path, corpus):
    huge = "x" * 300_000
    variables = ('<var name="ok1"><labl>Fine</labl></var>'
                 f'<var name="huge"><labl>{huge}</labl></var>'
                 '<var name="ok2"><labl>Also fine</labl></var>')
    folder = batch(tmp_path, corpus, {"huge.xml": ddi_with_title("Big fields", variables)})
    catalogue, report = run(tmp_path, folder)
    assert len(report.failures) == 1
    assert "huge.xml" in report.failures[0] and "record huge" in report.failures[0]
    assert "over the" in report.failures[0]
    names = {row[0] for row in catalogue.list_records(kind="variable")}
    assert names == {"big-fields.ok1", "big-fields.ok2"}


def test_a_missing_path_is_reported_not_raised(tmp_path):
    catalogue = Catalogue(tmp_path / "data")
    report = ingest(catalogue, documents([str(tmp_path / "nowhere.xml")]))
    assert not report.ok and "no such file" in report.failures[0]


def test_a_file_that_parses_after_a_fix_leaves_quarantine(tmp_path, corpus):
    folder = batch(tmp_path, corpus, {"later.xml": ddi_with_title("Fixed")[:-30]})
    catalogue, _ = run(tmp_path, folder)
    assert len(catalogue.quarantined()) == 1
    (folder / "later.xml").write_bytes(ddi_with_title("Fixed"))
    report = ingest(catalogue, documents([str(folder)]))
    assert report.ok and catalogue.quarantined() == []


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr("discovery.harvest.files.MAX_DOCUMENT_BYTES", 1000)
    folder = batch(tmp_path, corpus, {"big.xml": ddi_with_title("x" * 2000)})
    catalogue, report = run(tmp_path, folder)
    assert [line for line in report.failures if "big.xml" in line and "over the 1000" in line]
