"""One linked catalogue shared by the linking tests: real corpus files, plus the few documents
the corpus lacks (a second catalogue's copy of a study, a GtR grant with a research-database
outcome, a DDI file that states its grant number), written here as the sources would write them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents
from discovery.linking import LinkReport, link_catalogue
from discovery.sources.base import Document

SEED_DATASET = "seeds/000_0feec249131aae36.txt"
SEED_GRANT = "seeds/002_c114f96cc0523e31.txt"
ALLBUS_25 = "ddi/ddi25_gesis_ZA2800_allbus_1996.xml"
ALLBUS_32 = "ddi/ddi32_gesis_ZA2800_allbus_1996.xml"
GLES_25 = "ddi/ddi25_gesis_ZA5300_gles_2009_preelection.xml"
GLES_32 = "ddi/ddi32_gesis_ZA5300_gles_2009_preelection.xml"
FSD = "ddi/ddi25_fsd3271_financial_awareness_finland_2014.xml"
CHILDCARE = "ddi/ddi25_ukds_SN6684_childcare_early_years_parents_2009.xml"
MACHINERY = "ddi/ddi25_ukds_SN1683_machinery_of_government_1976.xml"
MACHINERY_CMM = "cessda_cmm_json/cmm_ukds_SN1683_machinery_of_government_1976.json"
OAI_PAGE = "oai_pmh/oai_listrecords_cessda_datacatalogue_oai_ddi25.xml"
BCS = "catalogue_pages/harmony_item_000013c37b1c039c064ed9bb509cbc63.json"
FILES = [SEED_DATASET, SEED_GRANT, ALLBUS_25, ALLBUS_32, GLES_25, GLES_32, FSD, CHILDCARE,
         MACHINERY, MACHINERY_CMM, OAI_PAGE, BCS]

RELATIONS = "relations-study-data-2021-2022"
GOVERNING = "governing-parental-opioid-use-a-relational-ethnography"
ALLBUS = "allbus-ggss-1996-allgemeine-bevolkerungsumfrage-der-sozialwissenschaften-german"
GLES = "pre-election-cross-section-gles-2009"
FINNISH = "financial-awareness-of-finnish-people-2014"

FSD_RETITLED = "Taloudellinen tietämys Suomessa 2014 (Financial Awareness of Finnish People)"
PROJECT_GUID = "0D5E3C8A-1111-4B0B-9C55-2F1A9E3B7C01"
GRANT_REFERENCE = "ES/X012345/1"
PROJECT_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns2:project xmlns:ns1="http://gtr.rcuk.ac.uk/gtr/api/project" xmlns:ns2="http://gtr.rcuk.ac.uk/gtr/api"
 ns2:href="http://gtr.ukri.org:80/gtr/api/projects/{PROJECT_GUID}" ns2:id="{PROJECT_GUID}">
  <ns1:identifiers><ns1:identifier ns1:type="RCUK">{GRANT_REFERENCE}</ns1:identifier></ns1:identifiers>
  <ns1:title>Wellbeing across UK birth cohorts</ns1:title>
  <ns1:leadFunder>ESRC</ns1:leadFunder>
  <ns1:abstractText>Maps wellbeing questions of four birth cohorts onto common constructs.</ns1:abstractText>
</ns2:project>""".encode()
DATABASE_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns2:researchDatabaseAndModel xmlns:ns1="http://gtr.rcuk.ac.uk/gtr/api/outcome"
 xmlns:ns2="http://gtr.rcuk.ac.uk/gtr/api"
 ns2:href="http://gtr.ukri.org:80/gtr/api/outcomes/researchdatabaseandmodels/7A1C0E55-2222-4C3D-8E9F-0A1B2C3D4E5F"
 ns2:id="7A1C0E55-2222-4C3D-8E9F-0A1B2C3D4E5F">
  <ns2:links>
    <ns2:link ns2:href="http://gtr.ukri.org:80/gtr/api/projects/{PROJECT_GUID}" ns2:rel="PROJECT"/>
  </ns2:links>
  <ns1:title>Cohort wellbeing crosswalk</ns1:title>
  <ns1:description>Deposited with the UK Data Service.</ns1:description>
  <ns1:yearFirstProvided>2023</ns1:yearFirstProvided>
  <ns1:supportingUrl>https://reshare.ukdataservice.ac.uk/855555/</ns1:supportingUrl>
</ns2:researchDatabaseAndModel>""".encode()
CROSSWALK_DDI = f"""<?xml version="1.0" encoding="UTF-8"?>
<codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation>
<titlStmt><titl>Wellbeing Crosswalk for Four Birth Cohorts, 1958-2000</titl>
<IDNo agency="UK Data Service">855555</IDNo></titlStmt>
<prodStmt><grantNo agency="Economic and Social Research Council">{GRANT_REFERENCE}</grantNo></prodStmt>
</citation></stdyDscr></codeBook>""".encode()
MENTIONING_DDI = f"""<?xml version="1.0" encoding="UTF-8"?>
<codeBook xmlns="ddi:codebook:2_5"><stdyDscr><citation>
<titlStmt><titl>Wellbeing Interviews with Cohort Members, 2022</titl>
<IDNo agency="UK Data Service">855556</IDNo></titlStmt></citation>
<stdyInfo><abstract>Follow-up interviews funded under ESRC grant {GRANT_REFERENCE} with members
of two cohorts.</abstract></stdyInfo></stdyDscr></codeBook>""".encode()


def oai_copy(ddi: bytes, identifier: str) -> bytes:
    """The OAI-PMH GetRecord response a DDI file is served in by a catalogue's endpoint."""
    body = re.sub(rb"^<\?xml[^>]*\?>", b"", ddi.lstrip())
    return (b'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            b"<responseDate>2025-04-04T12:00:00Z</responseDate>"
            b'<request verb="GetRecord" metadataPrefix="oai_ddi25">https://example.org/oai</request>'
            b"<GetRecord><record><header><identifier>" + identifier.encode() +
            b"</identifier><datestamp>2025-01-01T00:00:00Z</datestamp></header><metadata>" + body +
            b"</metadata></record></GetRecord></OAI-PMH>")


def extra_documents(corpus: Path) -> list[Document]:
    """What the corpus does not hold: a catalogue's OAI-PMH copy of the FSD study under its
    Finnish title (so it gets an id of its own), and a GtR grant with its outcome and data."""
    fsd = (corpus / FSD).read_bytes().replace(
        b"Financial Awareness of Finnish People 2014", FSD_RETITLED.encode(), 1)
    return [Document(location="https://example.org/oai?verb=GetRecord&identifier=fsd3271",
                     content=oai_copy(fsd, "oai:fsd.tuni.fi:FSD3271")),
            Document(location="https://gtr.ukri.org/gtr/api/projects/" + PROJECT_GUID,
                     content=PROJECT_XML),
            Document(location="https://gtr.ukri.org/gtr/api/outcomes/researchdatabaseandmodels/7A1C",
                     content=DATABASE_XML),
            Document(location="crosswalk.xml", content=CROSSWALK_DDI),
            Document(location="interviews.xml", content=MENTIONING_DDI)]


def build(folder: Path, corpus: Path, files: list[str], extra: list[Document]) -> Catalogue:
    catalogue = Catalogue(folder)
    report = ingest(catalogue, [*documents([str(corpus / f) for f in files]), *extra])
    assert report.ok, report.failures
    return catalogue


@pytest.fixture(scope="session")
def linked(tmp_path_factory, corpus) -> tuple[Catalogue, LinkReport]:
    catalogue = build(tmp_path_factory.mktemp("linked"), corpus, FILES, extra_documents(corpus))
    return catalogue, link_catalogue(catalogue)
