"""Human titles for documents that do not state one in a field: questionnaire headers, file names
and the collection codes that longitudinal studies put in front of them.

A questionnaire's text layer opens with its name ("Short General Health Questionnaire (GHQ 12)",
"Year 11 Questionnaire / for Young People") among page numbers, dates, form fields, copyright
lines and instructions. `header_title` reads the lines before the first item and picks the line
that names an instrument, else the first line set as a heading; `file_title` cleans a file name
when the header offers nothing. File names such as `uk.alspac_<uuid>` carry a CLOSER agency code
(the study) and a UUID: `collection_of` turns the code into the study's name, and the UUID is
never shown.

Measured on the 84 annotated Harmony questionnaires of the shared corpus: every title was read by
eye; files whose header holds only instructions keep their file name.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from discovery.sources.base import clean

# ---------------------------------------------------------------- collections


@dataclass(frozen=True)
class Collection:
    """A study that names its documents `<agency code>_<uuid>` (CLOSER Discovery agency codes)."""

    code: str
    short: str  # the title prefix: "ALSPAC: Year 11 Questionnaire for Young People"
    name: str  # the full name, kept as a keyword
    aliases: tuple[str, ...] = ()  # how its documents name the study in their headers


COLLECTIONS = {collection.code: collection for collection in (
    Collection("uk.alspac", "ALSPAC", "Avon Longitudinal Study of Parents and Children",
               ("Avon Longitudinal Study of Parents and Children", "Children of the Nineties",
                "ALSPAC")),
    Collection("uk.cls.bcs70", "BCS70", "1970 British Cohort Study",
               ("BCS70 - 1970 British Cohort Study", "1970 British Cohort Study (BCS70)",
                "1970 British Cohort Study", "British Cohort Study", "BCS70")),
    Collection("uk.cls.mcs", "MCS", "Millennium Cohort Study", ("Millennium Cohort Study",)),
    Collection("uk.cls.ncds", "NCDS", "National Child Development Study",
               ("National Child Development Study",)),
    Collection("uk.cls.nextsteps", "Next Steps", "Next Steps (Longitudinal Study of Young "
               "People in England)", ("Longitudinal Study of Young People in England",)),
    Collection("uk.cls", "CLS", "Centre for Longitudinal Studies"),
    Collection("uk.lha", "NSHD", "MRC National Survey of Health and Development",
               ("National Survey of Health and Development",)),
    Collection("uk.mrcleu-uos.hcs", "Hertfordshire Cohort Study", "Hertfordshire Cohort Study "
               "(MRC Lifecourse Epidemiology Unit, University of Southampton)",
               ("Hertfordshire Cohort Study", "Hertfordshire 31-39 Study", "Hertfordshire 31-39")),
    Collection("uk.mrcleu-uos.sws", "Southampton Women's Survey", "Southampton Women's Survey "
               "(MRC Lifecourse Epidemiology Unit, University of Southampton)",
               ("Southampton Women's Survey",)),
    Collection("uk.mrcleu-uos.heaf", "HEAF", "Health and Employment After Fifty",
               ("Health and Employment After Fifty",)),
    Collection("uk.iser.ukhls", "Understanding Society",
               "Understanding Society: the UK Household Longitudinal Study",
               ("Understanding Society",)),
    Collection("uk.wchads", "WCHADS", "Wirral Child Health and Development Study",
               ("Wirral Child Health and Development Study",)),
    Collection("uk.genscot", "Generation Scotland", "Generation Scotland",
               ("Generation Scotland",)),
    Collection("uk.whitehall2", "Whitehall II", "Whitehall II Study", ("Whitehall II",)),
)}

_AGENCY_NAME = re.compile(r"^(uk(?:\.[a-z0-9-]+)+?)(?:[_/: ]+(.*))?$", re.I)
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


def collection_of(name: str) -> tuple[Collection, str] | None:
    """The collection an agency-coded name belongs to, and what follows the code with any UUID
    removed: "uk.alspac_90b780c5-..." -> (ALSPAC, ""). An unknown `uk.<unit>.<study>` code gets
    its last part, upper-cased, as short name."""
    match = _AGENCY_NAME.match(name.strip())
    if not match:
        return None
    code = match.group(1).lower()
    rest = clean(_UUID.sub(" ", match.group(2) or "").replace("_", " ")) or ""
    collection = COLLECTIONS.get(code)
    if collection is None:
        if not _UUID.search(name):  # "uk.gov" in prose is no collection code
            return None
        last = code.rsplit(".", 1)[-1].upper()
        collection = Collection(code, last, last)
    return collection, rest


def collection_title(collection: Collection, title: str | None) -> str:
    """"ALSPAC: MY TEETH"; a document with no title of its own is "ALSPAC questionnaire"."""
    return f"{collection.short}: {title}" if title else f"{collection.short} questionnaire"


def named_collection(value: str) -> tuple[str, str] | None:
    """A readable title and the full study name for a study column holding an agency-coded
    name: "UK.MRCLEU-UOS.SWS/420A7207-..." -> ("Southampton Women's Survey", "Southampton
    Women's Survey (MRC Lifecourse Epidemiology Unit, University of Southampton)")."""
    found = collection_of(value)
    if found is None or not _UUID.search(value):
        return None
    collection, rest = found
    return (f"{collection.short}: {rest}" if rest else collection.short), collection.name


# ---------------------------------------------------------------- file names

_NUMBER_PREFIX = re.compile(r"^\d{1,4}[_\s.-]+(?=\S)")


def file_stem(location: str) -> str:
    return PurePosixPath(unquote(urlsplit(location).path)).stem


def file_title(location: str) -> str:
    """A title from a file name, for when the document names nothing better:
    `021_sdqenglishukpt417single.txt` -> "sdqenglishukpt417single", `094_womac-osteoarthritis-
    index.txt` -> "womac osteoarthritis index", `GAD-7_Portuguese.csv` -> "GAD-7 Portuguese".
    Run-together names stay as they are: no dictionary splits them reliably."""
    stem = _NUMBER_PREFIX.sub("", file_stem(location))
    text = stem.replace("_", " ")
    if " " not in text and text.count("-") >= 2:
        text = text.replace("-", " ")
    return clean(text) or clean(stem) or "untitled"


# ---------------------------------------------------------------- questionnaire headers

# words that make a line the name of an instrument: the first list before the second
_NAMES_INSTRUMENT = re.compile(
    r"\b(questionnaires?|question[aá]rios?|cuestionarios?|fragebogen|scales?|escalas?|[ée]chelle|"
    r"inventor(?:y|ies)|invent[aá]rios?|checklists?|index|[íi]ndice|screeners?|tests?|testes?|"
    r"assessments?|avalia[çc][ãa]o|interviews?|entrevistas?|schedules?)\b", re.I)
_NAMES_MEASURE = re.compile(
    r"\b(surveys?|measures?|instruments?|tools?|screening|screen|study|studies|protocol|"
    r"protocolo|battery|profile|rating|forms?)\b", re.I)
# a line made only of these words says "a questionnaire" but not which one
_GENERIC_WORDS = frozenset(
    "questionnaire questionnaires questionário questionario form self-completion self-complete "
    "self-report self report completion for the a an of and about adult adults child children "
    "parent parents young people pink blue lilac green yellow white main short long version my "
    "your own our this first second third fourth fifth sixth seventh eighth ninth tenth".split())
_SMALL_WORDS = frozenset(
    "a an and the of for to in on at by or with from as is are de da do das dos e em para com "
    "la le les des du et en y el del und der die für".split())

_SKIP = re.compile("|".join((
    r"^\W*(?:page|p\.|pág(?:ina)?)\s*\d",  # page numbers
    r"\bpage\s+\d+\s*(?:of|/)\s*\d+",
    r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}\b",  # dates
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december)\s+\d{4}\b",
    r"\blast updated\b",
    r"©|\bcopyright\b|\(c\)\s*\d{4}|all rights reserved|\breproduced\b|\bpermission\b",
    r"https?:|www\.|\S+@\S+\.\w|\.(?:org|com|net)\b",  # addresses
    r"\.(?:sav|dta|docx?|pdf|txt|xlsx?|csv)\b",  # file names
    r"_{3,}|\|_|\(\s+\)|\[\s+\]|\.{4,}|…",  # blanks to fill in, tick boxes, leaders
    r"\s>\s.*\s>\s|>\s*$",  # breadcrumbs
    r"^\(\s*[A-Z0-9_]+\s*\)",  # "(CHESNO) CHES Number": an annotated variable code
    r"\bvariables? (?:names?|in dataset)\b",
    r"\b(?:questions|perguntas|items|itens|preguntas)\b",  # "These questions are about..."
    r"\((?:19|20)\d\d[a-z]?\)|\bet al\b|\b(?:19|20)\d\d\)?[;:]\s*\d",  # citations
    # form fields, instructions, boilerplate
    r"^\W*(?:name|nome|nombre|date|data|dob|d\.o\.b|id|id#|ref|serial|address|endere[çc]o|"
    r"telephone|phone|gp|sex|gender|age|idade|subject|visit|cent(?:re|er) id|trial|respondent|"
    r"interviewer|barcode|batch|provider|diagnosis|score|total|participant|username|"
    r"access code|questionnaire (?:no|number)|child no|school|class)\b\W*(?:[:_#]|no\b|$)",
    r"^\W*(?:please|use (?:a|an|the|crosses|ticks?|black|blue|pen|pencil|only|one|this)|"
    r"remember|if|to (?:answer|code|complete|fill)|for (?:each|example|office)|below|"
    r"instructions?|directions?|read|mark|tick|circle|choose|answer|don'?t|do not|thank|thanks|"
    r"note|nota|source|fonte|references?|ref[:.]|scoring|score|how to|filling|"
    r"we (?:would|are|hope|want|will|need|may|have|ask|thank)|"
    r"you (?:will|may|can|should|are|have|must|might|need)|your answers|all answers|"
    r"this (?:form|questionnaire|survey|booklet|is)|the (?:following|purpose|aim)|"
    r"confidential\W*$|recycled|start with|go to|leia|por favor|marque|responda|"
    r"este question[aá]rio|seu nome|obrigad|version \d|vers[ãa]o \d|"
    r"rights (?:granted|holder|reserved)|contents\W*$|co-?authors?|supported by|developed by|"
    r"adapted (?:from|by|with)|description\s*(?::|of\b)|abstracts? of|interpretation)(?!\w)",
)), re.I)
_ORGANISATION = re.compile(
    r"\b(universit\w*|institut\w*|college|cent(?:re|er)|department|unit|hospital|foundation|"
    r"services|inc|ltd|plc|council|faculdade|faculty)\b", re.I)
_SECTION = re.compile(r"^\W*(?:section|part|sec[çc][ãa]o|se[çc][ãa]o|parte)\s+[A-Z0-9IVX]+\b",
                      re.I)
_SENTENCE_INSIDE = re.compile(r"[a-z]{2}[.!?]\s+[A-Z]")
_COLUMN_GAP = re.compile(r"\S\s{3,}\S")
_SPACED_LETTERS = re.compile(r"(?<!\w)[^\W\d_](?: [^\W\d_]){2,}(?!\w)")
_DOUBLED = re.compile(r"^(?:(\w)\1)+$")
_LABEL = re.compile(r"^(?:measure|title|instrument|name of (?:the )?(?:measure|instrument))\s*:\s*",
                    re.I)
_WORD = re.compile(r"\S+")
_CONNECTIVE_END = re.compile(r"(?:[-–—/&]|\b(?:" + "|".join(_SMALL_WORDS) + r"))$", re.I)
_CONNECTIVE_START = re.compile(r"^(?:" + "|".join(_SMALL_WORDS) + r")\b", re.I)
_PARENTHESISED = re.compile(r"^[(\[][^()\[\]\s]*(?:\s[^()\[\]\s]*)?[)\]]$")

MAX_TITLE_WORDS = 14
SEARCHED_LINES = 40  # instrument names further down the header are headings of the body


@dataclass(frozen=True)
class HeaderTitle:
    """A title read from a document's header; `names_instrument` when it has a word such as
    "questionnaire" or "scale" in it (a stronger claim than a bare heading)."""

    title: str
    names_instrument: bool


@dataclass(frozen=True)
class _Line:
    position: int  # among the lines that hold anything: blank lines keep lines together
    text: str
    usable: bool  # could be (the start of) a title; other lines may still continue one


def tidy_line(line: str) -> str | None:
    """One header line as words: letter-spaced words joined ("C h i l d" -> "Child"), a table
    row cut to its first cell, spaces collapsed; None when nothing of a heading is left."""
    text = line.replace("\t", "   ").strip()
    text = _SPACED_LETTERS.sub(lambda match: match.group(0).replace(" ", ""), text)
    if _COLUMN_GAP.search(text):
        cells = re.split(r"\s{3,}", text)
        if text.isupper() and len(cells) <= 4 and all(" " not in cell for cell in cells):
            text = " ".join(cells)  # a heading set with wide spaces: "MY    DAUGHTER"
        elif len(cells[0].split()) >= 2:
            text = cells[0]  # a table row: its first cell
        else:
            return None
    return clean(text)


def header_title(lines: list[str], collection: Collection | None = None) -> HeaderTitle | None:
    """The title a questionnaire's header lines (those before its first item) give it: the
    first line that names an instrument ("...Questionnaire", "...Scale"; then "...Survey",
    "...Measure"), else the first line set as a heading."""
    header = _lines(lines, collection)
    usable = [index for index, line in enumerate(header) if line.usable][:SEARCHED_LINES]
    for pattern in (_NAMES_INSTRUMENT, _NAMES_MEASURE):
        for index in usable:
            text = header[index].text
            if pattern.search(text) and _heading_like(text, 0.5, pattern):
                if title := _complete(header, index, named=True):
                    return HeaderTitle(title, True)
    for index in usable:
        if _heading_like(header[index].text, 0.6):
            if title := _complete(header, index, named=False):
                return HeaderTitle(title, False)
    return None


def running_title(lines: list[str], collection: Collection | None = None) -> str | None:
    """A heading repeated on several pages (a running header or footer, "RCADS—Child / Young
    Person"): the title of a document whose first page names nothing."""
    texts = [line.text for line in _lines(lines, collection, stop_at_section=False)
             if line.usable]
    counts = Counter(texts)
    repeated = [text for text in dict.fromkeys(texts)
                if counts[text] >= 2 and len(_alphabetic(text.split())) >= 2
                and _heading_like(text, 0.6) and not _CONNECTIVE_END.search(text)]
    named = [text for text in repeated if _NAMES_INSTRUMENT.search(text)]
    found = named or repeated
    return found[0] if found else None


def _lines(lines: list[str], collection: Collection | None,
           stop_at_section: bool = True) -> list[_Line]:
    """The header's lines that hold words, in order; a section heading ("Section A", "PART 2")
    ends the header. The study's own name is taken out: the title prefix gives it."""
    header: list[_Line] = []
    position = -1
    for raw in lines:
        if not raw.strip():
            continue
        position += 1
        text = tidy_line(raw)
        if not text:
            continue
        if stop_at_section and _SECTION.match(text):
            break
        if collection is not None:
            text = _without_collection_name(text, collection)
            if not text:
                continue
        header.append(_Line(position, text, _usable(text)))
    return header


def _without_collection_name(text: str, collection: Collection) -> str | None:
    """A header line less the study's own name, which the title prefix already gives:
    "HERTFORDSHIRE 31-39 SOCIAL HEALTH" -> "SOCIAL HEALTH"; "1970 British Cohort Study" -> None."""
    for alias in sorted(collection.aliases, key=len, reverse=True):
        pattern = r"^\W*" + r"\s*".join(re.escape(word) for word in alias.split()) + r"(?!\w)"
        match = re.match(pattern, text, re.I)
        if match:
            return clean(text[match.end():].lstrip(" -–—:,")) or None
    return text


def _usable(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    if len(letters) < 2 or len(letters) < 0.6 * len(text.replace(" ", "")):
        return False  # codes, scores, numbered blanks
    if _SKIP.search(text) or _SENTENCE_INSIDE.search(text):
        return False
    if text.count("“") != text.count("”") or text.count('"') % 2:
        return False  # a quotation broken over lines
    words = text.split()
    if all(len(word) == 1 for word in words) or _DOUBLED.match("".join(letters)):
        return False
    if text[:1].islower() or text.startswith("("):
        return False
    if _ORGANISATION.search(text) and not _NAMES_INSTRUMENT.search(text):
        return False
    if text.endswith("?"):  # "Where Are You Now?" is a title, "Have you recently?" is not
        return all(word[:1].isupper() for word in words) and not text.isupper()
    return not text.endswith((".", ",", ";", ":", "!"))


def _heading_like(text: str, share: float, names: re.Pattern[str] | None = None) -> bool:
    """Short, and set as a heading: upper case, or most words capitalised. A line that opens
    with the instrument word may go on in lower case ("Questionnaire about children aged...")."""
    words = _WORD.findall(text)
    if len(words) > MAX_TITLE_WORDS or len(text) > 120 or text[:1].islower():
        return False
    if names is not None and names.match(text) and len(_alphabetic(words)) <= 10:
        return True
    content = [word for word in _alphabetic(words)
               if word.lower().strip("()[],:;") not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for word in content if next(c for c in word if c.isalpha()).isupper())
    return capitalised / len(content) >= share


def _alphabetic(words: list[str]) -> list[str]:
    return [word for word in words if any(char.isalpha() for char in word)]


def _generic(text: str) -> bool:
    words = [word.lower().strip("()[],:;.-") for word in text.split()]
    return all(word in _GENERIC_WORDS or not word for word in words)


def _complete(header: list[_Line], index: int, named: bool) -> str | None:
    """The chosen line with the lines that belong to it: a name broken over lines ("YOUR" /
    "OWN" / "QUESTIONNAIRE", "Year 11 Questionnaire" / "for Young People", "PHQ-" / "9"), an
    abbreviation below it ("(SF-36)"), the study or booklet above a bare "Questionnaire", the
    booklet's name below a "Mother/Daughter Questionnaire". None for a sentence broken over
    lines."""
    title = header[index].text
    if _generic(title):  # "QUESTIONNAIRE", "Self-completion Questionnaire"
        first = index
        while (first > max(0, index - 3) and _adjacent(header, first - 1)
               and header[first - 1].usable and len(header[first - 1].text.split()) <= 4
               and not _NAMES_INSTRUMENT.search(header[first - 1].text)):
            first -= 1
        before = [line.text for line in header[first:index]]
        if before:  # "YOUR OWN QUESTIONNAIRE", "Age 42 Survey – Self-completion Questionnaire"
            short = all(len(text.split()) <= 2 for text in before)
            title = f"{' '.join(before)}{' ' if short else ' – '}{title}"
    booklet_added = False
    last = index
    while last + 1 < len(header) and _adjacent(header, last):
        following = header[last + 1]
        text, words = following.text, following.text.split()
        if _CONNECTIVE_END.search(title) and len(words) <= 8 and not _SKIP.search(text):
            title = f"{title}{text}" if title.endswith(("-", "–", "—", "/")) else f"{title} {text}"
        elif (_CONNECTIVE_START.match(text) and len(words) <= 6 and not _SKIP.search(text)
              and not text.endswith((".", ",", ";", ":")) and not _NAMES_INSTRUMENT.search(text)):
            title = f"{title} {text}"
        elif _PARENTHESISED.match(text) or following.usable and _generic(text) and len(words) == 1:
            title = f"{title} {text}"
        elif (named and not booklet_added and following.usable and len(title.split()) <= 3
              and _NAMES_INSTRUMENT.fullmatch(title.split()[-1]) and text.isupper()
              and len(words) <= 6 and not _NAMES_INSTRUMENT.search(text)):
            title = f"{title} – {text}"  # "Mother/Daughter Questionnaire – GROWING AND CHANGING (4)"
            booklet_added = True
        elif (not named and following.usable and len(title.split()) <= 2 and len(words) <= 2
              and _heading_like(text, 0.99) and text.isupper() == title.isupper()):
            title = f"{title} {text}"  # "ALL AROUND" / "ME", "About" / "Eating"
        else:
            break
        last += 1
    title = _LABEL.sub("", title)
    if _CONNECTIVE_END.search(title) or title[:1].islower():
        return None
    return title


def _adjacent(header: list[_Line], index: int) -> bool:
    """Whether header[index] and header[index + 1] stand on consecutive lines."""
    return index + 1 < len(header) and header[index + 1].position == header[index].position + 1


def body_title(lines: list[str], collection: Collection | None = None) -> str | None:
    """The first line anywhere in a document that names an instrument and is set as a heading:
    the last resort before the file name, for a name printed below the items."""
    header = _lines(lines, collection, stop_at_section=False)
    for index, line in enumerate(header):
        if (line.usable and _NAMES_INSTRUMENT.search(line.text)
                and _heading_like(line.text, 0.5, _NAMES_INSTRUMENT)):
            if title := _complete(header, index, named=True):
                return title
    return None


# ---------------------------------------------------------------- a questionnaire's title


@dataclass(frozen=True)
class DocumentTitle:
    title: str
    alternatives: list[str]  # other names worth searching by (the file name, when it adds words)
    keywords: list[str]  # the collection's full name


def questionnaire_title(location: str, header: list[str], body: list[str] | None = None,
                        metadata_title: str | None = None) -> DocumentTitle:
    """The best title a questionnaire document offers, in this order: a header line naming an
    instrument, the title in the file's metadata (PDF), any other header heading, a running
    header or footer, a heading naming an instrument anywhere in the body, the file name.
    Collection files (`uk.alspac_<uuid>`) are titled "ALSPAC: <title>", never with the UUID."""
    found = collection_of(file_stem(location))
    collection, rest = found if found else (None, "")
    read = header_title(header, collection)
    if read and read.names_instrument:
        title: str | None = read.title
    else:
        title = metadata_title or (read.title if read else None)
    if not title and body:
        title = running_title(body, collection) or body_title(body, collection)
    if collection is not None:
        return DocumentTitle(collection_title(collection, title or rest or None), [],
                             [collection.name])
    from_file = file_title(location)
    if not title:
        return DocumentTitle(from_file, [], [])
    return DocumentTitle(title, [from_file] if _adds_words(from_file, title) else [], [])


def _adds_words(alternative: str, title: str) -> bool:
    """Whether a file-name title says something the title does not ("gad7anxietyupdated0" to
    "GAD-7 Anxiety" does; "ghq12" to "Short General Health Questionnaire (GHQ 12)" does not)."""
    compact = re.sub(r"[\W_]+", "", alternative.lower())
    return bool(compact) and compact not in re.sub(r"[\W_]+", "", title.lower())


# ---------------------------------------------------------------- stated sizes

_STATED_ITEMS = re.compile(r"(?<![\d.])(\d{1,3})[\s-]?items?\b", re.IGNORECASE)
_PARTIAL = re.compile(r"\+|\bonly\b|\bselected\b|\bsubscales?\b|\bplus\b|\band\b.*\bitems?\b.*\bitems?\b",
                      re.IGNORECASE)


def stated_items(title: str) -> int | None:
    """How many items a questionnaire's title says it has: "Geriatric Depression Scale (10-item)
    (GDS)" -> 10, "Diener Life Satisfaction (5 items)" -> 5. None where the title states no size
    or one that is not the whole list ("25-item + 5-item impact supplement", "7-items only",
    "15 selected items"), so a page can show the title's word beside the count its list has
    without doing sums the title does not."""
    found = _STATED_ITEMS.findall(title)
    if len(found) != 1 or _PARTIAL.search(title):
        return None
    return int(found[0])
