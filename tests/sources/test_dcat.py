"""DCAT-AP: the datos.gob.es Turtle record, the same graph as RDF/XML, and refused input (with
the socket layer watched, to prove nothing is fetched)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph

from discovery.errors import ParseError, UnsafeInputError
from discovery.model import Kind, Study
from discovery.sources import dcat
from discovery.sources.base import Document
from discovery.sources.registry import head_text
from tests.conftest import load
from tests.harvest.network import watched_sockets

MADRID = "schemaorg_dcat_ckan/dcat_ap_datos_gob_es_madrid_school_sport_satisfaction_survey.ttl"
TITLE = ("Estudio de Satisfacción con el Programa de Escuelas Municipales de Promoción Deportiva "
         "en centros escolares")
DATASET = ("https://datos.gob.es/catalogo/l01280796-estudio-de-satisfaccion-con-el-programa-de-"
           "escuelas-municipales-de-promocion-deportiva-en-centros-escolares")


def sniffs(doc: Document) -> bool:
    return dcat.sniff(doc, head_text(doc))


def only_study(doc: Document) -> Study:
    result = dcat.parse(doc)
    assert result.problems == []
    [study] = result.records
    return study


def as_rdf_xml(corpus: Path, location: str) -> Document:
    """The corpus graph re-serialised as RDF/XML: same statements, the other common syntax."""
    graph = Graph().parse(data=(corpus / MADRID).read_text(), format="turtle")
    return Document(location=location, content=graph.serialize(format="xml").encode())


def test_sniff(corpus: Path) -> None:
    assert sniffs(load(corpus / MADRID))
    assert sniffs(as_rdf_xml(corpus, "https://datos.gob.es/catalogo/dataset"))  # no extension
    for other in ("schemaorg_dcat_ckan/dcterms_icpsr05512_un_roll_call_data_1946_1985.xml",
                  "schemaorg_dcat_ckan/ckan_solr_datagovuk_price_paid_data.json",
                  "schemaorg_dcat_ckan/schemaorg_gtex_expression_matrices.json"):
        assert not sniffs(load(corpus / other)), other


def test_madrid_dataset_in_spanish(corpus: Path) -> None:
    study = only_study(load(corpus / MADRID))
    assert study.kind == Kind.DATASET
    assert study.title == TITLE
    assert [(t.value, t.lang) for t in study.titles] == [(TITLE, "es")]
    assert study.id == \
        "estudio-de-satisfaccion-con-el-programa-de-escuelas-municipales-de-promocion"
    assert study.language == ["es"]
    assert study.descriptions[0].lang == "es"
    assert study.description.startswith("Estudio de satisfacción de las personas directivas")
    assert "participar. Las Escuelas" in study.description  # runs of spaces collapsed
    assert study.keywords == ["deporte escolar", "escuelas", "promoción"]
    assert study.topics == ["deporte"]
    assert study.extra["themes"] == ["http://datos.gob.es/kos/sector-publico/sector/deporte"]
    assert study.publisher.name == "Ayuntamiento de Madrid"
    assert study.publisher.identifier.endswith("/Organismo/L01280796")
    assert study.license == "https://datos.madrid.es/egob/catalogo/aviso-legal"
    assert study.date_published == "2024-04-15T09:08:02+02:00"
    assert study.extra["modified"] == "2024-04-15T09:08:10+02:00"
    assert study.url == DATASET
    assert {(i.scheme, i.value) for i in study.identifiers} == {
        ("url", DATASET),
        ("url", "https://datos.madrid.es/egob/catalogo/300676-0-deporte-encuesta-escuelas")}
    [distribution] = study.distributions
    assert distribution.url == \
        "https://datos.madrid.es/egob/catalogo/300676-0-deporte-encuesta-escuelas.xlsx"
    assert distribution.name == "application/vnd.ms-excel"
    assert study.provenance.record_key == DATASET


def test_rdf_xml_gives_the_same_record(corpus: Path) -> None:
    from_turtle = only_study(load(corpus / MADRID))
    from_xml = only_study(as_rdf_xml(corpus, "madrid.rdf"))
    assert from_xml.model_dump(exclude={"provenance"}) == \
        from_turtle.model_dump(exclude={"provenance"})


def test_period_of_time_becomes_an_iso_interval(corpus: Path) -> None:
    period = (f"\n<{DATASET}> dct:temporal [ a dct:PeriodOfTime ; "
              'dcat:startDate "2023-09-01"^^xsd:date ; dcat:endDate "2024-06-30"^^xsd:date ] .\n')
    content = (corpus / MADRID).read_bytes() + period.encode()
    study = only_study(Document(location="madrid-with-period.ttl", content=content))
    assert study.temporal_coverage == "2023-09-01/2024-06-30"


def test_truncated_turtle_names_the_file(corpus: Path) -> None:
    content = (corpus / MADRID).read_bytes()[:3000]
    with pytest.raises(ParseError) as error:
        dcat.parse(Document(location="madrid-truncated.ttl", content=content))
    assert error.value.file == "madrid-truncated.ttl"
    assert "malformed RDF (turtle)" in error.value.reason


def test_rdf_xml_with_an_entity_declaration_is_refused(corpus: Path) -> None:
    xml = as_rdf_xml(corpus, "x.rdf").content.decode()
    xml = xml.replace("Estudio", "&es;").replace('<?xml version="1.0" encoding="utf-8"?>',
                                                 '<!DOCTYPE rdf:RDF [<!ENTITY es "Estudio">]>')
    with pytest.raises(UnsafeInputError) as error:
        dcat.parse(Document(location="entity.rdf", content=xml.encode()))
    assert error.value.file == "entity.rdf"


REMOTE = "http://127.0.0.1:9/context.jsonld"
PREFIXES = {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"}
TITLE_TERM = {"title": "A title"}


def json_ld(context: object, node: dict | None = None) -> Document:
    data = {"@context": context, "@id": "urn:x", "@type": "dcat:Dataset",
            **(node or {"dct:title": "A title"})}
    return Document(location="remote.jsonld", content=json.dumps(data).encode())


@pytest.mark.parametrize("doc", [
    json_ld(REMOTE),
    json_ld([PREFIXES, REMOTE]),
    json_ld({**PREFIXES, "@import": REMOTE}),
    json_ld({**PREFIXES, "title": {"@id": "dct:title", "@context": REMOTE}}, TITLE_TERM),
    json_ld({**PREFIXES, "title": {"@id": "dct:title", "@context": [[REMOTE]]}}, TITLE_TERM),
    json_ld({**PREFIXES, "title": {"@id": "dct:title", "@context": {"@import": REMOTE}}},
            TITLE_TERM),
    json_ld({**PREFIXES, "Dataset": {"@id": "dcat:Dataset", "@context": REMOTE}},
            {"@type": "Dataset", "dct:title": "A title"}),
    json_ld(PREFIXES, {"dct:title": "A title", "dct:publisher": {"@context": REMOTE}}),
    json_ld(PREFIXES, {"dct:title": "A title", "dct:publisher": {
        "@context": {"name": {"@id": "dct:title", "@context": "ctx.jsonld"}}, "name": "P"}}),
], ids=["document", "list", "import", "term", "nested-list", "term-import", "type", "node",
        "relative-in-node-term"])
def test_json_ld_with_a_context_by_reference_is_refused_not_fetched(doc: Document) -> None:
    with watched_sockets(refuse=True) as attempts:
        with pytest.raises(ParseError) as caught:
            dcat.parse(doc)
    assert attempts == []
    assert isinstance(caught.value, UnsafeInputError), caught.value.reason
    assert "remote @context" in caught.value.reason


def test_json_ld_with_inline_scoped_contexts_is_read() -> None:
    doc = json_ld({**PREFIXES, "title": {"@id": "dct:title", "@context": {"@language": "es"}},
                   "keyword": {"@id": "dcat:keyword", "@context": None}},
                  {"title": "Un título", "keyword": "deporte"})
    with watched_sockets(refuse=True) as attempts:
        study = only_study(doc)
    assert attempts == []
    assert [(t.value, t.lang) for t in study.titles] == [("Un título", "es")]
    assert study.keywords == ["deporte"]
