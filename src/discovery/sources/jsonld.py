"""schema.org JSON-LD wherever catalogues put it: plain JSON-LD files, `<script
type="application/ld+json">` in HTML pages, Next.js flight payloads (Harmony Discovery item
pages), and Harmony item JSON (the `initialData` object of such a page).

JSON-LD nodes become records through `record_from_schema_org`. A Harmony page says more about its
dataset beside the JSON-LD (coverage, topics, catalogues, links, child datasets, variables); both
describe one dataset, so they are merged into one record rather than stored twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from discovery.model import (
    DOI_RE, SCHEMA_ORG_KINDS, Identifier, Kind, Link, ParseResult, Predicate, Problem,
    Relation, Study, Text, Variable, agents_from_schema_org, child_id, normalise_doi,
    as_list, record_from_schema_org, schema_org_kind, unique, unique_agents,
)
from discovery.sources.base import Document, decode_text, strip_markup

FORMAT = "schema.org"
SOURCE_HTML = "schema.org-html"
SOURCE_NEXTJS = "schema.org-nextjs"
SOURCE_HARMONY_ITEM = "schema.org-harmony-item"
HARMONY = "Harmony Discovery"

_LD_SCRIPT = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.I | re.S)
_LD_MARK = re.compile(rb"application/ld\+json", re.I)
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.I)
_SCHEMA_TYPE = re.compile(r'"@type"\s*:\s*\[?\s*"(?:schema:|https?://schema\.org/)?(?:'
                          + "|".join(SCHEMA_ORG_KINDS) + ')"')
_FLIGHT_FIRST_ROW = re.compile(r"[0-9a-f]*:\S")
_FLIGHT_MARKS = (":I[", ":HL[", '"$Sreact.', '0:{"P":')
_ROW_ID = re.compile(r"[0-9a-f]*")
_ROW_REF = re.compile(r"\$([0-9a-f]+)")
_OWN_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TEXT_KEYS = frozenset({"name", "headline", "alternateName", "description", "text", "keywords",
                        "title", "topics"})
_UKDS_NUMBER = (
    re.compile(r"10\.5255/UKDA-SN-(\d+)", re.I),
    re.compile(r"ukdataservice\.ac\.uk/\S*?study(?:\?id=|/)(\d+)", re.I),
    re.compile(r"reshare\.ukdataservice\.ac\.uk/(\d+)", re.I),
)
# Harmony `extra_data` values worth keeping that the model has no field for
_HARMONY_EXTRA = ("genetic_data_collected", "sex", "data_access", "start_year", "end_year",
                  "duration_years", "ai_summary", "source")
_RAW_CHARS = 2000
_DATA_FILE = re.compile(r"(\d+)_\S+")  # a UK Data Service data file: "<study number>_<file>"


def sniff(doc: Document, head: str) -> bool:
    if head.startswith("<"):
        return bool(_HTML_START.search(head)) and bool(_LD_MARK.search(doc.content))
    if head.startswith(("{", "[")):
        return _is_harmony_head(head) or _is_schema_org_head(head, doc.location)
    return bool(_FLIGHT_FIRST_ROW.match(head)) and any(mark in head for mark in _FLIGHT_MARKS)


def _is_harmony_head(head: str) -> bool:
    return '"dataset_schema"' in head or '"initialData"' in head or \
        ('"_provenance"' in head and "harmonydata" in head)


def _is_schema_org_head(head: str, location: str) -> bool:
    """schema.org in the context or a schema.org record type; never CKAN or DCAT JSON."""
    if ('"resources"' in head and '"notes"' in head) or "w3.org/ns/dcat" in head:
        return False
    return ('"@context"' in head and "schema.org" in head) or bool(_SCHEMA_TYPE.search(head)) \
        or location.lower().endswith(".jsonld")


def parse(doc: Document) -> ParseResult:
    text = decode_text(doc).lstrip()
    try:
        if text.startswith("<"):
            result = _parse_html(doc, text)
        elif text.startswith(("{", "[")):
            result = _parse_json(doc, text)
        else:
            result = _parse_flight(doc, text)
    except ValueError as error:  # the one dataset of a page or item could not be read
        raise doc.fail(f"unreadable dataset: {error}") from None
    if not result.records:
        reason = result.problems[0].reason if result.problems else \
            "no schema.org Dataset, Person, Organization, grant or creative work found"
        raise doc.fail(reason, record=result.problems[0].record if result.problems else None,
                       hint="check that the JSON-LD is complete and well formed")
    return result


# --- the three containers -------------------------------------------------------------------

def _parse_html(doc: Document, text: str) -> ParseResult:
    """Every ld+json script of the page; a malformed one is a problem, the others still count."""
    result = ParseResult()
    for number, match in enumerate(_LD_SCRIPT.finditer(text), start=1):
        key = f"ld+json script {number}"
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError as error:
            result.problems.append(Problem(record=key,
                                           reason=f"malformed JSON-LD in {key}: {error}",
                                           raw=match.group(1)[:_RAW_CHARS]))
            continue
        result.extend(_read_nodes(doc, _nodes(data), source=SOURCE_HTML, key=key))
    return result


def _parse_json(doc: Document, text: str) -> ParseResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise doc.fail(f"malformed JSON: {error}", hint="is the file truncated?") from None
    if isinstance(data, dict) and _is_harmony_item(data):
        return _read_harmony_item(doc, data, source=SOURCE_HARMONY_ITEM)
    return _read_nodes(doc, _nodes(data), source=FORMAT, key="node")


def _parse_flight(doc: Document, text: str) -> ParseResult:
    """A Next.js page payload: its ld+json script and the page's own dataset props, as one
    record with the id of the page's route slug."""
    texts, values, problems = _flight_rows(text)
    result = ParseResult(problems=problems)
    resolver = _FlightResolver(texts, values)
    scripts, datasets, items = [], [], []
    for value in values.values():
        for props in _dicts(value):
            if props.get("type") == "application/ld+json" and \
                    isinstance(props.get("dangerouslySetInnerHTML"), dict):
                scripts.append(resolver.resolve(props["dangerouslySetInnerHTML"].get("__html")))
            if isinstance(props.get("dataset"), dict):
                datasets.append(resolver.resolve(props["dataset"]))
            if isinstance(props.get("initialData"), dict):
                items.append(resolver.resolve(props["initialData"]))
    route_slug = _route_slug(values.get("0"))
    nodes: list[dict[str, Any]] = []
    for number, script in enumerate(scripts, start=1):
        try:
            nodes.extend(_nodes(json.loads(script)))
        except (TypeError, json.JSONDecodeError) as error:
            result.problems.append(Problem(record=f"ld+json script {number}",
                                           reason=f"malformed JSON-LD in the page payload: {error}",
                                           raw=str(script)[:_RAW_CHARS]))
    if items:
        # the page's ld+json Dataset is generated from the same initialData: read it once
        nodes = [node for node in nodes if schema_org_kind(node) != Kind.DATASET]
        for item in items:
            result.extend(_read_harmony_item(doc, {"initialData": item, "slug": route_slug},
                                             source=SOURCE_NEXTJS))
    else:
        main = next((node for node in nodes if schema_org_kind(node) == Kind.DATASET), None)
        page = datasets[0] if datasets else None
        if main is not None or page is not None:
            nodes = [node for node in nodes if node is not main]
            result.extend(_read_page_dataset(doc, main, page, route_slug))
    result.extend(_read_nodes(doc, nodes, source=SOURCE_NEXTJS, key="ld+json node"))
    return result


# --- JSON-LD nodes ----------------------------------------------------------------------------

def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """The top-level nodes of JSON-LD: one object, a list of objects, or an `@graph`."""
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        if isinstance(graph, list):
            yield from (node for node in graph if isinstance(node, dict))
        if not isinstance(graph, list) or "@type" in item:
            yield item


def _read_nodes(doc: Document, nodes: Iterator[dict[str, Any]] | list[dict[str, Any]], *,
                source: str, key: str) -> ParseResult:
    """A record per node of a record type; types like WebSite or BreadcrumbList are skipped."""
    result = ParseResult()
    part_of: dict[int, list[str]] = {}  # item record (by position) -> what its node is part of
    for number, node in enumerate(nodes, start=1):
        if schema_org_kind(node) is None:
            continue
        record_key = _first_text(node.get("@id")) or _first_text(node.get("url")) \
            or f"{key} {number}"
        try:
            read = _read_node(doc, node, source=source, key=record_key)
        except ValueError as error:
            result.problems.append(Problem(record=record_key, reason=str(error),
                                           raw=json.dumps(node, ensure_ascii=False)[:_RAW_CHARS]))
            continue
        if read.records and read.records[0].kind in (Kind.VARIABLE, Kind.QUESTION):
            part_of[len(result.records)] = _references(node.get("isPartOf"))
        result.extend(read)
    return _with_parents(result, part_of) if part_of else result


def _references(value: Any) -> list[str]:
    """The @id, url, name or identifier strings of an `isPartOf` value."""
    references: list[str] = []
    for item in as_list(value):
        if isinstance(item, str):
            references.append(item)
        elif isinstance(item, dict):
            references += [text for field in ("@id", "url", "name", "identifier")
                           if (text := _first_text(item.get(field)))]
    return references


def _with_parents(result: ParseResult, part_of: dict[int, list[str]]) -> ParseResult:
    """Top-level PropertyValue and Question nodes as items of what they are part of: the node
    their `isPartOf` names, else the document's only dataset (for a variable) or survey (for a
    question). An item with no parent would be a search hit of its own, with nothing to say what
    it belongs to: it is reported and left out."""
    containers = [record for record in result.records
                  if record.kind in (Kind.STUDY, Kind.DATASET, Kind.INSTRUMENT)]
    keys = {key: record for record in containers
            for key in (record.id, record.url, record.title, record.provenance.record_key) if key}
    records = []
    seen: set[str] = {record.id for record in result.records}
    for position, record in enumerate(result.records):
        if position not in part_of:
            records.append(record)
            continue
        wanted = (Kind.INSTRUMENT,) if record.kind == Kind.QUESTION else (Kind.STUDY, Kind.DATASET)
        candidates = [keys[reference] for reference in part_of[position]
                      if reference in keys and keys[reference].kind in wanted]
        if not candidates:
            only = [parent for parent in containers if parent.kind in wanted]
            candidates = only if len(only) == 1 else []
        if not candidates:
            result.problems.append(Problem(
                record=record.provenance.record_key or record.id,
                reason=f"a {record.kind} outside any dataset or questionnaire: skipped "
                       "(name its parent with isPartOf)"))
            continue
        parent = candidates[0]
        name = record.name if isinstance(record, Variable) else record.title
        item_id = _unique_child(parent.id, name, seen)
        if isinstance(record, Variable):
            records.append(record.model_copy(update={"id": item_id, "study_id": parent.id}))
            predicate = Predicate.HAS_VARIABLE
        else:
            records.append(record.model_copy(update={"id": item_id, "instrument_id": parent.id}))
            predicate = Predicate.HAS_QUESTION
        result.relations.append(Relation(subject=parent.id, predicate=predicate, object=item_id))
    result.records = records
    return result


def _read_node(doc: Document, node: dict[str, Any], *, source: str, key: str | None,
               record_id: str | None = None, catalogue: str | None = None) -> ParseResult:
    node = _plain(node)
    provenance = doc.provenance(source, record_key=key, catalogue=catalogue or _catalogue(node))
    record = record_from_schema_org(node, id=record_id, provenance=provenance)
    result = ParseResult(records=[record])
    if isinstance(record, Study):
        _add_ukds_number(record)
        result.extend(_variables(record, node.get("variableMeasured")))
    return result


def _plain(value: Any, key: str | None = None) -> Any:
    """The node with markup stripped from its texts: parsers hand on plain text only."""
    if isinstance(value, dict):
        return {k: _plain(v, key if k == "@value" else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(item, key) for item in value]
    if isinstance(value, str) and key in _TEXT_KEYS:
        return strip_markup(value) or ""
    return value


def _catalogue(node: dict[str, Any]) -> str | None:
    """The catalogue a node says it is in, when it names one."""
    for catalog in as_list(node.get("includedInDataCatalog")):
        if isinstance(catalog, dict) and (name := _first_text(catalog.get("name"))):
            return name
    return None


def _variables(study: Study, entries: Any) -> ParseResult:
    """Variables listed with a dataset (schema.org `variableMeasured`, Harmony `allVariables`):
    names, or nodes with a name and description."""
    result = ParseResult()
    seen: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        node = {"@type": "PropertyValue", "name": entry} if isinstance(entry, str) else entry
        if not isinstance(node, dict):
            continue
        name = _first_text(node.get("propertyID")) or _first_text(node.get("name"))
        if not name:
            continue
        variable_id = _unique_child(study.id, name, seen)
        try:
            variable = record_from_schema_org(
                {**_plain(node), "@type": "PropertyValue"}, id=variable_id,
                provenance=study.provenance.model_copy(update={"record_key": name}))
        except ValueError as error:
            result.problems.append(Problem(record=variable_id, reason=str(error)))
            continue
        if isinstance(variable, Variable):
            variable.study_id = study.id
            result.records.append(variable)
            result.relations.append(Relation(subject=study.id, predicate=Predicate.HAS_VARIABLE,
                                             object=variable.id))
    return result


def _unique_child(parent_id: str, name: str, seen: set[str]) -> str:
    """A child id not used yet in this parent: a repeated name gets its position appended."""
    candidate = child_id(parent_id, name)
    number = 1
    while candidate in seen:
        number += 1
        candidate = child_id(parent_id, f"{name}-{number}")
    seen.add(candidate)
    return candidate


def _add_ukds_number(study: Study) -> None:
    """UK Data Service study numbers found in the DOI, links and catalogue URLs, as `ukds`."""
    texts = [i.value for i in study.identifiers] + [link.url for link in study.links] + \
        [link.url for link in study.data_catalogs]
    numbers = {match.group(1) for text in texts for pattern in _UKDS_NUMBER
               if (match := pattern.search(text))}
    _add_identifiers(study, [Identifier(scheme="ukds", value=n) for n in sorted(numbers)])


def _add_identifiers(study: Study, identifiers: list[Identifier]) -> None:
    known = set(study.aliases())
    for identifier in identifiers:
        if identifier.alias() not in known:
            known.add(identifier.alias())
            study.identifiers.append(identifier)


# --- Harmony Discovery: the page's dataset object -----------------------------------------------

def _read_page_dataset(doc: Document, node: dict[str, Any] | None, page: dict[str, Any] | None,
                       route_slug: str | None) -> ParseResult:
    """The page's JSON-LD Dataset merged with the page's own `dataset` props (either may be
    missing); the record takes the route slug as id."""
    page = _plain(page or {})
    if node is None:
        node = {"@type": "Dataset", "name": page.get("title"),
                "description": page.get("description")}
    result = _read_node(doc, node, source=SOURCE_NEXTJS, key=route_slug, record_id=route_slug,
                        catalogue=HARMONY)
    study = result.records[0]
    if isinstance(study, Study) and page:
        _merge_page(study, page)
        _add_ukds_number(study)
        variables = _unique_by_name(as_list(page.get("allVariables"))
                                    + as_list(page.get("matchedVariables")))
        result.extend(_variables(study, variables))
        result.extend(_children(doc, study, page.get("child_datasets"), source=SOURCE_NEXTJS))
    return result


def _merge_page(study: Study, page: dict[str, Any]) -> None:
    """Fill the record from the page's props where the JSON-LD said nothing; lists are joined."""
    study.description = study.description or _first_text(page.get("description"))
    study.spatial_coverage = study.spatial_coverage or _texts(page.get("geographicCoverage"))
    study.temporal_coverage = study.temporal_coverage or _first_text(page.get("temporalCoverage"))
    study.age_coverage = study.age_coverage or _first_text(page.get("ageCoverage"))
    study.resource_type = study.resource_type or _first_text(page.get("resourceType"))
    study.study_design = unique(study.study_design + _texts(page.get("studyDesign")))
    study.topics = unique(study.topics + _texts(page.get("topics")))
    study.instruments = unique(study.instruments + _names(page.get("instruments")))
    study.publisher = study.publisher or next(iter(agents_from_schema_org(page.get("publisher"))),
                                              None)
    study.funders = unique_agents(study.funders + agents_from_schema_org(page.get("funders")))
    catalogs = [Link(url=url, name=_first_text(c.get("name")))
                for c in as_list(page.get("dataCatalogs"))
                if isinstance(c, dict) and (url := _first_text(c.get("url")))]
    study.data_catalogs = _unique_links(study.data_catalogs + catalogs)
    links = [Link(url=url) for url in _texts(page.get("additionalLinks"))]
    study.links = _unique_links(study.links + links)
    _add_identifiers(study, [Identifier(scheme="doi", value=normalise_doi(link.url))
                             for link in study.links
                             if "doi" in link.url.lower() and DOI_RE.search(link.url)])
    if summary := _first_text(page.get("aiSummary")):
        study.extra["ai_summary"] = summary


def _unique_by_name(entries: list[Any]) -> list[Any]:
    """Variables listed twice (matched and all) once."""
    seen: set[str] = set()
    unique = []
    for entry in entries:
        name = entry if isinstance(entry, str) else \
            _first_text(entry.get("name")) if isinstance(entry, dict) else None
        if name and name not in seen:
            seen.add(name)
            unique.append(entry)
    return unique


# --- Harmony Discovery: item JSON (initialData) ---------------------------------------------

def _is_harmony_item(data: dict[str, Any]) -> bool:
    provenance = data.get("_provenance")
    return "initialData" in data or "dataset_schema" in data or \
        (isinstance(provenance, dict) and "harmonydata" in str(provenance.get("repo", "")))


def _read_harmony_item(doc: Document, data: dict[str, Any], *, source: str) -> ParseResult:
    """A Harmony item: its schema.org `dataset_schema`, Harmony's `extra_data` and its child
    datasets; an older redirect page holds only a title and description."""
    item = data.get("initialData", data)
    page_url = _page_url(data)
    if not isinstance(item, dict) or not isinstance(item.get("dataset_schema"), dict):
        return _read_harmony_stub(doc, data, source=source)
    result = _harmony_dataset(doc, item["dataset_schema"], item.get("extra_data"), source=source,
                              fallback_slug=data.get("slug"))
    study = result.records[0]
    if isinstance(study, Study):
        if page_url:
            _add_identifiers(study, [Identifier(scheme="url", value=page_url)])
        result.extend(_children(doc, study, item.get("child_datasets"), source=source))
    return result


def _read_harmony_stub(doc: Document, data: dict[str, Any], *, source: str) -> ParseResult:
    """The older redirect page: title and description, and the slug it redirects to."""
    title = _first_text(data.get("title"))
    if not title:
        raise doc.fail("Harmony item has neither a dataset_schema nor a title",
                       hint="is this an item page of harmonydata.ac.uk/search?")
    uuid = _first_text(data.get("uuid"))
    target = _first_text(data.get("redirect_to"))
    node = {"@type": "Dataset", "name": title, "description": data.get("description"),
            "url": _page_url(data)}
    target_slug = target.rstrip("/").rsplit("/", 1)[-1] if target else uuid
    result = _read_node(doc, node, source=source, key=uuid, record_id=_own_slug(target_slug),
                        catalogue=HARMONY)
    study = result.records[0]
    if isinstance(study, Study) and uuid:
        _add_identifiers(study, [Identifier(scheme="harmony", value=uuid)])
    return result


def _harmony_dataset(doc: Document, schema: dict[str, Any], extra: Any, *, source: str,
                     fallback_slug: Any = None, default_id: str | None = None) -> ParseResult:
    """One Harmony dataset (an item or one of its children) from its schema and extra data,
    with Harmony's slug as id (else `default_id`, else the slug of its name)."""
    extra = extra if isinstance(extra, dict) else {}
    schema = dict(schema)
    count = schema.pop("number_of_variables", None)  # Harmony's addition to schema.org
    record_id = _own_slug(extra.get("slug")) or _own_slug(fallback_slug) or default_id
    result = _read_node(doc, {**schema, "@type": "Dataset"}, source=source,
                        key=_first_text(extra.get("uuid")) or record_id, record_id=record_id,
                        catalogue=HARMONY)
    study = result.records[0]
    if isinstance(study, Study):
        _merge_extra_data(study, extra)
        if isinstance(count, int):
            study.variable_count = count
    return result


def _merge_extra_data(study: Study, extra: dict[str, Any]) -> None:
    """Harmony's own fields: DOIs, URLs, its ids, countries, languages, design, instruments."""
    identifiers = [Identifier(scheme="doi", value=normalise_doi(doi))
                   for doi in _texts(extra.get("dois"))]
    identifiers += [Identifier(scheme="url", value=u) for u in _texts(extra.get("urls"))]
    identifiers += [Identifier(scheme="harmony", value=v)
                    for v in (_first_text(extra.get("uuid")), _first_text(extra.get("harmony_id")))
                    if v]
    _add_identifiers(study, identifiers)
    _add_ukds_number(study)
    study.spatial_coverage = study.spatial_coverage or _texts(extra.get("country_codes")) \
        or _texts(extra.get("geographic_coverage"))
    study.language = study.language or _texts(extra.get("language_codes"))
    study.study_design = unique(study.study_design + _texts(extra.get("study_design")))
    study.instruments = unique(study.instruments + _names(extra.get("instruments")))
    study.resource_type = study.resource_type or _first_text(extra.get("resource_type"))
    if isinstance(extra.get("num_variables"), int):
        study.variable_count = extra["num_variables"]
    study.extra.update({key: extra[key] for key in _HARMONY_EXTRA
                        if extra.get(key) not in (None, "", [])})


def _children(doc: Document, parent: Study, entries: Any, *, source: str) -> ParseResult:
    """Child datasets, each its own record, tied to the parent by hasPart. Identifiers the child
    shares with its parent (Harmony repeats the study DOI) stay with the parent only."""
    result = ParseResult()
    parent_aliases = set(parent.aliases())
    for number, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
        if not isinstance(entry, dict):
            continue
        schema = entry.get("dataset_schema")
        if not isinstance(schema, dict):
            schema = {"name": entry.get("title") or entry.get("name"),
                      "description": entry.get("description")}
        key = f"{parent.id} child dataset {number}"
        name = _first_text(schema.get("name"))
        try:
            child = _harmony_dataset(doc, schema, entry.get("extra_data"), source=source,
                                     fallback_slug=entry.get("slug"),
                                     default_id=child_id(parent.id, name) if name else None)
        except ValueError as error:
            result.problems.append(Problem(record=key, reason=str(error),
                                           raw=json.dumps(entry, ensure_ascii=False)[:_RAW_CHARS]))
            continue
        study = child.records[0]
        study.identifiers = [i for i in study.identifiers if i.alias() not in parent_aliases]
        if isinstance(study, Study):
            _name_data_file(study, parent)
        result.extend(child)
        result.relations.append(Relation(subject=parent.id, predicate=Predicate.HAS_PART,
                                         object=study.id))
    return result


def _name_data_file(child: Study, parent: Study) -> None:
    """Harmony lists a UK Data Service study's data files under their file names alone
    ("4451_a0006210"), which say nothing in a list of results. A child named `<N>_<file>` under
    the study numbered N is titled "<study title>: data file <name>"; the file name stays an
    alternate title, so searching for it still finds the record by its exact name. A parent
    title that cannot be stored (a lone surrogate) is not copied: only the parent is quarantined."""
    match = _DATA_FILE.fullmatch(child.title)
    numbers = {i.value for i in parent.identifiers if i.scheme == "ukds"}
    if match is None or match.group(1) not in numbers or not _storable(parent.title):
        return
    file_name = child.title
    child.title = f"{parent.title}: data file {file_name}"
    child.titles = [Text(value=child.title)] + [t for t in child.titles if t.value != file_name] \
        + [Text(value=file_name)]


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- Next.js flight payloads ----------------------------------------------------------------

def _flight_rows(text: str) -> tuple[dict[str, str], dict[str, Any], list[Problem]]:
    """Rows `ID:VALUE` of a flight payload: text rows (`ID:T<hex byte length>,<text>`, which may
    hold newlines and run straight into the next row) and JSON rows (one line each). Module and
    hint rows (`I[...]`, `HL[...]`) are not data and are skipped."""
    data = text.encode("utf-8")
    texts: dict[str, str] = {}
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    position, size = 0, len(data)
    while position < size:
        if data[position] in b"\r\n":
            position += 1
            continue
        colon = data.find(b":", position)
        row_id = data[position:colon].decode("utf-8", "replace") if colon >= 0 else ""
        if colon < 0 or not _ROW_ID.fullmatch(row_id):
            problems.append(Problem(record=f"byte {position}", reason="payload row without an id; "
                                    "the rest of the payload was skipped",
                                    raw=data[position:position + 200].decode("utf-8", "replace")))
            break
        if data[colon + 1:colon + 2] == b"T":
            comma = data.find(b",", colon)
            try:
                length = int(data[colon + 2:comma], 16)
            except ValueError:
                problems.append(Problem(record=f"row {row_id}", reason="text row without a length"))
                break
            start = comma + 1
            texts[row_id] = data[start:start + length].decode("utf-8", "replace")
            position = start + length
            continue
        end = data.find(b"\n", colon)
        end = size if end < 0 else end
        body = data[colon + 1:end].decode("utf-8", "replace")
        position = end + 1
        if body[:1] in ("{", "[", '"') or body == "null":
            try:
                values[row_id] = json.loads(body)
            except json.JSONDecodeError as error:
                problems.append(Problem(record=f"row {row_id}", reason=f"malformed row: {error}",
                                        raw=body[:_RAW_CHARS]))
    return texts, values, problems


class _FlightResolver:
    """Replaces `"$<ID>"` references by the rows they name (`$undefined` by None), each row
    resolved once; a text row is a plain string and is never resolved further."""

    def __init__(self, texts: dict[str, str], values: dict[str, Any]) -> None:
        self.texts = texts
        self.values = values
        self.done: dict[str, Any] = {}
        self.active: set[str] = set()

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, str) or not value.startswith("$"):
            return value
        if value == "$undefined":
            return None
        match = _ROW_REF.fullmatch(value)
        if match is None:
            return value[1:] if value.startswith("$$") else value
        return self._row(match.group(1), value)

    def _row(self, row_id: str, reference: str) -> Any:
        if row_id in self.texts:
            return self.texts[row_id]
        if row_id not in self.values or row_id in self.active:
            return reference
        if row_id not in self.done:
            self.active.add(row_id)
            self.done[row_id] = self.resolve(self.values[row_id])
            self.active.discard(row_id)
        return self.done[row_id]


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    """Every object inside a row, depth first (element props live at any depth)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _route_slug(root: Any) -> str | None:
    """The page's slug: the last segment of the route in row 0 (`"c":["","items","<slug>"]`)."""
    route = root.get("c") if isinstance(root, dict) else None
    segments = [s for s in route if isinstance(s, str) and s] if isinstance(route, list) else []
    return _own_slug(segments[-1]) if segments else None


# --- small helpers --------------------------------------------------------------------------



def _texts(value: Any) -> list[str]:
    return unique([item.strip() for item in as_list(value)
                    if isinstance(item, str) and item.strip()])


def _first_text(value: Any) -> str | None:
    texts = _texts(value)
    return texts[0] if texts else None


def _names(value: Any) -> list[str]:
    """Names given as text or as objects with a name (instruments, catalogues)."""
    return _texts([item.get("name") if isinstance(item, dict) else item
                   for item in as_list(value)])




def _unique_links(links: list[Link]) -> list[Link]:
    by_url: dict[str, Link] = {}
    for link in links:
        by_url.setdefault(link.url, link)
    return list(by_url.values())




def _own_slug(value: Any) -> str | None:
    """A source's own slug, when it is already URL-safe (kept whole, however long)."""
    return value if isinstance(value, str) and _OWN_SLUG.fullmatch(value) else None


def _page_url(data: dict[str, Any]) -> str | None:
    """Where the item page lives, as the transcribed extracts record it."""
    provenance = data.get("_provenance")
    return _first_text(provenance.get("page_url")) if isinstance(provenance, dict) else None
