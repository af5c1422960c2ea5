"""The page renderer: one Jinja2 environment for every HTML page, with the filters and labels
the templates share, and the error page.

Every value from a record goes through Jinja2 autoescaping (metadata is untrusted); the one
raw block, the JSON-LD script, is escaped for its context by `records.script_json`. Every link
from a record goes through the `safe_url` filter (`export/urls.py`): a `javascript:` link is shown
as text. No page has inline script or style, so the Content-Security-Policy allows neither.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from discovery.export.urls import safe_url
from discovery.harmonise.polarity import label as polarity_label
from discovery.model import main_text
from discovery.search.models import MAX_PAGE_SIZE
from discovery.search.pipeline import DEPTH
from discovery.server.languages import lang_attribute
from discovery.server.services import services_of
from discovery.server.urls import page_path, query_url
from discovery.sources.titles import stated_items

HERE = Path(__file__).parent
STATIC = HERE / "static"
FACET_LABELS = {"kind": "Kind", "source": "Source format", "catalogue": "Catalogue",
                "country": "Country", "language": "Language", "topic": "Topic",
                "design": "Study design", "resource_type": "Resource type", "funder": "Funder",
                "questionnaire": "Questionnaire"}
RANGE_LABELS = {"year": "Years covered", "age": "Ages", "sample_size": "Sample size",
                "variables": "Number of variables"}
# Field names of grant outcomes (and any other source's labelled fields) as people read them;
# others are spelled out from the name (`geographic_reach` -> "Geographic reach").
FIELD_LABELS = {"form": "Form of engagement activity", "years": "Year(s)",
                "part_of_official_scheme": "Part of an official scheme?",
                "provided_to_others": "Provided to others?", "open_source_license": "Open source licence?"}
ACRONYMS = {"url": "URL", "pi": "PI", "ip": "IP", "id": "ID", "doi": "DOI"}
# Relations read from their object's side.
REVERSED_RELATIONS = {"hasPart": "part of", "hasVariable": "variable of", "hasQuestion": "question in",
                      "usesInstrument": "used by", "measuredBy": "measures", "fundedBy": "funds",
                      "hasOutput": "outcome of", "ledBy": "leads", "hasParticipant": "takes part in",
                      "hasInvestigator": "investigator on", "createdBy": "created",
                      "publishedBy": "published", "affiliatedWith": "has as member", "sameAs": "same as"}
# Words too common to mark on a page when they were part of the query.
UNMARKED = frozenset("the and for with from that this are was you your have not any all".split())

templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True),
                        trim_blocks=True, lstrip_blocks=True)
templates.globals.update(page_path=page_path, FACET_LABELS=FACET_LABELS, RANGE_LABELS=RANGE_LABELS,
                         main_text=main_text, DEPTH=DEPTH, FITS_LISTED=MAX_PAGE_SIZE,
                         polarity_label=polarity_label)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    services = services_of(request)
    context.setdefault("canonical", None)
    html = templates.get_template(name).render(request=request, site_name=services.site_name,
                                               path=request.url.path, **context)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
    return render(request, "error.html", status=status, status_code=status, message=message,
                  hint=hint)


def paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]


def link_href(value: object) -> str | None:
    """`safe_url`, except that a URL the source cut short ("https://example.org/a-long-pa...",
    as Gateway to Research lists outcome links) is no link: it leads nowhere, so it shows as text."""
    if isinstance(value, str) and value.rstrip().endswith(("...", "\u2026")):
        return None
    return safe_url(value)


def field_label(key: str) -> str:
    """A source's field name as people read it: `part_of_official_scheme` is not a label."""
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    text = " ".join(ACRONYMS.get(word, word) for word in re.split(r"[_\s-]+", key) if word)
    return text[:1].upper() + text[1:] if text else key


def relation_words(predicate: str, reverse: bool = False) -> str:
    """A relation as words: `hasParticipant` -> "has participant"; read from its object's side
    with `reverse` (an organisation "leads" the grant that is "led by" it)."""
    if reverse:
        return REVERSED_RELATIONS.get(predicate, f"is linked by {predicate}")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", predicate).lower()


def highlight(text: str | None, query: str) -> Markup:
    """The text, escaped, with each word that starts with a query word marked (`<mark>`)."""
    words = {w for w in re.findall(r"\w+", query.casefold()) if len(w) > 2 and w not in UNMARKED}
    if not text or not words:
        return escape(text or "")
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
                         + r")\w*", re.IGNORECASE)
    parts: list[Markup] = []
    last = 0
    for match in pattern.finditer(text):
        parts += [escape(text[last:match.start()]), Markup("<mark>%s</mark>") % match.group(0)]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


templates.filters["paragraphs"] = paragraphs
templates.filters["safe_url"] = link_href
templates.filters["field_label"] = field_label
templates.filters["highlight"] = highlight
templates.filters["relation_words"] = relation_words
templates.filters["stated_items"] = stated_items
# The index has no word for a bare number (a coded name's digits are not BM25 words), so a
# search for a keyword such as "1976" finds nothing: such keywords are shown, not linked.
templates.tests["searchable"] = lambda text: any(char.isalpha() for char in str(text))
templates.filters["lang_attribute"] = lang_attribute
templates.globals["query_url"] = query_url


def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_schema_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_schema_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    return str(schema.get("type", "any"))


templates.filters["schema_type"] = _schema_type
