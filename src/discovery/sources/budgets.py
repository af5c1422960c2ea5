"""What one document may cost to parse: seconds of wall time and megabytes of memory.

Hostile files cost minutes and gigabytes before these budgets (measured on the old parsers): a
200 MB DDI-Codebook 37 s and 4.2 GB peak RSS to parse (73 s, 4.5 GB to ingest); a 0.47 MB XLSX
of two million rows 85 s and 1.4 GB; a 0.3 MB PDF of 2,000 pages over 5 minutes; a 60 KB CSV
16 s inside csv.Sniffer. The parsers bound what they can by structure (streaming, part sizes,
row and page caps) and call `Meter.check` in their loops for the rest, so an overrun ends as one
quarantined `BudgetExceededError` naming the file, the record reached and what to do.

The budget in force is a context variable, so a caller sets it once (`with spending(Budget(...))`)
without every parser's signature carrying it; the default fits the largest real documents (the
200 MB DDI above now parses in about 40 s within a few hundred MB over its own records).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

from discovery.errors import UnsafeInputError

if TYPE_CHECKING:
    from discovery.sources.base import Document

MIB = 1024 * 1024
RSS_EVERY = 256  # RSS is read every this many checks: /proc/self/statm costs ~10 us, the clock ~0.1 us


@dataclass(frozen=True)
class Budget:
    """Limits for parsing one document: wall seconds, and growth of the process's resident memory
    over what it held when the parse began; each a floor for any document plus an allowance per
    byte of it, because honest metadata costs in proportion to its size and a bomb does not.

    Measured: the 200 MB DDI streams in 40 s (110 s on a loaded 2-core machine) and its 140,634
    Variable records take 2.1 GB, about 11 bytes per byte of DDI (records are ~15 KB each)."""

    seconds: float = 30.0
    seconds_per_mb: float = 1.0
    memory_bytes: int = 1024 * MIB
    memory_per_byte: float = 16.0

    def limits(self, size: int) -> tuple[float, int]:
        """(seconds, bytes of memory) for a document of `size` bytes."""
        return (self.seconds + self.seconds_per_mb * size / MIB,
                self.memory_bytes + int(self.memory_per_byte * size))


DEFAULT_BUDGET = Budget()
_CURRENT: ContextVar[Budget] = ContextVar("discovery_parse_budget", default=DEFAULT_BUDGET)


@contextmanager
def spending(budget: Budget) -> Iterator[Budget]:
    """Parse under `budget` inside the block (tests use seconds; a server may want less)."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


class BudgetExceededError(UnsafeInputError):
    """A document took more time or memory than its budget allows; it is quarantined, not fatal."""


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """The process's resident set now (Linux /proc), else its peak so far (getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Meter:
    """The spending of one document's budget, checked by the parser as it goes."""

    __slots__ = ("location", "seconds", "memory_bytes", "deadline", "memory_limit", "checks")

    def __init__(self, doc: Document, budget: Budget | None = None) -> None:
        self.location = doc.location
        self.seconds, self.memory_bytes = (budget or _CURRENT.get()).limits(len(doc.content))
        self.deadline = time.monotonic() + self.seconds
        self.memory_limit = resident_bytes() + self.memory_bytes
        self.checks = 0

    def check(self, record: str | None = None, memory: bool = False) -> None:
        """Raise BudgetExceededError once the time or memory budget is spent; cheap enough to
        call per row, per element or per page. Memory is read every RSS_EVERY calls, or on this
        one when `memory` is set (after a step that may allocate a lot, such as a parsed chunk)."""
        if time.monotonic() > self.deadline:
            raise BudgetExceededError(
                f"parsing took over its {self.seconds:.3g} s budget", file=self.location,
                record=record, hint="the file is unusually large or built to be slow; split it or "
                                    "check where it came from")
        self.checks += 1
        if memory or self.checks % RSS_EVERY == 0:
            resident = resident_bytes()
            if resident > self.memory_limit:
                grown = (resident - self.memory_limit + self.memory_bytes) // MIB
                raise BudgetExceededError(
                    f"parsing needed over its {self.memory_bytes // MIB:,} MB memory budget "
                    f"({grown:,} MB so far)", file=self.location, record=record,
                    hint="the file is unusually large or built to expand; split it or check "
                         "where it came from")


Parse = TypeVar("Parse", bound=Callable[..., object])


def metered(parse: Parse) -> Parse:
    """Wrap a format's `parse(doc)` so that running out of budget or memory releases what the
    parse held before the error travels on: the old ingest kept the half-built tree alive in the
    traceback and ran out of memory again while quarantining, which crashed the run."""

    @wraps(parse)
    def run(doc: Document, *args: object, **kwargs: object) -> object:
        failure: BudgetExceededError
        try:
            return parse(doc, *args, **kwargs)
        except BudgetExceededError as error:
            failure = error.with_traceback(None)
        except MemoryError:
            failure = BudgetExceededError(
                "ran out of memory while parsing", file=doc.location,
                hint="the file is unusually large or built to expand; split it or check where "
                     "it came from")
        # raised outside the except clauses: no traceback or context keeps the parse's frames alive
        raise failure

    return run  # type: ignore[return-value]
