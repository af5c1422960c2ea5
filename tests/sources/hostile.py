"""Hostile inputs built from the real corpus files: huge DDI, XLSX bombs, slow PDFs and CSVs, and
random mutations of any corpus file; used by the budget and fuzz tests and by bench/fuzz.py.

Each builder returns bytes, so a test writes it to tmp_path and a benchmark to a folder; sizes are
parameters, so the suite builds small ones and the benchmark the full-sized ones of the issue.
"""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FSD_CODEBOOK = CORPUS / "ddi" / "ddi25_fsd3271_financial_awareness_finland_2014.xml"
WORKBOOK = CORPUS / "instruments" / "harmony_test_wellbeing_scales_list.xlsx"
VARIABLE_LIST = CORPUS / "instruments" / "variables_alspac_sws_advance_ahms_aesop_items.csv"


# ---------------------------------------------------------------- DDI

def codebook(megabytes: float, renamed: bool = True, var_name: str | None = None) -> bytes:
    """The FSD codebook with its 234 real `<var>` elements repeated to `megabytes`, each copy's
    names and IDs suffixed (`renamed`), or as they are; or only the `var_name` one repeated."""
    text = FSD_CODEBOOK.read_text(encoding="utf-8")
    start, end = text.index("<var "), text.rindex("</var>") + len("</var>")
    block = text[start:end]
    if var_name:
        block = re.search(rf'<var name="{var_name}">.*?</var>', block, re.S).group(0)
    target = int(megabytes * 1_000_000)
    parts, size, copy = [text[:start]], start + len(text) - end, 0
    while size < target:
        suffix = f"_{copy}"
        part = re.sub(r'(<var name="|ID=")([^"]+)"', rf'\g<1>\g<2>{suffix}"', block) if renamed else block
        parts.append(part + "\n")
        size += len(part.encode("utf-8")) + 1
        copy += 1
    parts.append(text[end:])
    return "".join(parts).encode("utf-8")


# ---------------------------------------------------------------- XLSX

_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
               '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{ref}"/>'
               '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
               '<c r="C1" t="s"><v>2</v></c></row>')
_SHEET_TAIL = "</sheetData></worksheet>"
# shared strings 0-2 are the corpus sheet's header (Questionnaire, Question #, Question text);
# 4 and 5 are a real instrument title and question of it


def _rows(n: int) -> Iterator[str]:
    """n rows of a real question, without row numbers: they deflate about 300 to 1."""
    yield _SHEET_HEAD.format(ref=f"A1:C{n + 1}")
    yield from ('<row><c t="s"><v>4</v></c><c><v>1</v></c><c t="s"><v>5</v></c></row>'
                for _ in range(n))
    yield _SHEET_TAIL


def _numbered_rows(n: int) -> Iterator[str]:
    """n rows of a real question with their numbers: they deflate about 9 to 1, like real ones."""
    yield _SHEET_HEAD.format(ref=f"A1:C{n + 1}")
    yield from (f'<row r="{r}"><c r="A{r}" t="s"><v>4</v></c><c r="B{r}"><v>{r}</v></c>'
                f'<c r="C{r}" t="s"><v>5</v></c></row>' for r in range(2, n + 2))
    yield _SHEET_TAIL


def _empty_rows(n: int) -> Iterator[str]:
    """n empty rows between the header and one real question."""
    yield _SHEET_HEAD.format(ref=f"A1:C{n + 2}")
    yield from ("<row/>" for _ in range(n))
    yield f'<row r="{n + 2}"><c t="s"><v>4</v></c><c/><c t="s"><v>5</v></c></row>' + _SHEET_TAIL


def _huge_dimension(n: int) -> Iterator[str]:
    """n real rows under a dimension that claims the whole grid, A1:XFD1048576."""
    yield _SHEET_HEAD.format(ref="A1:XFD1048576")
    yield from (f'<row r="{r}"><c r="A{r}" t="s"><v>4</v></c><c r="C{r}" t="s"><v>5</v></c></row>'
                for r in range(2, n + 2))
    yield _SHEET_TAIL


def _shared_strings(n: int) -> Iterator[str]:
    """The corpus workbook's shared strings and then n more."""
    with zipfile.ZipFile(WORKBOOK) as source:
        real = source.read("xl/sharedStrings.xml").decode("utf-8")
    yield real[:real.index("</sst>")]
    yield from ("<si><t>s</t></si>" for _ in range(n))
    yield "</sst>"


SHEETS = {"rows": _rows, "numbered_rows": _numbered_rows, "empty_rows": _empty_rows,
          "huge_dimension": _huge_dimension}


def workbook(kind: str, n: int) -> bytes:
    """The corpus workbook with its sheet (`SHEETS`) or its shared strings ("shared_strings")
    replaced by a bomb of size n."""
    out = io.BytesIO()
    with zipfile.ZipFile(WORKBOOK) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml" and kind in SHEETS:
                _write(target, info.filename, SHEETS[kind](n))
            elif info.filename == "xl/sharedStrings.xml" and kind == "shared_strings":
                _write(target, info.filename, _shared_strings(n))
            else:
                target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def _write(archive: zipfile.ZipFile, name: str, chunks: Iterator[str]) -> None:
    with archive.open(name, "w", force_zip64=True) as part:
        buffer: list[str] = []
        for chunk in chunks:
            buffer.append(chunk)
            if len(buffer) >= 4096:
                part.write("".join(buffer).encode("utf-8"))
                buffer = []
        part.write("".join(buffer).encode("utf-8"))


# ---------------------------------------------------------------- PDF and CSV

def pdf(pages: int, lines: int, line: bytes = b"1 0 0 1 72 700 Tm (Feeling nervous) Tj\n") -> bytes:
    """A PDF whose `pages` pages all draw one flate-compressed content stream of `lines` text
    operations (two operators each)."""
    content = zlib.compress(b"BT /F1 12 Tf\n" + line * lines + b"ET\n", 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
               + b"] /Count %d >>" % pages,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content
               + b"\nendstream"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << "
                b"/F1 3 0 R >> >> /Contents 4 0 R >>"] * pages
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def sniffer_csv(size: int) -> bytes:
    """The corpus variable list's header and first row, then a row of `size` bytes of `,"a`: quote
    openings that never close, which csv.Sniffer's regexes scan to the end from each."""
    header, first = VARIABLE_LIST.read_text(encoding="utf-8").splitlines()[:2]
    return (header + "\n" + first + "\n" + ',"a' * (size // 3) + "\n").encode("utf-8")


# ---------------------------------------------------------------- measuring a parse

_MEASURE = r"""
import json, sys, time
from pathlib import Path
from discovery.errors import DiscoveryError
from discovery.sources.base import Document
from discovery.sources.registry import parse_document

def peak():
    return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                if line.startswith("VmHWM"))

path = Path(sys.argv[1])
doc = Document(location=str(path), content=path.read_bytes())
start_peak, started = peak(), time.perf_counter()
outcome = {"records": None, "failure": None, "crash": None}
try:
    outcome["records"] = len(parse_document(doc).records)
except DiscoveryError as error:
    outcome["failure"] = error.one_line()
except BaseException as error:
    outcome["crash"] = f"{type(error).__name__}: {error}"
outcome["seconds"] = time.perf_counter() - started
outcome["peak_growth_mb"] = (peak() - start_peak) / 2**20
print(json.dumps(outcome))
"""


STARTUP_SECONDS = 30.0  # a fresh interpreter importing the parsers, on a loaded machine


def measure(path: Path, timeout: float) -> dict[str, object]:
    """Parse `path` in a fresh process, as `discovery ingest` would: seconds, growth of peak RSS
    (VmHWM) over the process before parsing, and records, failure or crash. A process still
    running after `timeout` seconds of parsing (plus its start) is killed and reported as such."""
    try:
        run = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                             text=True, timeout=timeout + STARTUP_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return {"timed_out": timeout}
    if run.returncode != 0:
        return {"exit": run.returncode, "stderr": run.stderr[-2000:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- fuzzing

TOKENS = (b"<", b">", b"</", b"/>", b"<var ", b"</var>", b"<q>", b"</q>", b"<o>", b"&amp;",
          b"&x;", b"<!DOCTYPE a [<!ENTITY x \"y\">]>", b"<![CDATA[", b"]]>", b"xml:lang=\"",
          b"\"", b"'", b",", b"\t", b"\n", b"\r\n", b"{", b"}", b"[", b"]", b":", b"null",
          b"\\u0000", b"\\ud800", b"1e999", b"-0", b"@id", b"@type", b"http://", b"10.", b"%PDF-",
          b"stream", b"endstream", b" obj", b" R", b"/Length", b"PK\x03\x04", b"\x00", b"\xff\xfe",
          b"\xef\xbb\xbf", b"\xc3", b"\xe2\x80\xa8", b"1.", b"Q1)", b"a)", b"1111111111111111")


def mutate(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """One to eight random edits of a real file: flip, insert, delete, duplicate, truncate,
    splice in another corpus file, or insert a token of the formats' syntax."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        size = len(out)
        at = rng.randrange(size + 1)
        span = min(size - at, int(min(rng.expovariate(1 / 64), 4096.0)) + 1)
        edit = rng.randrange(7)
        if edit == 0 and size:
            out[min(at, size - 1)] = rng.randrange(256)
        elif edit == 1:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif edit == 2:
            del out[at:at + span]
        elif edit == 3:
            out[at:at] = out[at:at + span] * rng.randint(2, 64)
        elif edit == 4:
            del out[at:]
        elif edit == 5 and donors:
            donor = rng.choice(donors)
            start = rng.randrange(len(donor) + 1)
            out[at:at] = donor[start:start + int(min(rng.expovariate(1 / 256), 65536.0)) + 1]
        else:
            out[at:at] = rng.choice(TOKENS)
        if len(out) > 4 * len(data) + 65536:  # keep inputs near their seed's size
            del out[4 * len(data) + 65536:]
    return bytes(out)


def seeds(max_bytes: int = 400_000) -> dict[str, list[Path]]:
    """Corpus files by the parser that reads them (as `discovery ingest` detects it), the files
    no parser claims under "unknown"; files over `max_bytes` are left out to keep runs quick."""
    from discovery.errors import DiscoveryError
    from discovery.sources.base import Document
    from discovery.sources.registry import detect

    found: dict[str, list[Path]] = {}
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.stat().st_size <= max_bytes):
        try:
            name = detect(Document(location=str(path), content=path.read_bytes())).FORMAT
        except DiscoveryError:
            name = "unknown"
        found.setdefault(name, []).append(path)
    return found


def crash_of(location: str, data: bytes) -> str | None:
    """Parse `data` as `discovery ingest` would, but call the detected parser itself: None if it
    gives records or a DiscoveryError, else the exception (the registry would have wrapped it as
    'parser failed', which hides a parser bug), with where it was raised."""
    from discovery.errors import DiscoveryError
    from discovery.sources.base import Document
    from discovery.sources.registry import detect

    doc = Document(location=location, content=data)
    try:
        detect(doc).parse(doc)
    except DiscoveryError:
        return None
    except Exception as error:  # what the fuzzing is for
        frame = error.__traceback__
        where = "?"
        while frame is not None:
            if "/discovery/" in frame.tb_frame.f_code.co_filename:
                where = f"{Path(frame.tb_frame.f_code.co_filename).name}:{frame.tb_lineno}"
            frame = frame.tb_next
        return f"{type(error).__name__} at {where}: {str(error)[:200]}"
    return None
