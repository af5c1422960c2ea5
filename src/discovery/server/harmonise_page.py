"""The harmonise page and "which studies measured this question?".

The harmonise form takes questionnaire files (CSV, TSV, XLSX, PDF, text, JSON Lines, read by the
CLI's parsers through `harmonise/upload.py`) and pasted items. Without script a browser cannot
keep a chosen file across pages, so each file read comes back in the form as a hidden field
(base64) beside the choice of its header row and columns: the next press of "Match items" or a
download button sends it again, and nothing is stored on the server. The app's 2 MB body limit
and MAX_UPLOAD_BYTES bound the files; every file name is a base name, escaped like all output.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from discovery.server import records
from discovery.server.errors import status_of
from discovery.server.harmonise_params import MAX_INSTRUMENTS, MAX_ITEMS, checked, unique_names
from discovery.server.limits import TooManyRequests, charge
from discovery.server.downloads import crosswalk_download
from discovery.server.search_params import BadRequest
from discovery.server.rendering import render
from discovery.server.services import Services, ServiceUnavailable, services_of
from discovery.server.urls import site_url
from discovery.errors import DiscoveryError, ParseError
from discovery.harmonise import crosswalk, upload
from discovery.harmonise.crosswalk import Harmonisation
from discovery.harmonise.items import Instrument
from discovery.harmonise.upload import Source, Upload
from discovery.model import Kind
from discovery.search.models import MAX_QUERY

SHOWN_MATCHES = 500
MEASURED_STUDIES = 20
MAX_QUESTION = 1000
PARSE_BYTES_PER_TOKEN = 50_000
# a name and items per box, a name and bytes per file, three choices per table, threshold, action
MAX_FORM_FIELDS = 2 * MAX_INSTRUMENTS + 2 * upload.MAX_FILES + 3 * 4 * upload.MAX_FILES + 4
CARRIED_PART_BYTES = 4 * upload.MAX_UPLOAD_BYTES // 3 + 4  # a file's bytes in base64
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

router = APIRouter(include_in_schema=False)


@dataclass
class Form:
    """The harmonise form as posted: pasted boxes, files (carried and new), choices, action."""

    boxes: list[tuple[str, str]]  # (instrument name, its items), one per textarea
    uploads: list[Upload]
    choices: dict[str, str]  # header.KEY / text.KEY / options.KEY -> value
    threshold_text: str
    action: str
    remove: set[str] = field(default_factory=set)  # keys of files to drop
    errors: list[DiscoveryError] = field(default_factory=list)


def box_name(n: int) -> str:
    return f"Instrument {n + 1}"


def threshold_of(text: str) -> float:
    """The form's threshold, or the matcher's default when it is blank."""
    text = text.strip()
    if not text:
        return crosswalk.DEFAULT_THRESHOLD
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"threshold {text[:20]!r} is not a number",
                         hint=f"e.g. {crosswalk.DEFAULT_THRESHOLD:g}, the default") from None
    if not -1 <= value <= 1:
        raise BadRequest(f"threshold {value:g} is outside -1 to 1",
                         hint=f"scores run from -1 to 1; the default is {crosswalk.DEFAULT_THRESHOLD:g}")
    return value


async def read_form(request: Request) -> Form:
    """The posted form, url-encoded or multipart (the app bounds the body's bytes)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in FORM_TYPES:
        raise BadRequest(f"the form must be sent as {' or '.join(FORM_TYPES)}, not {kind[:80]!r}")
    async with request.form(max_files=upload.MAX_FILES, max_fields=MAX_FORM_FIELDS,
                            max_part_size=CARRIED_PART_BYTES) as data:
        return await _form_of(data)


async def _form_of(data: FormData) -> Form:
    names = [str(value) for value in data.getlist("name")]
    texts = [str(value) for value in data.getlist("items")]
    count = max(len(names), len(texts), 2)
    if count > MAX_INSTRUMENTS:
        raise BadRequest(f"{count} instruments; one request can harmonise at most {MAX_INSTRUMENTS}")
    boxes = [((names[n].strip() if n < len(names) else "")[:200] or box_name(n),
              texts[n] if n < len(texts) else "") for n in range(count)]
    form = Form(boxes, [], {key: str(value) for key, value in data.multi_items()
                            if key.split(".", 1)[0] in ("header", "text", "options")},
                str(data.get("threshold", "")), str(data.get("action", "match")),
                {str(value) for value in data.getlist("remove")})
    carried_names = [str(value) for value in data.getlist("upload_name")]
    carried = [str(value) for value in data.getlist("upload_data")]
    for raw_name, encoded in zip(carried_names, carried, strict=False):
        name = upload.safe_name(raw_name)
        try:
            form.uploads.append(Upload(name, base64.b64decode(encoded, validate=True)))
        except (binascii.Error, ValueError):
            form.errors.append(ParseError("the file's bytes came back damaged", file=name,
                                          hint="choose the file again"))
    for value in data.getlist("file"):
        if not isinstance(value, UploadFile) or not (value.filename or value.size):
            continue  # the file input left empty
        content = await value.read(upload.MAX_UPLOAD_BYTES + 1)
        form.uploads.append(Upload(upload.safe_name(value.filename or ""), content))
    form.uploads = list({item.key: item for item in form.uploads}.values())  # the same file once
    return form


def sources_of(form: Form) -> list[Source]:
    """Every upload and filled box read, in the page's order: files first, then pasted boxes."""
    upload.check_uploads(form.uploads)
    sources = [upload.read_upload(item, form.choices) for item in form.uploads]
    sources += [upload.read_pasted(f"p{n}", name, text, form.choices)
                for n, (name, text) in enumerate(form.boxes) if text.strip()]
    return sources


def instruments_of(sources: list[Source]) -> list[Instrument]:
    """The sources' instruments under unique names, checked for count and size; too many items
    in all names the files and boxes that hold them."""
    found = [instrument for source in sources for instrument in source.instruments if instrument.items]
    try:
        return checked(upload.distinct(found, unique_names([instrument.name for instrument in found])))
    except BadRequest as error:
        if sum(len(instrument.items) for instrument in found) > MAX_ITEMS:
            counts = ", ".join(f"{source.name}: {sum(len(i.items) for i in source.instruments):,}"
                               for source in sources if source.instruments)
            error.hint = f"items per file or box: {counts}; {error.hint}"
        raise


def parse_cost(form: Form) -> int:
    """Rate-limit tokens for reading the files: one per file and per started 50 KB, since a
    file is read again on every press of a button (PDFs cost most)."""
    return sum(1 + len(item.content) // PARSE_BYTES_PER_TOKEN for item in form.uploads)


def page_status(error: DiscoveryError) -> int:
    """A file or form the page cannot use is the visitor's to fix (422), never a server error."""
    status = status_of(error)
    return 422 if status == 500 else status


def _measured(request: Request, q: str) -> tuple[Any, DiscoveryError | None]:
    if not q.strip():
        return None, None
    try:
        charge(request, "measured")
        return services_of(request).measured(q, crosswalk.DEFAULT_THRESHOLD, MEASURED_STUDIES), None
    except (ServiceUnavailable, TooManyRequests) as error:
        return None, error


def _page(request: Request, form: Form, sources: list[Source], status: int = 200,
          result: Harmonisation | None = None, focus: int | None = None) -> HTMLResponse:
    by_key = {source.key: source for source in sources}
    files = [(item, base64.b64encode(item.content).decode("ascii"), by_key.get(item.key))
             for item in form.uploads]
    pasted = [by_key.get(f"p{n}") for n in range(len(form.boxes))]
    return render(request, "harmonise.html", status=status, title="Harmonise questions",
                  boxes=form.boxes, pasted=pasted, files=files, errors=form.errors,
                  threshold=form.threshold_text or crosswalk.DEFAULT_THRESHOLD,
                  default_threshold=crosswalk.DEFAULT_THRESHOLD, result=result, focus=focus,
                  max_boxes=MAX_INSTRUMENTS, shown_matches=SHOWN_MATCHES,
                  accepted=",".join(upload.ACCEPTED), max_upload=upload.MAX_UPLOAD_BYTES,
                  max_files=upload.MAX_FILES,
                  canonical=site_url(request, "/harmonise"))


def _catalogue_box(services: Services, key: str) -> tuple[str, str]:
    """A questionnaire's questions as the first box holds them, one per line in its own order,
    for "harmonise with...": the visitor then fills in what to compare it with."""
    instrument = records.get_kind(services.catalogue, key, (Kind.INSTRUMENT,), "a questionnaire")
    questions = records.instrument_questions(services, instrument.id)
    return instrument.title, "\n".join(" ".join(q.title.split()) for q in questions)


@router.get("/harmonise", response_class=HTMLResponse)
def harmonise_page(request: Request) -> Response:
    """The form (with a catalogue questionnaire in its first box when `with` names one); its
    first view starts loading the matcher, so it is ready by the first match. A question asked
    here (old links) is answered on its own page."""
    if request.query_params.get("q"):
        return RedirectResponse(f"/measured?{request.url.query}", status_code=303)
    services = services_of(request)
    services.load_matcher()
    chosen = request.query_params.get("with", "")[:MAX_QUERY]
    first = _catalogue_box(services, chosen) if chosen else (box_name(0), "")
    form = Form([first, (box_name(1), "")], [], {}, "", "match")
    return _page(request, form, [], focus=1 if chosen else None)


def _read(form: Form) -> tuple[list[Source], list[Instrument]]:
    """The sources and, when every one was read, their instruments; else the errors in the form."""
    sources = sources_of(form)
    form.errors += [source.error for source in sources if source.error is not None]
    if form.errors:
        return sources, []
    return sources, instruments_of(sources)


@router.post("/harmonise", response_class=HTMLResponse)
async def harmonise_submit(request: Request) -> Response:
    """"Add an instrument" comes back with one more textarea; "Match items" with the results
    (files ticked "remove" left out); both with the files read and their columns to choose."""
    form = await read_form(request)
    if form.remove:
        form.uploads = [item for item in form.uploads if item.key not in form.remove]
    if form.action == "add" and len(form.boxes) < MAX_INSTRUMENTS:
        form.boxes.append((box_name(len(form.boxes)), ""))
    sources: list[Source] = []
    try:
        threshold = threshold_of(form.threshold_text)
        charge(request, "harmonise", parse_cost(form))
        sources, instruments = await run_in_threadpool(_read, form)
        if form.errors:
            return _page(request, form, sources, page_status(form.errors[0]))
        if form.action != "match":
            return _page(request, form, sources,
                         focus=len(form.boxes) - 1 if form.action == "add" else None)
        charge(request, "harmonise", sum(len(instrument.items) for instrument in instruments))
        result = await run_in_threadpool(services_of(request).harmonise, instruments, threshold)
    except DiscoveryError as error:
        form.errors.append(error)
        return await run_in_threadpool(_page, request, form, sources, page_status(error))
    return await run_in_threadpool(_page, request, form, sources, 200, result)


@router.post("/harmonise/crosswalk.{fmt}")
async def harmonise_download(request: Request, fmt: Literal["csv", "xlsx", "json"]) -> Response:
    """The crosswalk file for the posted form (the results page's download buttons); the page
    with its errors when a file or the form cannot be used."""
    form = await read_form(request)
    sources: list[Source] = []
    try:
        threshold = threshold_of(form.threshold_text)
        charge(request, "harmonise", parse_cost(form))
        sources, instruments = await run_in_threadpool(_read, form)
        if not form.errors:
            charge(request, "harmonise", sum(len(instrument.items) for instrument in instruments))
            result = await run_in_threadpool(services_of(request).harmonise, instruments, threshold)
            return crosswalk_download(result, fmt)
    except DiscoveryError as error:
        form.errors.append(error)
    return await run_in_threadpool(_page, request, form, sources, page_status(form.errors[0]))


@router.get("/measured", response_class=HTMLResponse)
def measured_page(request: Request) -> Response:
    """Which studies measured this question? Search candidates rescored by the matcher."""
    services = services_of(request)
    services.load_matcher()
    q = request.query_params.get("q", "")[:MAX_QUESTION]
    measured, unavailable = _measured(request, q)
    kinds = records.item_kinds(services.catalogue, measured[1]) if measured else {}
    return render(request, "measured.html", title="Which studies measured this question?", q=q,
                  measured=measured, measured_unavailable=unavailable, item_kinds=kinds,
                  measured_min=crosswalk.DEFAULT_THRESHOLD, canonical=site_url(request, "/measured"))
