"""Bad input of every class: each failure is one line naming file, record and reason; the record is
quarantined once, however often the batch is re-run; the rest of the batch is stored; nothing is
half-written; and no parser touches the network, whatever the input points at."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook
from pypdf import PdfWriter
from pypdf.annotations import Link

from discovery.catalogue.ingest import ingest
from discovery.catalogue.backends import open_catalogue
from discovery.harvest.files import documents
from discovery.sources.base import Document
from discovery.sources.registry import formats
from tests.harvest.network import watched_sockets

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


def run(target: str, folder: Path):
    catalogue = open_catalogue(target)
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
def test_bad_input_is_quarantined_and_the_batch_goes_on(tmp_path, target, corpus, name, content, reason):
    folder = batch(tmp_path, corpus, {name: content})
    catalogue, report = run(target, folder)
    assert report.stored == 2, report.failures
    assert len(report.failures) == 1
    [line] = report.failures
    assert name in line and reason in line and "\n" not in line
    [(_, _, location, _, stored_reason, _)] = catalogue.quarantined()
    assert location.endswith(name) and reason in stored_reason
    assert catalogue.counts_by_kind().get("study", 0) >= 1


def test_xxe_never_reads_the_file_it_points_at(tmp_path, target, corpus):
    folder = batch(tmp_path, corpus, {"xxe.xml": XXE})
    catalogue, _ = run(target, folder)
    dump = "\n".join(data for (data,) in catalogue.db.execute("SELECT data FROM records"))
    assert "root:" not in dump


def test_utf16_without_bom_and_cp1252_are_read(tmp_path, target, corpus):
    utf16 = ddi_with_title("Umfrage über Gesundheit").decode("utf-8").replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16-le")
    folder = batch(tmp_path, corpus, {"utf16.xml": utf16})
    catalogue, report = run(target, folder)
    assert report.ok, report.failures
    assert catalogue.get("umfrage-uber-gesundheit").title == "Umfrage über Gesundheit"


def test_an_enormous_field_quarantines_that_record_only(tmp_path, target, corpus):
    huge = "x" * 300_000
    variables = ('<var name="ok1"><labl>Fine</labl></var>'
                 f'<var name="huge"><labl>{huge}</labl></var>'
                 '<var name="ok2"><labl>Also fine</labl></var>')
    folder = batch(tmp_path, corpus, {"huge.xml": ddi_with_title("Big fields", variables)})
    catalogue, report = run(target, folder)
    assert len(report.failures) == 1
    assert "huge.xml" in report.failures[0] and "record huge" in report.failures[0]
    assert "over the" in report.failures[0]
    names = {row[0] for row in catalogue.list_records(kind="variable")}
    assert names == {"big-fields.ok1", "big-fields.ok2"}


def test_a_missing_path_is_reported_not_raised(tmp_path, target):
    catalogue = open_catalogue(target)
    report = ingest(catalogue, documents([str(tmp_path / "nowhere.xml")]))
    assert not report.ok and "no such file" in report.failures[0]


def test_a_file_that_parses_after_a_fix_leaves_quarantine(tmp_path, target, corpus):
    folder = batch(tmp_path, corpus, {"later.xml": ddi_with_title("Fixed")[:-30]})
    catalogue, _ = run(target, folder)
    assert len(catalogue.quarantined()) == 1
    (folder / "later.xml").write_bytes(ddi_with_title("Fixed"))
    report = ingest(catalogue, documents([str(folder)]))
    assert report.ok and catalogue.quarantined() == []


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, target, corpus, monkeypatch):
    monkeypatch.setattr("discovery.harvest.files.MAX_DOCUMENT_BYTES", 1000)
    folder = batch(tmp_path, corpus, {"big.xml": ddi_with_title("x" * 2000)})
    catalogue, report = run(target, folder)
    assert [line for line in report.failures if "big.xml" in line and "over the 1000" in line]


SURROGATE = rb"\ud800"  # JSON's escape for half a UTF-16 pair: json.loads gives a lone surrogate


@pytest.mark.parametrize("source, before, escape", [
    ("schemaorg_dcat_ckan/schemaorg_gtex_expression_matrices.json", b'"name": "', SURROGATE),
    ("cessda_cmm_json/cmm_ukds_SN1683_machinery_of_government_1976.json", b'"zz": "', SURROGATE),
    ("catalogue_pages/harmony_item_000013c37b1c039c064ed9bb509cbc63.json", b'"name": "',
     SURROGATE),
    ("schemaorg_dcat_ckan/ckan_solr_datagovuk_price_paid_data.json", rb'\"title\": \"Price',
     rb"\\ud800"),  # in the package JSON that the Solr document holds as a string
])
def test_a_lone_surrogate_quarantines_its_record_and_the_run_goes_on(tmp_path, target, corpus,
                                                                     source, before, escape):
    content = (corpus / source).read_bytes().replace(before, before + escape, 1)
    assert escape in content
    folder = batch(tmp_path, corpus, {"a_surrogate.json": content})  # read before the good ones
    for _ in range(2):  # the re-run goes the same way, and adds nothing to the quarantine
        catalogue, report = run(target, folder)
        assert report.stored >= 2
        assert catalogue.list_records(source_prefix=str(folder / "good_ddi.xml"))  # read after it
        assert len(report.failures) == 1 and "a_surrogate.json" in report.failures[0]
        [(number, _, location, _, reason, _)] = catalogue.quarantined()
        assert location.endswith("a_surrogate.json")
        assert SURROGATE in (reason.encode() + catalogue.quarantined_raw(number))
        catalogue.close()


def test_re_running_a_bad_batch_does_not_grow_the_quarantine(tmp_path, corpus, target):
    huge = '<var name="huge"><labl>' + "x" * 300_000 + "</labl></var>"
    folder = batch(tmp_path, corpus, {"truncated.xml": ddi_with_title("Cut short")[:-40],
                                      "huge.xml": ddi_with_title("Big fields", huge),
                                      "empty.json": b""})
    with open_catalogue(target) as catalogue:
        runs = []
        for _ in range(3):
            ingest(catalogue, documents([str(folder)]))
            runs.append([(number, location, record) for number, _, location, record, _, _ in
                         catalogue.quarantined()])
        assert len(runs[0]) == 3
        assert runs[0] == runs[1] == runs[2]  # the same entries, under the same numbers
        (folder / "truncated.xml").write_bytes(ddi_with_title("Cut elsewhere")[:-20])
        ingest(catalogue, documents([str(folder)]))
        [raw] = [catalogue.quarantined_raw(number) for number, _, location, *_ in
                 catalogue.quarantined() if location.endswith("truncated.xml")]
        assert raw == (folder / "truncated.xml").read_bytes()  # replaced, not added


URL = "http://169.254.169.254/latest"  # what hostile metadata points a parser at
DCAT_TERMS = {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"}
DDI_HEAD = '<codeBook xmlns="ddi:codebook:2_5" xmlns:xi="http://www.w3.org/2001/XInclude" ' \
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' \
    f'xsi:schemaLocation="ddi:codebook:2_5 {URL}/codebook.xsd">'


def hostile_documents() -> list[Document]:
    """Inputs of every format that point at the network every way their format allows."""
    json_ld = [
        {"@context": {**DCAT_TERMS, "title": {"@id": "dct:title", "@context": f"{URL}/c"}},
         "@id": "urn:x", "@type": "dcat:Dataset", "title": "Scoped"},
        {"@context": {**DCAT_TERMS, "@import": f"{URL}/c"}, "@type": "dcat:Dataset"},
        {"@context": [DCAT_TERMS, f"{URL}/c"], "@type": "dcat:Dataset", "dct:title": "Listed"},
        {"@context": f"{URL}/schema", "@type": "Dataset", "name": "Remote schema.org context",
         "description": "A dataset whose context is fetched by whoever follows it."},
    ]
    texts = {f"context{n}.jsonld": json.dumps(data) for n, data in enumerate(json_ld)}
    texts |= {
        "page.html": '<!doctype html><html><head><script type="application/ld+json">'
                     f'{json.dumps(json_ld[3])}</script><link rel="stylesheet" href="{URL}/s">'
                     "</head></html>",
        "dtd.rdf": f'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "{URL}/rdf.dtd">'
                   '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                   f'xmlns:dcat="{DCAT_TERMS["dcat"]}" xmlns:dct="{DCAT_TERMS["dct"]}" '
                   f'xml:base="{URL}/"><dcat:Dataset rdf:about="d"><dct:title>T</dct:title>'
                   f'<dct:source rdf:resource="{URL}/src"/></dcat:Dataset></rdf:RDF>',
        "imports.ttl": f"@base <{URL}/> .\n@prefix dcat: <{DCAT_TERMS['dcat']}> .\n"
                       f"@prefix dct: <{DCAT_TERMS['dct']}> .\n"
                       "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
                       f'<d> a dcat:Dataset ; dct:title "T" ; owl:imports <{URL}/o.ttl> .\n',
        "parameter_entity.xml": f'<?xml version="1.0"?><!DOCTYPE codeBook [<!ENTITY % p SYSTEM '
                                f'"{URL}/p.dtd"> %p;]>{DDI_HEAD}</codeBook>',
        "external_dtd.xml": f'<?xml version="1.0"?><!DOCTYPE codeBook SYSTEM "{URL}/c.dtd">'
                            f"{DDI_HEAD}<stdyDscr><citation><titlStmt><titl>T</titl></titlStmt>"
                            "</citation></stdyDscr></codeBook>",
        "xinclude.xml": f'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="{URL}/s"?>'
                        f'{DDI_HEAD}<stdyDscr><citation><titlStmt><titl>T</titl></titlStmt>'
                        f'</citation></stdyDscr><xi:include href="{URL}/more.xml"/></codeBook>',
        "oai.xml": f'<?xml version="1.0"?><!DOCTYPE OAI-PMH SYSTEM "{URL}/oai.dtd">'
                   '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
                   "2026-01-01T00:00:00Z</responseDate>"
                   f'<request verb="ListRecords">{URL}/oai</request><ListRecords>'
                   f'<resumptionToken>{URL}</resumptionToken></ListRecords></OAI-PMH>',
        "ckan.json": json.dumps({"success": True, "result": {
            "name": "p", "title": "P", "notes": "n", "url": f"{URL}/home",
            "resources": [{"url": f"{URL}/data.csv", "format": "CSV"}]}}),
        "gtr.json": json.dumps({"id": "1", "href": f"{URL}/projects/1", "title": "G",
                                "links": {"link": [{"href": f"{URL}/persons/2",
                                                    "rel": "PI_PER"}]}}),
        "variables.csv": f"name,label,url\nq1,How often,{URL}/q1\n",
        "items.txt": f"1. How often do you feel nervous? See {URL}/q\n",
    }
    docs = [Document(location=name, content=text.encode()) for name, text in texts.items()]
    workbook = Workbook()
    workbook.active.append(["name", "label"])
    workbook.active.append(["q1", "How often"])
    workbook.active["B2"].hyperlink = f"{URL}/q1"
    workbook.save(xlsx := io.BytesIO())
    pdf = PdfWriter()
    pdf.add_blank_page(200, 200)
    pdf.add_annotation(0, Link(rect=(0, 0, 100, 100), url=f"{URL}/pdf"))
    pdf.write(pdf_bytes := io.BytesIO())
    return docs + [Document(location="links.xlsx", content=xlsx.getvalue()),
                   Document(location="links.pdf", content=pdf_bytes.getvalue())]


def test_no_parser_touches_the_network_whatever_the_input_points_at(target):
    """Every parser reads every hostile input (most refuse it, which is fine), then the batch is
    ingested, with the socket layer refusing and counting every connection and name lookup
    (the catalogue is opened before: a PostgreSQL one connects to its server)."""
    docs = hostile_documents()
    with open_catalogue(target) as catalogue, watched_sockets(refuse=True) as attempts:
        for module in formats():
            for doc in docs:
                try:
                    module.parse(doc)
                except Exception:  # a format reading another's bytes may fail as it likes
                    pass
        report = ingest(catalogue, docs)
    assert attempts == []
    assert report.documents == len(docs)
    assert [line for line in report.failures if "context0.jsonld" in line
            and "remote @context" in line]
