"""A study and its variables as DDI Codebook 2.5: the `oai_ddi25` records of the OAI-PMH provider
and the `ddi` bulk export.

Children are written in the order DDI 2.5's sequences require (`codeBook`: stdyDscr, fileDscr,
dataDscr; `citation`: titlStmt, rspStmt, prodStmt, distStmt, verStmt, holdings; `var`: labl,
qstn, universe, sumStat, txt, catgry, concept, varFormat), and only what the record holds is
written. The element choices are the ones `sources/ddi.py` reads back, so a Discovery harvesting
another Discovery gets the same study and variables (tests/oai/test_round_trip.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from lxml import etree

from discovery.export.xml_text import add
from discovery.model import Category, Identifier, Link, Study, Text, Variable

NS = "ddi:codebook:2_5"
SCHEMA_URL = "https://ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
# DDI 2.5 `dateSimpleType`: a year, year-month, date or date-time
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?)?)?)?$")
# `sumStat@type` values DDI 2.5 enumerates
_SUM_STATS = frozenset({"mean", "medn", "mode", "vald", "invd", "min", "max", "stdev", "other"})
# agencies `sources/ddi.py` maps back to the identifier's scheme
_AGENCIES = {"doi": "DOI", "ukds": "UK Data Service", "gesis": "GESIS", "fsd": "FSD"}
_OWN_ELEMENTS = frozenset({"url", "grant"})  # written as holdings and grantNo


def codebook(study: Study, variables: Sequence[Variable] = ()) -> etree._Element:
    """The `codeBook` element for `study` with `variables` as its `dataDscr/var`s."""
    root = etree.Element(_q("codeBook"), nsmap={None: NS, "xsi": XSI}, version="2.5")
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} {SCHEMA_URL}")
    _study_description(add(root, _q("stdyDscr")), study)
    _file_descriptions(root, study)
    if variables:
        data = add(root, _q("dataDscr"))
        for variable in variables:
            _var(data, variable)
    return root


def to_bytes(study: Study, variables: Sequence[Variable] = ()) -> bytes:
    """One study as a standalone DDI file."""
    return etree.tostring(codebook(study, variables), encoding="UTF-8", xml_declaration=True,
                          pretty_print=True)


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _texts(parent: etree._Element, name: str, texts: Iterable[Text]) -> None:
    for text in texts:
        add(parent, _q(name), text.value, text.lang)


def _values(parent: etree._Element, name: str, values: Iterable[str]) -> None:
    for value in values:
        add(parent, _q(name), value)


def _study_description(parent: etree._Element, study: Study) -> None:
    citation = add(parent, _q("citation"))
    _title_statement(add(citation, _q("titlStmt")), study)
    if study.creators:
        responsibility = add(citation, _q("rspStmt"))
        for agent in study.creators:
            add(responsibility, _q("AuthEnty"), agent.name, affiliation=agent.affiliation)
    if study.funders or study.grant_numbers:
        production = add(citation, _q("prodStmt"))
        _values(production, "fundAg", [agent.name for agent in study.funders])
        _values(production, "grantNo", study.grant_numbers)
    if study.publisher or study.date_published:
        distribution = add(citation, _q("distStmt"))
        if study.publisher:
            add(distribution, _q("distrbtr"), study.publisher.name,
                affiliation=study.publisher.affiliation)
        if study.date_published:
            add(distribution, _q("distDate"), study.date_published,
                date=study.date_published if _DATE.match(study.date_published) else None)
    if study.version:
        add(add(citation, _q("verStmt")), _q("version"), study.version)
    if study.url:
        add(citation, _q("holdings"), URI=study.url)
    _study_info(parent, study)
    _method(parent, study)
    if study.license:
        use = add(add(parent, _q("dataAccs")), _q("useStmt"))
        add(use, _q("conditions"), study.license)


def _title_statement(statement: etree._Element, study: Study) -> None:
    main = next((t for t in study.titles if t.value == study.title), Text(value=study.title))
    add(statement, _q("titl"), main.value, main.lang)
    _texts(statement, "parTitl", [t for t in study.titles if t is not main and t.lang])
    _texts(statement, "altTitl", [t for t in study.titles if t is not main and not t.lang])
    for identifier in _own_identifiers(study.identifiers):
        add(statement, _q("IDNo"), identifier.value,
            agency=_AGENCIES.get(identifier.scheme, identifier.scheme))


def _own_identifiers(identifiers: list[Identifier]) -> list[Identifier]:
    return [i for i in identifiers if i.scheme not in _OWN_ELEMENTS]


def _study_info(parent: etree._Element, study: Study) -> None:
    info = add(parent, _q("stdyInfo"))
    if study.keywords or study.topics:
        subject = add(info, _q("subject"))
        _values(subject, "keyword", study.keywords)
        _values(subject, "topcClas", study.topics)
    descriptions = study.descriptions or (
        [Text(value=study.description)] if study.description else [])
    _texts(info, "abstract", descriptions)
    summary = add(info, _q("sumDscr"))
    _time_period(summary, study.temporal_coverage)
    _values(summary, "geogCover", study.spatial_coverage)
    _values(summary, "anlyUnit", study.methods.get("analysis_unit", []))
    _texts(summary, "universe", study.universe)
    if study.resource_type:
        add(summary, _q("dataKind"), study.resource_type)
    if len(summary) == 0:
        info.remove(summary)
    if len(info) == 0:
        parent.remove(info)


def _time_period(summary: etree._Element, coverage: str | None) -> None:
    """`2021-04-01/2022-12-01` as start and end events, a lone date as a single one; an open end
    (`..`) is left out. Coverage that is no ISO date is not written: DDI wants dates here."""
    if not coverage:
        return
    start, slash, end = coverage.partition("/")
    events = [("start", start), ("end", end)] if slash else [("single", start)]
    for event, date in events:
        if _DATE.match(date):
            add(summary, _q("timePrd"), date, event=event, date=date)


def _method(parent: etree._Element, study: Study) -> None:
    methods = study.methods
    parts = [("timeMeth", list(dict.fromkeys(methods.get("time_method", []) + study.study_design))),
             ("sampProc", methods.get("sampling_procedure", [])),
             ("collMode", methods.get("collection_mode", [])),
             ("resInstru", methods.get("research_instrument", []))]
    if any(values for _, values in parts):
        collection = add(add(parent, _q("method")), _q("dataColl"))
        for name, values in parts:
            _values(collection, name, values)


def _file_descriptions(root: etree._Element, study: Study) -> None:
    """The number of cases, and each downloadable file with its format."""
    files: list[Link | None] = [*study.distributions] or ([None] if study.sample_size is not None else [])
    for position, link in enumerate(files):
        described = add(root, _q("fileDscr"), URI=link.url if link else None)
        text = add(described, _q("fileTxt"))
        if position == 0 and study.sample_size is not None:
            add(add(text, _q("dimensns")), _q("caseQnty"), str(study.sample_size))
        if link and link.name:
            add(text, _q("fileType"), link.name)
        if len(text) == 0:
            described.remove(text)


def _var(parent: etree._Element, variable: Variable) -> None:
    interval = variable.extra.get("interval")
    var = add(parent, _q("var"), name=variable.name,
              intrvl=interval if interval in ("contin", "discrete") else None)
    _texts(var, "labl", variable.titles or [Text(value=variable.title)])
    pre, post = variable.extra.get("pre_question") or [], variable.extra.get("post_question") or []
    if variable.question_texts or variable.instructions or pre or post:
        question = add(var, _q("qstn"))
        _values(question, "preQTxt", pre)
        _texts(question, "qstnLit", variable.question_texts)
        _values(question, "postQTxt", post)
        _texts(question, "ivuInstr", variable.instructions)
    _texts(var, "universe", variable.universe)
    for kind, value in (variable.extra.get("summary") or {}).items():
        if kind in _SUM_STATS:
            add(var, _q("sumStat"), str(value), type=kind)
    _texts(var, "txt", variable.descriptions)
    for group in _category_groups(variable.categories):
        _category(var, group)
    _values(var, "concept", variable.concepts)
    if variable.data_type in ("character", "numeric"):
        add(var, _q("varFormat"), type=variable.data_type)
    elif variable.data_type:
        add(var, _q("varFormat"), variable.data_type)


def _category_groups(categories: list[Category]) -> list[list[Category]]:
    """One `catgry` per code: the model keeps a Category per label language."""
    groups: dict[tuple[str | None, bool, int | None], list[Category]] = {}
    for position, category in enumerate(categories):
        key = (category.value, category.missing, category.frequency) if category.value is not None \
            else (f"#{position}", category.missing, category.frequency)
        groups.setdefault(key, []).append(category)
    return list(groups.values())


def _category(var: etree._Element, group: list[Category]) -> None:
    first = group[0]
    element = add(var, _q("catgry"), missing="Y" if first.missing else None)
    if first.value is not None:
        add(element, _q("catValu"), first.value)
    for category in group:
        add(element, _q("labl"), category.label, category.lang)
    if first.frequency is not None:
        add(element, _q("catStat"), str(first.frequency), type="freq")

