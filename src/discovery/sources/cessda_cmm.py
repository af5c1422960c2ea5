"""CESSDA Metadata Model (CMM) study JSON, as the CESSDA Data Catalogue indexer writes it.

Almost every field is keyed by language (`{"en": ..., "fi": ...}`), with `*` for values that
hold in every language; some exports carry odd tags (`zz`, `no`) and those are kept as given,
since guessing a language would be worse. Index documents flatten one language per document
(`lang`, plain strings), so both shapes are read. The studies are the archives' own (UKDS SN1683
also arrives as DDI), so study numbers become identifiers in the archive's scheme and the
linking step merges the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from discovery.model import (
    DOI_RE,
    Agent,
    Identifier,
    Kind,
    ParseResult,
    Study,
    Text,
    main_text,
    normalise_doi,
    slug,
)
from discovery.sources.base import Document, clean, parse_json, read_json_records, strip_markup
from discovery.sources.fields import guess_agent

FORMAT = "cessda-cmm"
_CMM_KEYS = ('"titleStudy"', '"pidStudies"', '"studyAreaCountries"', '"typeOfTimeMethods"',
             '"typeOfModeOfCollections"', '"typeOfSamplingProcedures"',
             '"dataCollectionPeriodStartdate"', '"langAvailableIn"', '"studyNumber"')
_LANGUAGE_KEY = re.compile(r"^(\*|[a-z]{2,3}(-[A-Za-z0-9]{2,8})*)$")
# Archive names as CMM agencies and publishers spell them -> identifier schemes of the catalogue.
_ARCHIVE_SCHEMES = {"ukda": "ukds", "ukds": "ukds", "uk data archive": "ukds",
                    "uk data service": "ukds", "gesis": "gesis", "fsd": "fsd",
                    "finnish social science data archive": "fsd", "datacite": "doi", "doi": "doi"}
# Keys as the DDI parser names them, so the same study reads alike from either source.
_METHODS = (("time_method", "typeOfTimeMethods"),
            ("sampling_procedure", "typeOfSamplingProcedures"),
            ("collection_mode", "typeOfModeOfCollections"), ("analysis_unit", "unitTypes"))
_NOT_GIVEN = {"", "not available", "publisher not specified"}


def sniff(doc: Document, head: str) -> bool:
    """JSON carrying at least two keys only the CMM uses."""
    return head.startswith(("{", "[")) and sum(key in head for key in _CMM_KEYS) >= 2


def parse(doc: Document) -> ParseResult:
    return read_json_records(doc, _records(parse_json(doc)), _study, noun="CMM study",
                             key=lambda record: record.get("studyNumber") or record.get("id"),
                             hint="expected CESSDA CMM JSON with titleStudy")


def _records(data: Any) -> Iterator[dict[str, Any]]:
    """One study object, a list of them, or a search response's `Results`."""
    if isinstance(data, list):
        for item in data:
            yield from _records(item)
    elif isinstance(data, dict):
        yield from _records(data["Results"]) if isinstance(data.get("Results"), list) else [data]


def _by_language(value: Any, default: str | None) -> list[tuple[str | None, Any]]:
    """(language, value) pairs of a per-language field; a plain value is in `default`.
    `*` (every language) becomes None: the value has no language of its own."""
    if isinstance(value, dict) and value and all(_LANGUAGE_KEY.match(k) for k in value):
        return [(None if lang == "*" else lang, item) for lang, item in value.items()]
    return [(default, value)] if value not in (None, "", [], {}) else []


def _texts(record: dict[str, Any], field: str, lang: str | None,
           markup: bool = False) -> list[Text]:
    normalise = strip_markup if markup else clean
    return [Text(value=value, lang=language)
            for language, text in _by_language(record.get(field), lang)
            if isinstance(text, str) and (value := normalise(text))]


def _items(record: dict[str, Any], field: str, lang: str | None) -> list[Any]:
    """Every entry of a per-language list field, all languages together."""
    items: list[Any] = []
    for _, value in _by_language(record.get(field), lang):
        items.extend(value if isinstance(value, list) else [value])
    return items


def _terms(record: dict[str, Any], field: str, lang: str | None, key: str = "term") -> list[str]:
    """Controlled-vocabulary terms (`{"term": ...}` entries or plain strings), deduplicated."""
    raw = [item.get(key) if isinstance(item, dict) else item
           for item in _items(record, field, lang)]
    terms = [term for text in raw if isinstance(text, str) and (term := clean(text))]
    return list(dict.fromkeys(term for term in terms if term.lower() not in _NOT_GIVEN))


def _study(record: dict[str, Any], doc: Document, key: str) -> Study:
    lang = record.get("lang") or record.get("language")
    titles = _texts(record, "titleStudy", lang)
    title = main_text(titles)
    if title is None:
        raise ValueError("study has no titleStudy")
    descriptions = _texts(record, "abstract", lang, markup=True)
    description = main_text(descriptions)
    publisher = _publisher(record, lang)
    urls = [url for _, url in _by_language(record.get("studyUrl"), lang) if isinstance(url, str)]
    funding = [item for item in _items(record, "funding", lang) if isinstance(item, dict)]
    return Study(
        id=slug(title.value), kind=Kind.STUDY,
        title=title.value, titles=titles,
        description=description.value if description else None, descriptions=descriptions,
        identifiers=_identifiers(record, lang, publisher, urls),
        keywords=_terms(record, "keywords", lang),
        topics=_terms(record, "classifications", lang),
        url=urls[0] if urls else None,
        language=[code for code in record.get("fileLanguages") or [] if isinstance(code, str)],
        creators=_creators(record, lang),
        publisher=publisher,
        funders=[Agent(name=name) for item in funding if (name := clean(item.get("agency")))],
        grant_numbers=[number for item in funding if (number := clean(item.get("grantNumber")))],
        temporal_coverage=_period(record),
        spatial_coverage=_terms(record, "studyAreaCountries", lang, key="country"),
        study_design=_terms(record, "typeOfTimeMethods", lang),
        methods={name: terms for name, field in _METHODS if (terms := _terms(record, field, lang))},
        date_published=_date(record.get("publicationYear")),
        provenance=doc.provenance(source=FORMAT, record_key=key,
                                  catalogue=publisher.name if publisher else None),
        extra=_extra(record, lang),
    )


def _publisher(record: dict[str, Any], lang: str | None) -> Agent | None:
    for _, value in _by_language(record.get("publisher"), lang):
        name = clean(value.get("publisher") if isinstance(value, dict) else value)
        if isinstance(name, str) and name.lower() not in _NOT_GIVEN:
            return Agent(name=name)
    return None


def _creators(record: dict[str, Any], lang: str | None) -> list[Agent]:
    """Creators of every language, once each; a given affiliation wins over a guessed one."""
    agents: dict[str, Agent] = {}
    for item in _items(record, "creators", lang):
        name = clean(item.get("name") if isinstance(item, dict) else item)
        if not isinstance(name, str) or name in agents:
            continue
        agent = guess_agent(name)
        affiliation = clean(item.get("affiliation")) if isinstance(item, dict) else None
        if affiliation:
            agent = agent.model_copy(update={"affiliation": affiliation})
        agents[name] = agent
    return list(agents.values())


def _identifiers(record: dict[str, Any], lang: str | None, publisher: Agent | None,
                 urls: list[str]) -> list[Identifier]:
    """PIDs in their agency's scheme (DOIs as doi), the study number in the archive's scheme,
    and study URLs that are not DOIs."""
    found: list[Identifier] = []
    archive = _ARCHIVE_SCHEMES.get(publisher.name.lower()) if publisher else None
    for item in _items(record, "pidStudies", lang):
        if not isinstance(item, dict) or not (pid := clean(item.get("pid"))):
            continue
        agency = (clean(item.get("agency")) or "").lower()
        if DOI_RE.match(pid):
            scheme = "doi"
        elif agency:
            scheme = _ARCHIVE_SCHEMES.get(agency) or slug(agency)
            archive = archive or scheme
        else:
            continue  # a bare number with no agency has no scope to alias it in
        _add(found, Identifier(scheme=scheme, value=normalise_doi(pid) if scheme == "doi" else pid))
    if archive and (number := clean(str(record.get("studyNumber") or ""))):
        _add(found, Identifier(scheme=archive, value=number))
    for url in urls:
        is_doi = "doi.org/" in url and DOI_RE.search(url)
        _add(found, Identifier(scheme="doi", value=normalise_doi(url)) if is_doi
             else Identifier(scheme="url", value=url))
    return found


def _add(found: list[Identifier], identifier: Identifier) -> None:
    if identifier.alias() not in {existing.alias() for existing in found}:
        found.append(identifier)


def _date(value: Any) -> str | None:
    """`1976-01-01T00:00:00Z` -> `1976-01-01`: the indexer pads dates to midnight UTC."""
    if not isinstance(value, str) or not (value := value.strip()):
        return None
    return value.removesuffix("T00:00:00Z")


def _period(record: dict[str, Any]) -> str | None:
    start = _date(record.get("dataCollectionPeriodStartdate"))
    end = _date(record.get("dataCollectionPeriodEnddate"))
    if start is None and end is None:
        return None
    return f"{start or '..'}/{end or '..'}"


def _extra(record: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """Access conditions, collection notes and bookkeeping the model has no field for."""
    extra: dict[str, Any] = {}
    for key, field in (("study_number", "studyNumber"), ("data_access", "dataAccess"),
                       ("last_modified", "lastModified"), ("data_collection_year",
                                                           "dataCollectionYear")):
        if (value := record.get(field)) not in (None, ""):
            extra[key] = value
    if access := _free_texts(record, "dataAccessFreeTexts", lang):
        extra["access_conditions"] = access
    if notes := _free_texts(record, "dataCollectionFreeTexts", lang, key="dataCollectionFreeText"):
        extra["data_collection_notes"] = notes
    if isinstance(available := record.get("langAvailableIn"), list) and available:
        extra["languages_available"] = available
    return extra


def _free_texts(record: dict[str, Any], field: str, lang: str | None,
                key: str | None = None) -> list[dict[str, str | None]]:
    """Free-text notes with their language, markup stripped (they hold links and <br/>)."""
    notes = []
    for language, value in _by_language(record.get(field), lang):
        for item in value if isinstance(value, list) else [value]:
            raw = item.get(key) if key and isinstance(item, dict) else item
            if isinstance(raw, str) and (text := strip_markup(raw)):
                notes.append({"value": text, "lang": language})
    return notes
