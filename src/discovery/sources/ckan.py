"""CKAN packages: the data portals' own JSON (data.gov.uk, data.europa.eu, most national portals).

A package arrives in several wrappings: bare (`package_show` result), inside the API envelope
`{"success": true, "result": {...}}`, as a `package_search` page (`result.results`), as a plain
list, or as a Solr document whose `validated_data_dict` holds the package as a JSON string
(data.gov.uk's Find service). All are unwrapped to packages first. CKAN's `name` is the
package's own slug and becomes the record id. Harvested portals keep much in `extras`
(key/value pairs, often JSON inside strings); temporal coverage and licence are read from there
when the core fields are empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from discovery.model import (
    DOI_RE,
    Agent,
    Identifier,
    Kind,
    Link,
    ParseResult,
    Study,
    Text,
    main_text,
    normalise_doi,
    slug,
)
from discovery.sources.base import Document, clean, parse_json, read_json_records
from discovery.sources.fields import guess_agent

FORMAT = "ckan"
_CKAN_KEYS = ('"validated_data_dict"', '"num_resources"', '"owner_org"', '"num_tags"',
              '"license_title"', "action/package_show", "action/package_search")
_CKAN_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
_MAX_EXTRA_CHARS = 1000
_INVALID_ESCAPE = re.compile(r'\\(?![\\"/bfnrtu])')
_TEMPORAL_KEYS = (("temporal_coverage-from", "temporal_coverage-to"),
                  ("temporal_start", "temporal_end"),
                  ("temporal-extent-begin", "temporal-extent-end"))
_SPATIAL_NAME_KEYS = ("spatial_text", "spatial-text", "geographic_coverage", "geographic-coverage")


def sniff(doc: Document, head: str) -> bool:
    """JSON with keys only CKAN writes (package counters, owner_org, the Solr data dict)."""
    return head.startswith(("{", "[")) and any(key in head for key in _CKAN_KEYS)


def parse(doc: Document) -> ParseResult:
    return read_json_records(doc, _packages(parse_json(doc)), _read_package, noun="CKAN package",
                             key=lambda package: package.get("name") or package.get("id"),
                             hint="expected package_show/package_search JSON")


def _read_package(package: Any, doc: Document, key: str) -> Study:
    return _study(_solr_package(package) if _is_solr_document(package) else package, doc, key)


def _packages(data: Any) -> Iterator[Any]:
    """Packages out of every wrapping CKAN and its Solr index use."""
    if isinstance(data, list):
        for item in data:
            yield from _packages(item)
        return
    if not isinstance(data, dict):
        return
    if "response" in data and isinstance(data["response"], dict):  # Solr select response
        yield from _packages(data["response"].get("docs", []))
    elif "result" in data:  # API envelope: package_show or package_search
        result = data["result"]
        yield from _packages(result.get("results", []) if isinstance(result, dict)
                             and "results" in result else result)
    else:
        yield data


def _is_solr_document(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(
        data.get("validated_data_dict") or data.get("data_dict"), str)


def _solr_package(doc: dict[str, Any]) -> dict[str, Any]:
    """The package a Solr document carries as a JSON string, with the `extras_*` fields Solr
    indexed beside it filling extras the package left empty (data.gov.uk puts the licence
    text only there)."""
    package = json.loads(doc.get("validated_data_dict") or doc["data_dict"])
    extras = {item.get("key"): item.get("value") for item in package.get("extras") or []}
    for field, value in doc.items():
        key = field.removeprefix("extras_")
        if field.startswith("extras_") and value and _is_empty(extras.get(key)):
            extras[key] = value
    package["extras"] = [{"key": key, "value": value} for key, value in extras.items()]
    return package


def _is_empty(value: Any) -> bool:
    return value in (None, "", "[]", "{}")


def _study(package: dict[str, Any], doc: Document, key: str) -> Study:
    extras = _extras(package)
    titles = _translated(package, "title")
    title = main_text(titles)
    if title is None:
        raise ValueError("package has no title")
    descriptions = _translated(package, "notes", keep_lines=True)
    description = main_text(descriptions)
    organisation = package.get("organization")
    name = str(package.get("name") or "")
    return Study(
        id=name if _CKAN_NAME.match(name) else slug(title.value),
        kind=Kind.DATASET,
        title=title.value, titles=titles,
        description=description.value if description else None, descriptions=descriptions,
        identifiers=_identifiers(package, extras),
        keywords=_tags(package),
        url=clean(package.get("url")),
        language=_list(package.get("language")),
        creators=[guess_agent(author, role="author") for author in _list(package.get("author"))],
        publisher=_publisher(organisation),
        temporal_coverage=_temporal(package, extras),
        spatial_coverage=[place for field in _SPATIAL_NAME_KEYS
                          if (place := clean(extras.get(field)))],
        topics=[group_title for group in package.get("groups") or []
                if (group_title := clean(group.get("title") or group.get("display_name")
                                         or group.get("name")))],
        license=clean(package.get("license_title") or package.get("license_id")
                      or package.get("license_url")) or _licence_extra(extras),
        date_published=_published(extras),
        version=clean(package.get("version")),
        distributions=[link for resource in package.get("resources") or []
                       if (link := _distribution(resource))],
        resource_type=clean(extras.get("resource-type") or package.get("type")),
        provenance=doc.provenance(source=FORMAT, record_key=key),
        extra=_extra(package, extras),
    )


def _translated(package: dict[str, Any], field: str, keep_lines: bool = False) -> list[Text]:
    """Every language of a field: ckanext-fluent's `<field>_translated` dict, else the plain
    field. Notes are markdown, kept as written (line breaks matter there)."""
    normalise = _markdown if keep_lines else clean
    translated = package.get(f"{field}_translated")
    if isinstance(translated, dict) and translated:
        return [Text(value=value, lang=lang) for lang, text in translated.items()
                if (value := normalise(text))]
    value = normalise(package.get(field))
    return [Text(value=value)] if value else []


def _markdown(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    return text.replace("\r\n", "\n").strip() or None


def _list(value: Any) -> list[str]:
    """A field CKAN instances give as a string or as a list of strings."""
    values = value if isinstance(value, list) else [value]
    return [text for item in values if isinstance(item, str) and (text := clean(item))]


def _extras(package: dict[str, Any]) -> dict[str, Any]:
    """Extras as a dict, plus the top-level extras some schemas (scheming, data.gov.uk) flatten
    into the package itself."""
    extras = {item["key"]: item.get("value") for item in package.get("extras") or []
              if isinstance(item, dict) and "key" in item}
    for pair in _TEMPORAL_KEYS:
        for field in pair:
            if field in package and _is_empty(extras.get(field)):
                extras[field] = package[field]
    return extras


def _tags(package: dict[str, Any]) -> list[str]:
    tags = []
    for tag in package.get("tags") or []:
        name = tag if isinstance(tag, str) else (tag.get("display_name") or tag.get("name"))
        if name := clean(name):
            tags.append(name)
    return list(dict.fromkeys(tags))


def _publisher(organisation: Any) -> Agent | None:
    if isinstance(organisation, dict):
        name = clean(organisation.get("title") or organisation.get("name"))
        return Agent(name=name, identifier=organisation.get("name")) if name else None
    name = clean(organisation) if isinstance(organisation, str) else None
    return Agent(name=name) if name else None


def _identifiers(package: dict[str, Any], extras: dict[str, Any]) -> list[Identifier]:
    """CKAN's UUID (globally unique, so a safe alias), DOIs from extras, the source URL."""
    identifiers = []
    if package_id := clean(package.get("id")):
        identifiers.append(Identifier(scheme="ckan", value=package_id))
    for key in ("doi", "identifier", "dcat_identifier"):
        value = extras.get(key) or package.get(key)
        if isinstance(value, str) and DOI_RE.search(value):
            identifiers.append(Identifier(scheme="doi", value=normalise_doi(value)))
    if url := clean(package.get("url")):
        identifiers.append(Identifier(scheme="url", value=url))
    return identifiers


def _first_value(value: Any) -> str | None:
    """A value given bare, as a list, or as a JSON list inside a string."""
    if isinstance(value, str) and value.startswith("["):
        try:  # harvesters write backslashes JSON does not allow (`or\Ordnance`): keep them
            value = json.loads(_INVALID_ESCAPE.sub(r"\\\\", value))
        except ValueError:
            value = value.strip("[]\"' ")
    if isinstance(value, list):
        value = next((item for item in value if item), None)
    return clean(value) if isinstance(value, str) else None


def _temporal(package: dict[str, Any], extras: dict[str, Any]) -> str | None:
    """ISO interval from whichever start/end pair the portal uses; `..` for an open end."""
    for start_key, end_key in _TEMPORAL_KEYS:
        start, end = _first_value(extras.get(start_key)), _first_value(extras.get(end_key))
        if start or end:
            return f"{start or '..'}/{end or '..'}"
    return clean(extras.get("temporal")) or clean(package.get("temporal"))


def _licence_extra(extras: dict[str, Any]) -> str | None:
    """The licence INSPIRE harvests keep in a `licence` extra (a JSON list, not always valid)."""
    return _first_value(extras.get("licence") or extras.get("license"))


def _published(extras: dict[str, Any]) -> str | None:
    """Publication date from `issued`, or INSPIRE's `dataset-reference-date` list."""
    if issued := clean(extras.get("issued")):
        return issued
    raw = extras.get("dataset-reference-date")
    try:
        dates = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return None
    return next((clean(d.get("value")) for d in dates
                 if isinstance(d, dict) and d.get("type") == "publication"), None)


def _distribution(resource: dict[str, Any]) -> Link | None:
    url = clean(resource.get("url"))
    if not url:
        return None
    return Link(url=url, name=clean(resource.get("format") or resource.get("mimetype")))


def _extra(package: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
    """CKAN fields the model has no place for, and extras small enough to keep."""
    extra: dict[str, Any] = {}
    for field in ("metadata_created", "metadata_modified", "maintainer", "maintainer_email",
                  "author_email", "state"):
        value = package.get(field)
        if isinstance(value, str) and (value := clean(value)):
            extra[field] = value
    kept = {key: value for key, value in extras.items()
            if isinstance(value, str) and value and len(value) <= _MAX_EXTRA_CHARS}
    if kept:
        extra["extras"] = kept
    return extra
