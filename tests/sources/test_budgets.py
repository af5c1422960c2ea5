"""Per-document budgets (sources/budgets.py): time and memory spent while parsing end as one
failure naming the file and record, and release what the parse held."""

from __future__ import annotations

import weakref
from pathlib import Path

import pytest

from discovery.errors import DiscoveryError
from discovery.model import ParseResult
from discovery.sources import tabular
from discovery.sources.base import Document
from discovery.sources.budgets import Budget, BudgetExceededError, Meter, metered, spending
from tests.sources import hostile


def test_a_parse_over_its_time_budget_is_one_failure_naming_the_file_and_row(tmp_path: Path) -> None:
    """A 1.4 MB workbook of 100,000 numbered rows deflates like a real one; a budget of 0.5 s
    stops it (the default, 30 s + 1 s/MB, lets real files of any size through)."""
    doc = Document(location=str(tmp_path / "numbered.xlsx"),
                   content=hostile.workbook("numbered_rows", 100_000))
    with spending(Budget(seconds=0.5, seconds_per_mb=0)), \
            pytest.raises(BudgetExceededError, match="over its 0.5 s budget") as error:
        tabular.parse(doc)
    assert error.value.file == doc.location
    assert (error.value.record or "").startswith("Sheet1!row ")
    assert error.value.hint


def test_a_parse_over_its_memory_budget_fails_and_frees_what_it_held() -> None:
    class Held:
        pass

    held: list[weakref.ref[Held]] = []

    @metered
    def greedy(doc: Document) -> ParseResult:
        meter = Meter(doc, Budget(memory_bytes=8 * 2**20, memory_per_byte=0))
        hoard = Held()
        held.append(weakref.ref(hoard))
        chunks = []
        while True:
            chunks.append(bytearray(2**20))
            meter.check("chunk", memory=True)

    with pytest.raises(BudgetExceededError, match="8 MB memory budget") as error:
        greedy(Document(location="greedy.xml", content=b"<a/>"))
    assert error.value.file == "greedy.xml" and error.value.record == "chunk"
    assert held[0]() is None, "the failed parse's frames are still alive"


def test_running_out_of_memory_is_a_failure_not_a_crash() -> None:
    """The old ingest kept the half-built records alive in the traceback and ran out of memory
    again while quarantining, which crashed the run."""
    @metered
    def exhausted(doc: Document) -> ParseResult:
        raise MemoryError

    with pytest.raises(DiscoveryError, match="ran out of memory") as error:
        exhausted(Document(location="huge.xml", content=b"<a/>"))
    assert error.value.__traceback__ is not None and error.value.__context__ is None
