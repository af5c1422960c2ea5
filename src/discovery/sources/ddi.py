"""DDI metadata: Codebook 1.2.2 / 2.x (`codeBook`) and Lifecycle 3.x (`DDIInstance`, `FragmentInstance`).

Exports from Nesstar, NADA, Colectica, Pogues/Eno and archive back-ends disagree on namespaces
(none, `http://www.icpsr.umich.edu/DDI`, `ddi:codebook:2_5`, `xmlns=""` resets halfway down the
tree), so everything here matches on local names and walks element children directly instead of
compiling XPath per element: the ESS export alone has 573 variables and must parse in milliseconds.

Codebook elements repeat once per `xml:lang`; every language is kept as `Text`. Lifecycle items
point at each other by `r:URN` or `r:Agency`/`r:ID`/`r:Version`; all identifiable items are indexed
by ID once, so a reference resolves in O(1).

`parse_codebook_element` and `parse_lifecycle_element` are public so the OAI-PMH parser can hand
over the metadata element of each record.

A Codebook file is read as a stream: each `dataDscr/var` becomes its Variable when its end tag
is read and is then cleared, so the tree never holds more than the study description and one
variable. A 200 MB export (140,634 variables) peaked at +4.2 GB RSS as a whole tree and +2.1 GB
streamed, which is its records (`bench/fuzz.py --blowups`). Lifecycle items refer to each other
across the file, so a Lifecycle file is still kept whole, under the document's budget
(`sources/budgets.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree

from discovery.errors import DiscoveryError
from discovery.model import (
    Agent,
    Category,
    Identifier,
    Instrument,
    Link,
    ParseResult,
    Predicate,
    Problem,
    Provenance,
    Question,
    Relation,
    Study,
    Text,
    Variable,
    child_id,
    main_text,
    slug,
)
from discovery.sources.base import (
    MAX_FIELD_CHARS, Document, clean, iter_xml, parse_xml, strip_markup,
)
from discovery.sources.budgets import Meter, metered
from discovery.sources.fields import ORGANISATION_WORDS
from discovery.sources.registry import head_text

FORMAT = "ddi"

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CODEBOOK_ROOTS = frozenset({"codeBook"})
LIFECYCLE_ROOTS = frozenset({"DDIInstance", "FragmentInstance", "Fragment"})

_Element = etree._Element
# Each prologue item ends at its own first terminator and is never re-matched (atomic, possessive):
# a mutated prologue with unclosed `<?` or `<!--` once took hours of backtracking here.
_ROOT_TAG = re.compile(r"(?>\s+|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->|<!DOCTYPE[^>]*>)*+"
                       r"<(?:[\w.-]+:)?([\w.-]+)")
_LIFECYCLE_NS = re.compile(r"^ddi:[a-z_]+:3_(\d)")
_ISO_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?")
_DOI = re.compile(r"\b10\.\d{4,9}/\S+")
_CC_URL = re.compile(r"https?://creativecommons\.org/[^\s\"'<>)]+", re.I)
_CC_NAME = re.compile(r"\bCC[ -]?(BY(?:[ -](?:NC|SA|ND))*|0)[ -]?(\d\.\d)\b", re.I)
_CASES = re.compile(r"Number of cases\s*:\s*([\d,. ]+)", re.I)
_XHTML_BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4"})
_AGENCY_SCHEMES = (("ukda", "ukds"), ("ukds", "ukds"), ("uk data", "ukds"), ("gesis", "gesis"),
                   ("fsd", "fsd"))


def sniff(doc: Document, head: str) -> bool:
    """A DDI root element; OAI-PMH envelopes that wrap a codeBook belong to the oai parser."""
    match = _ROOT_TAG.match(head)
    return match is not None and match.group(1) in CODEBOOK_ROOTS | LIFECYCLE_ROOTS


@metered
def parse(doc: Document) -> ParseResult:
    declared = _ROOT_TAG.match(head_text(doc))
    name = declared.group(1) if declared else None
    if name not in CODEBOOK_ROOTS | LIFECYCLE_ROOTS:
        raise doc.fail(f"not a DDI document: the root element is <{name}>",
                       hint="DDI inside OAI-PMH responses is read by the oai parser")
    meter = Meter(doc)
    events = iter_xml(doc, meter, [f"{{*}}{tag}" for tag in ("var", *CODEBOOK_ROOTS, *LIFECYCLE_ROOTS)])
    _, first = next(events)
    root = first.getroottree().getroot()
    if _local(root) in CODEBOOK_ROOTS:
        return _stream_codebook(doc, root, events, meter)
    for _ in events:  # Lifecycle items refer to each other anywhere in the file: keep it whole
        meter.check()
    return _Lifecycle(root, doc, None, meter).parse()


def parse_codebook_element(element: _Element, doc: Document,
                           record_key: str | None = None) -> ParseResult:
    """Records from a DDI-Codebook `codeBook` element: the study and its variables."""
    return _Codebook(element, doc, record_key).parse()


def parse_lifecycle_element(element: _Element, doc: Document,
                            record_key: str | None = None) -> ParseResult:
    """Records from a DDI-Lifecycle instance or fragment: studies, variables, instruments, questions."""
    return _Lifecycle(element, doc, record_key, Meter(doc)).parse()


def _stream_codebook(doc: Document, root: _Element, events: Iterator[tuple[str, _Element]],
                     meter: Meter) -> ParseResult:
    """A Codebook file's records, each `var` read and cleared as soon as its end tag is read.

    Variables need only the study's id, the provenance and the `varGrp`s, which DDI puts before
    `dataDscr/var`; they are taken when the first variable ends and compared with the finished
    file's. A file that contradicts them later (a second stdyDscr after the variables, say) is
    parsed again as a whole tree, so the records are always what the whole tree gives."""
    book: _Codebook | None = None
    early: _StudyContext | None = None
    result = ParseResult()
    variables: list[Variable] = []
    used = _Ids()
    for event, var in events:
        if event != "end" or _local(var) != "var":
            continue
        data = var.getparent()
        if data is None or _local(data) != "dataDscr" or data.getparent() is not root:
            continue
        if book is None:
            book = _Codebook(root, doc, None)
            try:
                early = book.context()
            except DiscoveryError:  # the finished tree decides whether the study is unreadable
                pass
        if early is None:
            continue  # keep every var: the whole tree is parsed at the end
        meter.check(var.get("ID") or var.get("name"))
        if (variable := book.variable(var, early, used, result)) is not None:
            variables.append(variable)
        var.clear(keep_tail=True)
        while (previous := var.getprevious()) is not None and _local(previous) == "var":
            data.remove(previous)
    whole = _Codebook(root, doc, None)
    if early is None:
        return whole.parse()
    context = whole.context()
    if context != early:
        return _Codebook(parse_xml(doc, meter), doc, None).parse()
    return whole.finish(context.study, variables, result)


# --- element and text helpers -------------------------------------------------------------------

def _local(element: _Element | None) -> str:
    """An element's name without its namespace; "" for a comment, a processing instruction or
    the parent of the root."""
    tag = element.tag if element is not None else None
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _kids(element: _Element, name: str) -> Iterator[_Element]:
    return (child for child in element if _local(child) == name)


def _kid(element: _Element | None, name: str) -> _Element | None:
    return None if element is None else next(_kids(element, name), None)


def _path(element: _Element | None, *names: str) -> list[_Element]:
    """Elements reached by a path of local names, e.g. `_path(var, "qstn", "qstnLit")`."""
    level = [] if element is None else [element]
    for name in names:
        level = [child for parent in level for child in parent if _local(child) == name]
    return level


def _raw_text(element: _Element) -> str:
    """All text inside an element, XHTML blocks (`p`, `div`, `li`...) as paragraph breaks, except
    DDI 2.5 `concept` children (a controlled term, not prose)."""
    text = (element.text or "") if len(element) == 0 else _mixed_text(element)
    if len(text) > MAX_FIELD_CHARS:
        raise ValueError(f"<{_local(element)}> holds {len(text)} characters, over the "
                         f"{MAX_FIELD_CHARS} limit for one field")
    return text


def _mixed_text(element: _Element) -> str:
    parts = [element.text or ""]
    for child in element:
        kind = _local(child)
        if kind and kind != "concept":
            gap = "\n\n" if kind in _XHTML_BLOCKS else ""
            parts += [gap, _mixed_text(child), gap]
        parts.append(child.tail or "")
    return "".join(parts)


def _line(element: _Element | None) -> str | None:
    return None if element is None else clean(_raw_text(element))


def _block(element: _Element) -> str | None:
    """Prose that may carry (escaped) HTML, as exports from UKDS and Nesstar do."""
    return strip_markup(_raw_text(element))


def _pairs(elements: Iterable[_Element], lang: str | None, block: bool = False
           ) -> list[tuple[str, str | None]]:
    """(value, language) per element, duplicates dropped; the element's own xml:lang wins."""
    pairs: dict[tuple[str, str | None], None] = {}
    for element in elements:
        if value := _block(element) if block else _line(element):
            pairs[(value, element.get(XML_LANG) or lang)] = None
    return list(pairs)


def _texts(elements: Iterable[_Element], lang: str | None, block: bool = False) -> list[Text]:
    return [Text(value=value, lang=text_lang) for value, text_lang in _pairs(elements, lang, block)]


def _main_lang(texts: list[Text]) -> str | None:
    main = main_text(texts)
    return main.lang if main else None


def _main(texts: list[Text]) -> str | None:
    """The main value: English when present, else the first."""
    lang = _main_lang(texts)
    return next((t.value for t in texts if t.lang == lang), None)


def _in_main_lang(texts: list[Text]) -> list[str]:
    """Values in the main language plus untagged ones: facets want `Finland`, not also `Suomi`."""
    lang = _main_lang(texts)
    return _unique(t.value for t in texts if t.lang in (lang, None))


def _joined_by_lang(texts: list[Text]) -> list[Text]:
    """Several abstracts in one language become one description per language."""
    by_lang: dict[str | None, list[str]] = {}
    for text in texts:
        by_lang.setdefault(text.lang, []).append(text.value)
    return [Text(value="\n\n".join(values), lang=lang) for lang, values in by_lang.items()]


def _languages(*groups: list[Text]) -> list[str]:
    return _unique(text.lang for group in groups for text in group if text.lang)


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _placeholder_label(label: str, name: str) -> bool:
    """A label that only repeats the variable's name: "PL3 label" (Pogues/Eno writes one for
    every variable nobody labelled), "PL3". "PHQScore" for PHQSCORE still says how to read it."""
    text = label.strip()
    return text == name or " ".join(text.lower().split()) == f"{name.lower()} label"


def _readable_name(name: str) -> str:
    """A variable's name as words when it is all there is: "AIDE_VOIS2" -> "Aide vois2";
    a name without underscores ("PHQScore", "EFF3112") is kept as it is."""
    if "_" not in name.strip("_"):
        return name
    words = " ".join(name.replace("_", " ").split())
    return words.capitalize() if words.isupper() else words


class _Owners:
    """Who holds variables that no study holds: the instrument of the question a variable is
    bound to, else the file's first instrument; `id_prefix` keeps variable ids as they were."""

    def __init__(self, id_prefix: str, question_owners: dict[str, str],
                 instrument_ids: list[str]) -> None:
        self.id_prefix = id_prefix
        self.question_owners = question_owners
        self.instrument_ids = instrument_ids

    def parent_of(self, question_key: str | None) -> str | None:
        if question_key in self.question_owners:
            return self.question_owners[question_key]
        return self.instrument_ids[0] if self.instrument_ids else None


class _Ids:
    """Ids given out in one document: two variables whose names slug alike (`V1`, `v1`) still get
    distinct, stable ids (`...-v1`, `...-v1-2`). The next number is remembered per name: probing
    from 2 each time made 600 copies of 234 names quadratic."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = set(taken)
        self.next_number: dict[str, int] = {}

    def unique(self, candidate: str) -> str:
        identifier = candidate
        if identifier in self.taken:
            number = self.next_number.get(candidate, 2)
            while (identifier := f"{candidate}-{number}") in self.taken:
                number += 1
            self.next_number[candidate] = number + 1
        self.taken.add(identifier)
        return identifier


def _integer(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(float(text.replace(",", "").replace(" ", "")))
    except ValueError:
        return None


def _iso_date(date: str | None, text: str | None = None) -> str | None:
    """`1976-01-01T00:00:00Z` with text `1976` is a year, not New Year's Day."""
    match = _ISO_DATE.match((date or text or "").strip())
    if not match:
        return None
    value = match.group(0)
    year = (text or "").strip()
    if len(year) == 4 and year.isdigit() and value.startswith(year) and value[4:] in ("", "-01-01"):
        return year
    return value


def _interval(starts: list[str], ends: list[str], singles: list[str]) -> str | None:
    """ISO 8601 interval from start/end events; a lone date stays a date."""
    start = min(starts or singles, default=None)
    end = max(ends or singles, default=None)
    if starts or ends:
        return f"{start or '..'}/{end or '..'}"
    return start if start == end else f"{start}/{end}" if start else None


def _licence(texts: Iterable[str]) -> str | None:
    """A Creative Commons URL, given as a link or named in the text (`CC BY 4.0`)."""
    texts = list(texts)
    for text in texts:
        if match := _CC_URL.search(text):
            return match.group(0)
    for text in texts:
        if match := _CC_NAME.search(text):
            kind, version = match.group(1).lower().replace(" ", "-"), match.group(2)
            if kind == "0":
                return f"https://creativecommons.org/publicdomain/zero/{version}/"
            return f"https://creativecommons.org/licenses/{kind}/{version}/"
    return None


def _agent(name: str, affiliation: str | None = None) -> Agent:
    """`Surname, Given` is a person; `Department for Children, Schools and Families` is not.
    UKDS writes the affiliation after the name (`Hood, C.C., University of York...`)."""
    head, comma, _ = name.partition(",")
    if not comma or ORGANISATION_WORDS.search(head) or len(head.split()) > 3:
        return Agent(type="Organization", name=name, affiliation=affiliation)
    parts = [part.strip() for part in name.split(",")]
    rest = ", ".join(parts[2:])
    if len(parts) > 2 and not affiliation and ORGANISATION_WORDS.search(rest):
        name, affiliation = f"{parts[0]}, {parts[1]}", rest
    return Agent(type="Person", name=name, affiliation=affiliation)


def _identifier(value: str, agency: str | None) -> Identifier:
    """DOI when it looks like one, else a scheme named after the agency (`ukds`, `gesis`, `fsd`)."""
    agency = (agency or "").lower()
    if doi := _DOI.search(value):
        return Identifier(scheme="doi", value=doi.group(0).rstrip(".,;)"))
    if value.lower().startswith("urn:"):
        return Identifier(scheme="urn", value=value)
    scheme = next((scheme for key, scheme in _AGENCY_SCHEMES if key in agency), "local")
    return Identifier(scheme=scheme, value=value)


def _unique_identifiers(identifiers: Iterable[Identifier]) -> list[Identifier]:
    return list({identifier.alias(): identifier for identifier in identifiers}.values())


def _raw(element: _Element) -> str:
    return etree.tostring(element, encoding="unicode")[:4000]


# --- DDI-Codebook ----------------------------------------------------------------------------------

@dataclass
class _StudyContext:
    """What a Codebook's variables take from its study: the study's id, the provenance and the
    `varGrp` labels; equal contexts give equal variables."""

    study: Study
    provenance: Provenance
    groups: dict[str, list[str]]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _StudyContext) and (self.study.id, self.provenance, self.groups) \
            == (other.study.id, other.provenance, other.groups)


class _Codebook:
    """One `codeBook`: a study (stdyDscr, with docDscr as fallback) and its `dataDscr/var`s."""

    def __init__(self, root: _Element, doc: Document, record_key: str | None) -> None:
        self.root = root
        self.doc = doc
        self.record_key = record_key
        self.lang = root.get(XML_LANG)
        self.study_dscr = _kid(root, "stdyDscr")
        self.citations = _path(root, "stdyDscr", "citation")
        self.source = f"ddi-codebook-{self._version()}"

    def _version(self) -> str:
        version = (self.root.get("version") or "").strip()
        if re.fullmatch(r"\d+(\.\d+)*", version):
            return version
        namespace = etree.QName(self.root).text.partition("}")[0]
        return "2.5" if "2_5" in namespace else "1.2.2" if "icpsr" in namespace else "unknown"

    def parse(self) -> ParseResult:
        context = self.context()
        result = ParseResult()
        used = _Ids()
        variables = [variable for data_description in _kids(self.root, "dataDscr")
                     for var in _kids(data_description, "var")
                     if (variable := self.variable(var, context, used, result)) is not None]
        return self.finish(context.study, variables, result)

    def context(self) -> _StudyContext:
        """The study and what every variable takes from the file's description of it."""
        distributor = self._agents(self._cite("distStmt", "distrbtr"))
        provenance = self.doc.provenance(self.source, self.record_key,
                                         distributor[0].name if distributor else None)
        try:
            study = self._study(provenance, distributor)
        except ValueError as error:  # without its study the document has nothing to hang on
            raise self.doc.fail(f"unreadable study description: {error}", record=self.record_key) from None
        return _StudyContext(study, provenance, self._variable_groups())

    def variable(self, var: _Element, context: _StudyContext, used: _Ids,
                 result: ParseResult) -> Variable | None:
        try:
            return self._variable(var, context.study.id, context.provenance, context.groups, used)
        except ValueError as error:  # pydantic's ValidationError is a ValueError too
            result.problems.append(Problem(record=var.get("ID") or var.get("name"),
                                           reason=f"var skipped: {error}", raw=_raw(var)))
            return None

    @staticmethod
    def finish(study: Study, variables: list[Variable], result: ParseResult) -> ParseResult:
        if variables:
            study.variable_count = len(variables)
        result.records.append(study)
        result.records.extend(variables)
        result.relations.extend(Relation(subject=study.id, predicate=Predicate.HAS_VARIABLE,
                                         object=variable.id) for variable in variables)
        return result

    def _cite(self, *path: str) -> list[_Element]:
        return [element for citation in self.citations for element in _path(citation, *path)]

    def _info(self, *path: str) -> list[_Element]:
        return _path(self.study_dscr, "stdyInfo", *path)

    def _study(self, provenance: Provenance, distributor: list[Agent]) -> Study:
        titles = _texts(self._cite("titlStmt", "titl"), self.lang)
        all_titles = titles + _texts(self._cite("titlStmt", "parTitl") + self._cite("titlStmt", "altTitl"),
                                     self.lang)
        all_titles = list({(t.value, t.lang): t for t in all_titles}.values())
        identifiers = self._identifiers()
        title = _main(titles) or _main(all_titles) or self._fallback_title(identifiers)
        abstracts = _texts(self._info("abstract"), self.lang, block=True)
        descriptions = _joined_by_lang(abstracts)
        url = self._url()
        grants = self._grants()
        if url:
            identifiers.append(Identifier(scheme="url", value=url))
        identifiers.extend(Identifier(scheme="grant", value=number) for number, _ in grants)
        key = self.record_key or next((i.value for i in identifiers if i.scheme != "doi"), None)
        return Study(
            id=slug(title), title=title, titles=all_titles,
            description=_main(descriptions), descriptions=descriptions,
            identifiers=_unique_identifiers(identifiers),
            keywords=_unique(t.value for t in _texts(self._info("subject", "keyword"), self.lang)),
            topics=_unique(t.value for t in _texts(self._info("subject", "topcClas"), self.lang)),
            url=url, language=_languages(all_titles, abstracts),
            provenance=provenance.model_copy(update={"record_key": key}),
            creators=self._agents(self._cite("rspStmt", "AuthEnty")),
            publisher=distributor[0] if distributor else None,
            funders=self._funders(grants), grant_numbers=_unique(number for number, _ in grants),
            temporal_coverage=self._coverage("timePrd") or self._coverage("collDate"),
            spatial_coverage=self._places(),
            sample_size=self._sample_size(),
            study_design=_in_main_lang(self._method_texts("timeMeth")),
            resource_type="; ".join(_in_main_lang(_texts(self._info("sumDscr", "dataKind"),
                                                         self.lang))) or None,
            license=self._licence(),
            date_published=self._date_published(),
            version=_main(_texts(self._cite("verStmt", "version"), self.lang)),
            universe=_texts(self._info("sumDscr", "universe"), self.lang, block=True),
            methods=self._methods(),
            distributions=self._distributions(),
            extra=self._study_extra(),
        )

    def _fallback_title(self, identifiers: list[Identifier]) -> str:
        """Study-level records without a study title still need one; docDscr or an id will do."""
        doc_titles = _texts(_path(self.root, "docDscr", "citation", "titlStmt", "titl"), self.lang)
        title = _main(doc_titles) or next((i.value for i in identifiers), None) or self.root.get("ID")
        if not title:
            raise self.doc.fail("codeBook has no title and no identifier", record=self.record_key,
                                hint="stdyDscr/citation/titlStmt/titl is required by DDI")
        return title

    def _identifiers(self) -> list[Identifier]:
        identifiers = [_identifier(value, element.get("agency"))
                       for element in self._cite("titlStmt", "IDNo") if (value := _line(element))]
        if codebook_id := clean(self.root.get("ID")):
            identifiers.append(Identifier(scheme="local", value=codebook_id))
        return identifiers

    def _url(self) -> str | None:
        """The study page: holdings in the study citation, else the documentation's."""
        holdings = self._cite("holdings") or _path(self.root, "docDscr", "citation", "holdings")
        uris = [Text(value=uri, lang=element.get(XML_LANG) or self.lang)
                for element in holdings if (uri := clean(element.get("URI")))]
        return _main(uris)

    def _agents(self, elements: list[_Element]) -> list[Agent]:
        """People or organisations in the main language, one per name."""
        lang = _main_lang(_texts(elements, self.lang))
        agents: dict[str, Agent] = {}
        for element in elements:
            name = _line(element)
            if name and name not in agents and (element.get(XML_LANG) or self.lang) in (lang, None):
                agents[name] = _agent(name, clean(element.get("affiliation")))
        return list(agents.values())

    def _grants(self) -> list[tuple[str, str | None]]:
        return [(number, clean(element.get("agency")))
                for element in self._cite("prodStmt", "grantNo") if (number := _line(element))]

    def _funders(self, grants: list[tuple[str, str | None]]) -> list[Agent]:
        names = [agency for _, agency in grants if agency]
        names += [t.value for t in _texts(self._cite("prodStmt", "fundAg"), self.lang)]
        return [Agent(type="Organization", name=name, role="funder") for name in _unique(names)]

    def _coverage(self, name: str) -> str | None:
        starts: list[str] = []
        ends: list[str] = []
        singles: list[str] = []
        for element in self._info("sumDscr", name):
            date = _iso_date(element.get("date"), element.text)
            event = (element.get("event") or "single").lower()
            if date:
                (starts if event == "start" else ends if event == "end" else singles).append(date)
        return _interval(starts, ends, singles)

    def _places(self) -> list[str]:
        nations = _in_main_lang(_texts(self._info("sumDscr", "nation"), self.lang))
        covers = _in_main_lang(_texts(self._info("sumDscr", "geogCover"), self.lang))
        return _unique(nations + [cover for cover in covers if len(cover) <= 120])

    def _sample_size(self) -> int | None:
        for element in _path(self.root, "fileDscr", "fileTxt", "dimensns", "caseQnty"):
            if (cases := _integer(_line(element))) is not None:
                return cases
        for element in _path(self.study_dscr, "dataAccs", "setAvail", "collSize"):
            if match := _CASES.search(_raw_text(element)):
                return _integer(match.group(1))
        return None

    def _licence(self) -> str | None:
        use = _path(self.study_dscr, "dataAccs", "useStmt")
        conditions = [element for statement in use for element in _kids(statement, "conditions")]
        restrictions = [element for statement in use for element in _kids(statement, "restrctn")]
        licence = _licence(_raw_text(element) for element in conditions + restrictions)
        terms = [text for text in _texts(restrictions + conditions, self.lang, block=True)
                 if 3 <= len(text.value.split()) <= 60]  # not "Aucune", not a ten-page directive
        return licence or _main(terms)

    def _date_published(self) -> str | None:
        dates = [Text(value=date, lang=element.get(XML_LANG) or self.lang)
                 for element in self._cite("distStmt", "distDate")
                 if (date := _iso_date(element.get("date"), element.text))]
        return _main(dates)

    def _method_texts(self, name: str) -> list[Text]:
        return _texts(_path(self.study_dscr, "method", "dataColl", name), self.lang)

    def _methods(self) -> dict[str, list[str]]:
        fields = {"time_method": self._method_texts("timeMeth"),
                  "sampling_procedure": self._method_texts("sampProc"),
                  "collection_mode": self._method_texts("collMode"),
                  "research_instrument": self._method_texts("resInstru"),
                  "analysis_unit": _texts(self._info("sumDscr", "anlyUnit"), self.lang)}
        methods = {key: _in_main_lang(texts) for key, texts in fields.items()}
        return {key: values for key, values in methods.items() if values}

    def _distributions(self) -> list[Link]:
        links = []
        for file_description in _kids(self.root, "fileDscr"):
            uri = clean(file_description.get("URI"))
            if uri and uri.startswith(("http://", "https://")):
                name = _line(_kid(_kid(file_description, "fileTxt"), "fileType"))
                links.append(Link(url=uri, name=name))
        return list({link.url: link for link in links}.values())

    def _study_extra(self) -> dict[str, object]:
        collection = self._coverage("collDate")
        extra = {
            "collection_period": collection,
            "collection_dates_text": None if collection else _main(
                _texts(self._info("sumDscr", "collDate"), self.lang, block=True)),
            "subtitle": _main(_texts(self._cite("titlStmt", "subTitl"), self.lang)),
            "series": _in_main_lang(_texts(self._cite("serStmt", "serName"), self.lang)),
            "producers": [agent.name for agent in self._agents(self._cite("prodStmt", "producer"))],
            "data_collectors": _in_main_lang(self._method_texts("dataCollector")),
            "related_publications": [t.value for t in _texts(
                _path(self.study_dscr, "othrStdyMat", "relPubl"), self.lang, block=True)][:20],
            "related_studies": [t.value for t in _texts(
                _path(self.study_dscr, "othrStdyMat", "relStdy"), self.lang)][:50],
        }
        return {key: value for key, value in extra.items() if value}

    def _variable_groups(self) -> dict[str, list[str]]:
        """Variable ID -> labels of the `varGrp`s that list it (topical sections in Nesstar)."""
        groups: dict[str, list[str]] = {}
        for group in _path(self.root, "dataDscr", "varGrp"):
            label = _main(_texts(_kids(group, "labl"), self.lang))
            if not label:
                continue
            for var_id in (group.get("var") or "").split():
                groups.setdefault(var_id, []).append(label)
        return groups

    def _variable(self, var: _Element, study_id: str, provenance: Provenance,
                  groups: dict[str, list[str]], used: _Ids) -> Variable:
        name = clean(var.get("name")) or clean(var.get("ID"))
        if not name:
            raise ValueError("<var> has neither @name nor @ID")
        lang = var.get(XML_LANG) or self.lang
        parts = _VariableParts(lang)
        for child in var:
            parts.add(child)
        labels = [label for label in parts.labels if not _placeholder_label(label.value, name)]
        extra = {"ddi_id": var.get("ID"), "files": var.get("files"), "interval": var.get("intrvl"),
                 "groups": groups.get(var.get("ID") or ""), "summary": parts.summary,
                 "pre_question": [t.value for t in parts.pre_question],
                 "post_question": [t.value for t in parts.post_question]}
        return Variable(
            id=used.unique(child_id(study_id, name)), name=name, study_id=study_id,
            title=_main(labels) or _main(parts.questions) or _readable_name(name),
            titles=labels,
            description=_main(parts.descriptions), descriptions=parts.descriptions,
            language=_languages(labels, parts.questions),
            provenance=provenance.model_copy(update={"record_key": var.get("ID") or name}),
            question_texts=parts.questions, instructions=parts.instructions,
            categories=parts.categories, universe=parts.universe, concepts=_unique(parts.concepts),
            data_type=parts.data_type, extra={key: value for key, value in extra.items() if value},
        )


class _VariableParts:
    """What one `var` says, gathered in a single pass over its children."""

    def __init__(self, lang: str | None) -> None:
        self.lang = lang
        self.labels: list[Text] = []
        self.descriptions: list[Text] = []
        self.questions: list[Text] = []
        self.pre_question: list[Text] = []
        self.post_question: list[Text] = []
        self.instructions: list[Text] = []
        self.categories: list[Category] = []
        self.universe: list[Text] = []
        self.concepts: list[str] = []
        self.summary: dict[str, str] = {}
        self.data_type: str | None = None

    def add(self, child: _Element) -> None:
        kind = _local(child)
        if kind == "labl":
            self.labels.extend(_texts([child], self.lang))
        elif kind == "qstn":
            self._question(child)
        elif kind == "catgry":
            self.categories.extend(self._categories(child))
        elif kind == "universe":
            self.universe.extend(_texts([child], self.lang, block=True))
        elif kind == "concept" and (concept := _line(child)):
            self.concepts.append(concept)
        elif kind == "varFormat":
            self.data_type = clean(child.get("type")) or _line(child)
        elif kind == "sumStat" and (value := _line(child)):
            self.summary[child.get("type") or "value"] = value
        elif kind == "txt":
            self.descriptions.extend(_texts([child], self.lang, block=True))

    def _question(self, question: _Element) -> None:
        lang = question.get(XML_LANG) or self.lang
        targets = {"qstnLit": self.questions, "preQTxt": self.pre_question,
                   "postQTxt": self.post_question, "ivuInstr": self.instructions}
        for child in question:
            if (target := targets.get(_local(child))) is not None:
                target.extend(_texts([child], lang, block=True))
        if len(question) == 0 and (text := _block(question)):
            self.questions.append(Text(value=text, lang=lang))

    def _categories(self, category: _Element) -> list[Category]:
        """One Category per label language; a category without a label is named by its value."""
        lang = category.get(XML_LANG) or self.lang
        value, labels, frequency = None, [], None
        for child in category:
            kind = _local(child)
            if kind == "catValu":
                value = _line(child)
            elif kind == "labl" and (label := _line(child)):
                labels.append((label, child.get(XML_LANG) or lang))
            elif kind == "catStat" and frequency is None and child.get("type", "freq") == "freq" \
                    and child.get("wgtd") != "wgtd":
                frequency = _integer(_line(child))
        if not labels and value:
            labels = [(value, None)]
        missing = (category.get("missing") or "").upper() == "Y"
        return [Category(value=value, label=label, lang=label_lang, missing=missing,
                         frequency=frequency) for label, label_lang in dict.fromkeys(labels)]


# --- DDI-Lifecycle ---------------------------------------------------------------------------------

_QUESTION_KINDS = frozenset({"QuestionItem", "QuestionGrid"})
_FLOW_TAGS = tuple(f"{{*}}{name}" for name in (
    "ControlConstructReference", "ThenConstructReference", "ElseConstructReference",
    "UntilConstructReference", "WhileConstructReference", "QuestionReference"))
_VTL_LITERAL = re.compile(r'"[^"]*"')
_VTL_TOKEN = re.compile(r'"(?P<literal>[^"]*)"|(?P<concat>\|\|)|(?P<open>\()|(?P<close>\))|'
                        r'(?P<word>\w+)|[^"|()\w]+|\|')


def _readable(expression: str) -> str:
    """Pogues/Eno write question texts as VTL: `"Êtes-vous limité" || $LIB_E$ || ", depuis..."`.
    Keep the literal text; of `if ... then ... else ...` keep the else branch (the default
    wording), dropping the condition's own literals."""
    text = expression.strip()
    if "||" not in text and not _VTL_LITERAL.fullmatch(text):
        return text
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for match in _VTL_TOKEN.finditer(text):
        if match.group("literal") is not None:
            current.append(match.group("literal"))
        elif match.group("open"):
            depth += 1
        elif match.group("close"):
            depth -= 1
        elif match.group("word") in ("then", "else"):
            current = []  # what came before (a condition, a then branch) is not the text shown
        elif match.group("concat") and depth == 0:
            parts.extend(current)
            current = []
    parts.extend(current)
    return clean("".join(parts)) or text


class _Lifecycle:
    """One DDI-Lifecycle instance or fragment collection, with its identifiable items indexed."""

    def __init__(self, root: _Element, doc: Document, record_key: str | None, meter: Meter) -> None:
        self.root = root
        self.doc = doc
        self.record_key = record_key
        self.meter = meter
        self.lang = root.get(XML_LANG)
        match = _LIFECYCLE_NS.match(etree.QName(root).text.partition("}")[0].lstrip("{"))
        self.source = f"ddi-lifecycle-3.{match.group(1)}" if match else "ddi-lifecycle"
        self.provenance = doc.provenance(self.source, record_key)
        self.by_id: dict[str, _Element] = {}
        self.by_urn: dict[str, _Element] = {}
        self._index()
        self.code_lists: dict[str, list[Category]] = {}
        self.affiliations: dict[str, str] | None = None

    def _index(self) -> None:
        for tag, index in (("{*}ID", self.by_id), ("{*}URN", self.by_urn)):
            for element in self.root.iter(tag):
                self.meter.check()
                parent = element.getparent()
                if parent is not None and not _local(parent).endswith("Reference") and element.text:
                    index.setdefault(element.text.strip(), parent)

    def resolve(self, reference: _Element | None) -> _Element | None:
        key = self._key(reference)
        if key is None:
            return None
        return self.by_urn.get(key) or self.by_id.get(key.split(":")[-2] if key.startswith("urn:")
                                                      and key.count(":") >= 4 else key)

    @staticmethod
    def _key(reference: _Element | None) -> str | None:
        for name in ("URN", "ID"):
            if (element := _kid(reference, name)) is not None and element.text:
                return element.text.strip()
        return None

    def _resolved(self, element: _Element, name: str) -> list[_Element]:
        """Children named `name`, inline or through `<name>Reference`."""
        items = []
        for child in element:
            kind = _local(child)
            if kind == name:
                items.append(child)
            elif kind == f"{name}Reference" and (target := self.resolve(child)) is not None:
                items.append(target)
        return items

    def _strings(self, element: _Element | None, block: bool = False) -> list[Text]:
        """Texts of an r:String / r:Content holder (Title, Label, Description, names...)."""
        if element is None:
            return []
        holders = [child for child in element if _local(child) in ("String", "Content")]
        return _texts(holders or [element], element.get(XML_LANG) or self.lang, block)

    def _named(self, element: _Element, *names: str, block: bool = False) -> list[Text]:
        return [text for name in names for holder in _kids(element, name)
                for text in self._strings(holder, block)]

    def parse(self) -> ParseResult:
        result = ParseResult()
        studies = self._studies(result)
        instruments = self._instruments(result, studies)
        question_ids = {key: question_id for _, _, mapping in instruments
                        for key, question_id in mapping.items()}
        question_owners = {key: instrument.id for instrument, _, mapping in instruments
                           for key in mapping}
        id_prefix = studies[0][1].id if studies else self._container_id(
            {instrument.id for instrument, _, _ in instruments})
        self._variables(result, studies, _Owners(id_prefix, question_owners, [
            instrument.id for instrument, _, _ in instruments]), question_ids)
        return result

    def _container_id(self, taken: set[str]) -> str:
        """Id prefix for variables outside any titled study: the instance's title. It must differ
        from the instruments' ids, or a variable `HS1` would take the id of question `HS1`."""
        citation = _kid(self.root, "Citation")
        title = _main(self._named(citation, "Title")) if citation is not None else None
        container = slug(title or self._key(self.root) or self.doc.location.rsplit("/", 1)[-1])
        return child_id(container, "variables") if container in taken else container

    def _container_study(self, study_id: str) -> Study:
        """A study to hold variables when the document describes neither a titled study nor an
        instrument (a bare VariableScheme): titled by the instance's citation, else the file."""
        citation = _kid(self.root, "Citation")
        titles = self._named(citation, "Title") if citation is not None else []
        title = _main(titles) or clean(self.doc.location.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                                       .replace("_", " ")) or study_id
        return Study(id=study_id, title=title, titles=titles or [Text(value=title)],
                     language=_languages(titles), provenance=self.provenance.model_copy(
                         update={"record_key": self.record_key or self._key(self.root)}))

    # studies

    def _studies(self, result: ParseResult) -> list[tuple[_Element, Study]]:
        studies = []
        for unit in self.root.iter("{*}StudyUnit"):
            try:
                study = self._study(unit)
            except ValueError as error:
                result.problems.append(Problem(record=self._key(unit), reason=f"StudyUnit skipped: {error}"))
                continue
            if study is not None:
                studies.append((unit, study))
                result.records.append(study)
        return studies

    def _study(self, unit: _Element) -> Study | None:
        citation = _kid(unit, "Citation")
        titles = self._named(citation, "Title") if citation is not None else []
        title = _main(titles)  # None only when there are no titles
        if citation is None or title is None:
            return None  # an INSEE questionnaire's StudyUnit only holds its instrument
        all_titles = titles + self._named(citation, "AlternateTitle")
        abstracts = _joined_by_lang([t for a in _kids(unit, "Abstract") for t in self._strings(a, True)])
        identifiers = self._study_identifiers(unit, citation)
        funders, grants = self._funding(unit)
        identifiers += [Identifier(scheme="grant", value=grant) for grant in grants]
        doi = next((i.value for i in identifiers if i.scheme == "doi"), None)
        coverage = _kid(unit, "Coverage")
        publisher = next(iter(self._agents(citation, "Publisher")), None)
        record_key = self.record_key or self._key(unit)
        return Study(
            id=slug(title), title=title, titles=all_titles,
            description=_main(abstracts), descriptions=abstracts,
            identifiers=_unique_identifiers(identifiers),
            keywords=_unique(t.value for t in
                             _texts(_path(coverage, "TopicalCoverage", "Keyword"), self.lang)),
            topics=self._topics(coverage),
            url=f"https://doi.org/{doi}" if doi else None,
            language=_languages(all_titles, abstracts),
            provenance=self.provenance.model_copy(update={
                "record_key": record_key, "catalogue": publisher.name if publisher else None}),
            creators=self._agents(citation, "Creator"), publisher=publisher,
            funders=funders, grant_numbers=grants,
            temporal_coverage=self._temporal(coverage), spatial_coverage=self._places(coverage),
            sample_size=self._sample_size(unit),
            study_design=self._method(unit, "TimeMethod", "TypeOfTimeMethod"),
            resource_type="; ".join(_unique(t.value for t in self._named(unit, "KindOfData"))) or None,
            license=self._licence(unit),
            date_published=self._date(_kid(citation, "PublicationDate")),
            universe=[t for u in self._resolved(unit, "Universe") for t in self._universe(u)],
            methods=self._methods(unit),
            extra={name: value for name, value in {
                "ddi_id": self._key(unit), "subtitle": _main(self._named(citation, "SubTitle")),
            }.items() if value},
        )

    def _study_identifiers(self, unit: _Element, citation: _Element) -> list[Identifier]:
        agency = _line(_kid(unit, "Agency"))
        identifiers = [_identifier(value, agency) for element in _kids(unit, "UserID")
                       if element.get("typeOfUserID", "").lower() not in ("versionnumber", "version")
                       and (value := _line(element))]
        for international in _kids(citation, "InternationalIdentifier"):
            value = _line(_kid(international, "IdentifierContent"))
            if value:
                identifiers.append(_identifier(value, _line(_kid(international, "ManagingAgency"))))
        return identifiers

    def _agents(self, citation: _Element | None, role: str) -> list[Agent]:
        """Creators or publishers, named inline or through a reference to the OrganizationScheme."""
        agents: dict[str, Agent] = {}
        for holder in _kids(citation, role) if citation is not None else ():
            for name_holder in _kids(holder, f"{role}Name"):
                if name := _main(self._strings(name_holder)):
                    agents.setdefault(name, _agent(name, clean(name_holder.get("affiliation"))))
            for reference in _kids(holder, f"{role}Reference"):
                if (agent := self._referenced_agent(reference)) is not None:
                    agents.setdefault(agent.name, agent)
        return list(agents.values())

    def _referenced_agent(self, reference: _Element) -> Agent | None:
        target = self.resolve(reference)
        if target is None:
            return None
        name = self._agent_name(target)
        if not name:
            return None
        if _local(target) == "Individual":
            return Agent(type="Person", name=name, affiliation=self._affiliation(target))
        return Agent(type="Organization", name=name)

    def _agent_name(self, agent: _Element | None) -> str | None:
        """Name of an OrganizationScheme Individual or Organization."""
        names = (_path(agent, "IndividualIdentification", "IndividualName", "FullName")
                 + _path(agent, "OrganizationIdentification", "OrganizationName"))
        return _main([text for element in names for text in self._strings(element)])

    def _affiliation(self, individual: _Element) -> str | None:
        """Affiliations live in OrganizationScheme/Relation: individual (source) -> organisation."""
        if self.affiliations is None:
            self.affiliations = {}
            for relation in self.root.iter("{*}Relation"):
                sources = _path(relation, "SourceObject", "IndividualReference")
                targets = _path(relation, "TargetObject", "OrganizationReference")
                name = self._agent_name(self.resolve(targets[0])) if targets else None
                if sources and name:
                    self.affiliations.setdefault(self._key(sources[0]) or "", name)
        return self.affiliations.get(self._key(individual) or "")

    def _funding(self, unit: _Element) -> tuple[list[Agent], list[str]]:
        funders: dict[str, Agent] = {}
        grants: list[str] = []
        for funding in _kids(unit, "FundingInformation"):
            for reference in _kids(funding, "AgencyOrganizationReference"):
                if (agent := self._referenced_agent(reference)) is not None:
                    funders.setdefault(agent.name, agent.model_copy(update={"role": "funder"}))
            grants += [number for element in _kids(funding, "GrantNumber") if (number := _line(element))]
        return list(funders.values()), _unique(grants)

    def _topics(self, coverage: _Element | None) -> list[str]:
        subjects = _path(coverage, "TopicalCoverage", "Subject")
        return _unique(t.value for t in _texts(subjects, self.lang))

    def _temporal(self, coverage: _Element | None) -> str | None:
        starts: list[str] = []
        ends: list[str] = []
        singles: list[str] = []
        for reference_date in _path(coverage, "TemporalCoverage", "ReferenceDate"):
            for child in reference_date:
                date = _iso_date(child.text)
                kind = _local(child)
                if date and kind in ("StartDate", "EndDate", "SimpleDate"):
                    (starts if kind == "StartDate" else ends if kind == "EndDate" else singles).append(date)
        return _interval(starts, ends, singles)

    def _places(self, coverage: _Element | None) -> list[str]:
        names: list[Text] = []
        for spatial in _path(coverage, "SpatialCoverage"):
            for location in self._resolved(spatial, "GeographicLocation"):
                for value in _path(location, "LocationValue", "LocationValueName"):
                    names += self._strings(value)
            if not names:
                names += self._named(spatial, "Description")
        return _in_main_lang(names)

    def _universe(self, universe: _Element) -> list[Text]:
        return self._named(universe, "Description", block=True) or self._named(universe, "Label")

    def _sample_size(self, unit: _Element) -> int | None:
        for instance in self._resolved(unit, "PhysicalInstance"):
            for quantity in _path(instance, "GrossFileStructure", "CaseQuantity"):
                if (cases := _integer(_line(quantity))) is not None:
                    return cases
        return None

    def _methodologies(self, unit: _Element) -> list[_Element]:
        return [m for collection in self._resolved(unit, "DataCollection")
                for m in self._resolved(collection, "Methodology")]

    def _method(self, unit: _Element, name: str, type_name: str) -> list[str]:
        return _unique(_line(element) for methodology in self._methodologies(unit)
                       for element in _path(methodology, name, type_name))

    def _methods(self, unit: _Element) -> dict[str, list[str]]:
        modes = [_line(element) for collection in self._resolved(unit, "DataCollection")
                 for element in _path(collection, "CollectionEvent", "ModeOfCollection",
                                      "TypeOfModeOfCollection")]
        methods = {
            "time_method": self._method(unit, "TimeMethod", "TypeOfTimeMethod"),
            "sampling_procedure": self._method(unit, "SamplingProcedure", "TypeOfSamplingProcedure"),
            "collection_mode": _unique(modes),
            "analysis_unit": _unique(_line(element) for element in _kids(unit, "AnalysisUnit")),
        }
        return {key: values for key, values in methods.items() if values}

    def _licence(self, unit: _Element) -> str | None:
        access = [t for item in _path(unit, "Archive", "ArchiveSpecific", "Item", "Access")
                  for t in self._named(item, "Description", block=True)]
        return _licence(t.value for t in access) or _main(access)

    @staticmethod
    def _date(holder: _Element | None) -> str | None:
        for child in holder if holder is not None else ():
            if date := _iso_date(child.text):
                return date
        return None

    # instruments and questions

    def _instruments(self, result: ParseResult, studies: list[tuple[_Element, Study]]
                     ) -> list[tuple[Instrument, list[Question], dict[str, str]]]:
        instruments = []
        used = _Ids(study.id for _, study in studies)  # an instrument titled like its study needs its own id
        elements = list(self.root.iter("{*}Instrument"))
        for element in elements:
            instrument, questions, mapping = self._instrument(element, used, result, len(elements) == 1)
            instruments.append((instrument, questions, mapping))
            result.records.append(instrument)
            result.records.extend(questions)
            result.relations.extend(Relation(subject=instrument.id, predicate=Predicate.HAS_QUESTION,
                                             object=question.id) for question in questions)
            for unit, study in studies:
                if any(ancestor is unit for ancestor in element.iterancestors("{*}StudyUnit")):
                    study.instruments.append(instrument.title)
                    result.relations.append(Relation(subject=study.id, predicate=Predicate.USES_INSTRUMENT,
                                                     object=instrument.id))
        return instruments

    def _instrument(self, element: _Element, used: _Ids, result: ParseResult, only: bool
                    ) -> tuple[Instrument, list[Question], dict[str, str]]:
        citation = _kid(element, "Citation")
        labels = self._named(element, "Label") or self._named(element, "InstrumentName") \
            or (self._named(citation, "Title") if citation is not None else [])
        title = _main(labels) or self._key(element) or "instrument"
        instrument_id = used.unique(slug(title))
        items = self._flow(element, only)
        questions: list[Question] = []
        mapping: dict[str, str] = {}
        question_ids = _Ids()
        for item in items:
            self.meter.check(self._key(item))
            try:
                question = self._question(item, instrument_id, len(questions) + 1, question_ids)
            except ValueError as error:
                result.problems.append(Problem(record=self._key(item), reason=f"question skipped: {error}",
                                               raw=_raw(item)))
                continue
            questions.append(question)
            mapping[self._key(item) or question.id] = question.id
        instrument = Instrument(
            id=instrument_id, title=title, titles=labels,
            description=_main(self._named(element, "Description", block=True)),
            language=_languages(*(q.titles for q in questions)), question_count=len(questions),
            provenance=self.provenance.model_copy(
                update={"record_key": self.record_key or self._key(element)}),
            extra={key: value for key, value in {
                "name": _main(self._named(element, "InstrumentName")), "ddi_id": self._key(element),
                "type": _line(_kid(element, "TypeOfInstrument"))}.items() if value},
        )
        return instrument, questions, mapping

    def _flow(self, instrument: _Element, only: bool) -> list[_Element]:
        """Questions in the order the instrument's control constructs reach them (sequences,
        if-then-else branches, loops); questions the flow never reaches follow in document order."""
        questions: list[_Element] = []
        seen: set[str] = set()
        stack: list[Iterator[_Element]] = [instrument.iter(*_FLOW_TAGS)]
        while stack:
            reference = next(stack[-1], None)
            if reference is None:
                stack.pop()
                continue
            key = self._key(reference)
            target = self.resolve(reference) if key not in seen else None
            seen.add(key or "")
            if target is None:
                continue
            if _local(target) in _QUESTION_KINDS:
                questions.append(target)
            else:
                stack.append(target.iter(*_FLOW_TAGS))
        if only:
            reached = {self._key(q) for q in questions}
            questions += [q for q in self.root.iter("{*}QuestionItem", "{*}QuestionGrid")
                          if self._key(q) not in reached and _local(q.getparent()) == "QuestionScheme"]
        return questions

    def _question(self, item: _Element, instrument_id: str, position: int, used: _Ids) -> Question:
        name = _main(self._named(item, "QuestionItemName", "QuestionGridName"))
        texts = self._question_texts(item)
        title = _main(texts) or name
        if not title:
            raise ValueError(f"<{_local(item)}> has neither a text nor a name")
        instructions = [t for reference in _kids(item, "InterviewerInstructionReference")
                        if (instruction := self.resolve(reference)) is not None
                        for t in self._literal_texts(_path(instruction, "InstructionText"))]
        return Question(
            id=used.unique(child_id(instrument_id, name or str(position))), title=title,
            titles=texts, description=_main(instructions), descriptions=instructions,
            language=_languages(texts), instrument_id=instrument_id, number=name, position=position,
            options=self._response_categories(item),
            provenance=self.provenance.model_copy(update={"record_key": self._key(item)}),
            extra={"ddi_id": self._key(item)} if self._key(item) else {},
        )

    def _literal_texts(self, holders: list[_Element]) -> list[Text]:
        """QuestionText / InstructionText: LiteralText fragments per language, VTL made readable."""
        by_lang: dict[str | None, list[str]] = {}
        for holder in holders:
            for literal in holder.iter("{*}LiteralText"):
                for text in _kids(literal, "Text"):
                    lang = text.get(XML_LANG) or holder.get(XML_LANG) or self.lang
                    by_lang.setdefault(lang, []).append(_raw_text(text))
        texts = [Text(value=value, lang=lang) for lang, parts in by_lang.items()
                 if (value := strip_markup(_readable("".join(parts))))]
        return texts

    def _question_texts(self, item: _Element) -> list[Text]:
        return self._literal_texts(list(_kids(item, "QuestionText")))

    def _response_categories(self, item: _Element) -> list[Category]:
        """Options from the item's response domains; a grid's dimensions are rows, not options."""
        categories: list[Category] = []
        seen: set[str] = set()
        for child in item:
            kind = _local(child)
            if "Domain" not in kind or kind == "GridDimension":
                continue
            for reference in child.iter("{*}CodeListReference"):
                key = self._key(reference) or ""
                if key not in seen:
                    seen.add(key)
                    categories += self._code_list(reference)
        return categories

    def _code_list(self, reference: _Element) -> list[Category]:
        key = self._key(reference) or ""
        if key not in self.code_lists:
            code_list = self.resolve(reference)
            self.code_lists[key] = [] if code_list is None else [
                category for code in code_list.iter("{*}Code") for category in self._code(code)]
        return self.code_lists[key]

    def _code(self, code: _Element) -> list[Category]:
        value = _line(_kid(code, "Value"))
        category = self.resolve(_kid(code, "CategoryReference"))
        labels = [] if category is None else self._named(category, "Label")
        missing = category is not None and category.get("missing") == "true"
        if not labels and value:
            labels = [Text(value=value, lang=None)]
        return [Category(value=value, label=_readable(label.value), lang=label.lang, missing=missing)
                for label in labels]

    # variables

    def _variables(self, result: ParseResult, studies: list[tuple[_Element, Study]], owners: _Owners,
                   question_ids: dict[str, str]) -> None:
        """Every variable under a parent: the StudyUnit that holds it, else the file's only (or
        first) study, else the instrument whose question it is bound to, else the file's first
        instrument, else a study made for the document. INSEE's Pogues/Eno questionnaires have
        a StudyUnit with no title and one instrument: their variables belong to the instrument."""
        in_unit = {}
        for unit, unit_study in studies if len(studies) > 1 else ():
            in_unit.update({self._key(v): unit_study for v in unit.iter("{*}Variable")})
        first = studies[0][1] if studies else None
        used = _Ids()
        counts: dict[str, int] = {}
        for element in self.root.iter("{*}Variable"):
            self.meter.check(self._key(element))
            study = in_unit.get(self._key(element), first)
            try:
                variable, question_key = self._variable(element, study, owners.id_prefix, used)
            except ValueError as error:
                result.problems.append(Problem(record=self._key(element), reason=f"Variable skipped: {error}",
                                               raw=_raw(element)))
                continue
            parent_id = variable.study_id
            if parent_id is None:
                parent_id = owners.parent_of(question_key)
                if parent_id is None:
                    parent_id = owners.id_prefix
                    result.records.append(self._container_study(parent_id))
                    owners.instrument_ids.append(parent_id)  # made once, reused
                variable = variable.model_copy(update={"study_id": parent_id})
            result.records.append(variable)
            counts[parent_id] = counts.get(parent_id, 0) + 1
            result.relations.append(Relation(subject=parent_id, predicate=Predicate.HAS_VARIABLE,
                                             object=variable.id))
            if question_key in question_ids:
                result.relations.append(Relation(subject=variable.id, predicate=Predicate.MEASURED_BY,
                                                 object=question_ids[question_key]))
        for _, study in studies:
            study.variable_count = counts.get(study.id) or study.variable_count

    def _variable(self, element: _Element, study: Study | None, id_prefix: str,
                  used: _Ids) -> tuple[Variable, str | None]:
        name = _main(self._named(element, "VariableName")) or self._key(element)
        if not name:
            raise ValueError("<Variable> has neither a VariableName nor an ID")
        # Pogues writes "PL3 label" where nobody wrote a label: it names nothing
        labels = [label for label in self._named(element, "Label")
                  if not _placeholder_label(label.value, name)]
        question_reference = _kid(element, "QuestionReference")
        question = self.resolve(question_reference)
        representation = _kid(element, "VariableRepresentation")
        code_lists = list(representation.iter("{*}CodeListReference")) if representation is not None else []
        categories = [c for reference in code_lists[:1] for c in self._code_list(reference)]
        if not categories and question is not None:
            categories = self._response_categories(question)
        questions = self._question_texts(question) if question is not None else []
        title = _main(labels) or _main(questions) or _readable_name(name)
        variable = Variable(
            id=used.unique(child_id(study.id if study else id_prefix, name)), name=name,
            study_id=study.id if study else None, title=title,
            titles=labels or [Text(value=title, lang=_main_lang(questions))],
            description=_main(self._named(element, "Description", block=True)),
            language=_languages(labels, questions),
            provenance=self.provenance.model_copy(update={"record_key": self._key(element)}),
            question_texts=questions, categories=categories,
            universe=[t for u in self._resolved(element, "Universe") for t in self._universe(u)],
            concepts=_unique(_main(self._named(c, "Label") or self._named(c, "ConceptName"))
                             for c in self._resolved(element, "Concept")),
            data_type=self._data_type(representation),
            extra={"ddi_id": self._key(element)} if self._key(element) else {},
        )
        return variable, self._key(question)

    @staticmethod
    def _data_type(representation: _Element | None) -> str | None:
        for child in representation if representation is not None else ():
            kind = _local(child)
            if kind.endswith(("Representation", "RepresentationReference")):
                return kind.replace("RepresentationReference", "").replace("Representation", "").lower()
        return None
