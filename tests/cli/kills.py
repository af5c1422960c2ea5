"""Kill `discovery ingest` with SIGKILL at random moments while it stores records, links them or
updates the search index; recover by running the same command again; compare the result with a
run that was never interrupted. Shared by `tests/cli/test_interrupted.py` (a small slice, 20
kills) and `bench/kill.py` (the corpus, as many kills as asked).

The command runs in a child forked from a server process that has already imported the CLI and
the parsers (multiprocessing's forkserver), so a kill lands in the work rather than in Python's
start-up (those imports take about 1.4 s; the test's whole update about 0.7 s).

After a kill, where it landed is read from what it left: no record stored yet (before), some
(storing), links
differing from the uninterrupted run's (linking), the published index behind the catalogue
(indexing), or nothing to repair (after the index was published).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents, expand
from discovery.index.build import update_index
from discovery.linking import link_catalogue
from discovery.search.models import SearchRequest
from discovery.sources.registry import FORMAT_MODULES
from discovery.search.service import SearchService

QUERIES = ["election", "nervous anxious on edge", "money savings", "childcare parents",
           "government machinery", "family life work"]
PHASES = ("before", "storing", "linking", "indexing", "after")


def run_cli(args: list[str]) -> None:
    """The child: `discovery ARGS` with its output discarded; exits with the command's code."""
    from discovery.cli import app

    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    code = app(args, standalone_mode=False)
    os._exit(code if isinstance(code, int) else 0)


def start_forkserver() -> None:
    """Start the fork server and wait for its imports (about 2 s, once), before anything is timed."""
    context = multiprocessing.get_context("forkserver")
    # the main module too (pytest's script, bench/kill.py), or each child imports it again
    context.set_forkserver_preload(["__main__", "discovery.cli"] + [f"discovery.sources.{name}"
                                                                    for name in FORMAT_MODULES])
    first = context.Process(target=os.getpid)
    first.start()
    first.join()


def start(args: list[str]) -> multiprocessing.process.BaseProcess:
    child = multiprocessing.get_context("forkserver").Process(target=run_cli, args=(args,))
    child.start()
    return child


def run(args: list[str]) -> float:
    """Run `discovery ARGS` to the end in a forked child; its seconds."""
    began = time.perf_counter()
    child = start(args)
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"discovery {' '.join(args)} exited with {child.exitcode}")
    return time.perf_counter() - began


def catalogue_state(data: Path) -> dict[str, Any]:
    """Records (by content hash), links and clusters: what ingest and link leave."""
    db = sqlite3.connect(data / "catalogue.sqlite")
    try:
        return {
            "records": db.execute("SELECT id, data_hash FROM records ORDER BY id").fetchall(),
            "links": db.execute("SELECT subject, predicate, object, confidence, location FROM relations "
                                "WHERE location LIKE 'linking:%' ORDER BY 1, 2, 3, 5").fetchall(),
            "clusters": db.execute("SELECT * FROM clusters ORDER BY record_id").fetchall(),
            "seq": db.execute("SELECT COALESCE(MAX(seq), 0) FROM history").fetchone()[0]}
    finally:
        db.close()


def index_state(data: Path) -> dict[str, Any]:
    """The index as searches see it: its documents and vocabulary by id, and the answers to a few
    queries with their scores."""
    service = SearchService(data)
    try:
        docs = service.index.docs.db
        return {
            "seq": service.index.meta["seq"],
            "docs": docs.execute("SELECT id, kind, parent, title, facets, ranges, family, body "
                                 "FROM docs ORDER BY id").fetchall(),
            "vocabulary": docs.execute("SELECT word, df FROM vocabulary ORDER BY word").fetchall(),
            "answers": [[(hit.id, hit.score, [v.id for v in hit.variables])
                         for hit in service.search(SearchRequest(q=q, size=10)).hits] for q in QUERIES]}
    finally:
        service.close()


def leftovers(data: Path) -> list[str]:
    """Index folders beside the published generation: none should outlive a recovery."""
    root = data / "index"
    current = (root / "CURRENT").read_text().strip() if (root / "CURRENT").exists() else None
    return sorted(entry for entry in os.listdir(root) if entry.startswith("gen-") and entry != current)


@dataclass
class Trial:
    delay: float
    phase: str  # where the kill landed, read from what it left
    survived: bool
    differences: list[str] = field(default_factory=list)


class KillHarness:
    """`base`: a data folder with a catalogue and a published index; `targets`: what the ingest
    command reads. The uninterrupted run is made first (in this process), and its embedding
    cache is given to the base, so no trial spends its time loading a model."""

    def __init__(self, base: Path, targets: list[str], work: Path) -> None:
        from discovery.cli import app

        self.base, self.targets, self.work = base, targets, work
        reference = self.fresh("reference")
        if app(self.command(reference), standalone_mode=False):
            raise RuntimeError("the uninterrupted run failed")
        shutil.copy(reference / "index" / "embeddings.sqlite", base / "index" / "embeddings.sqlite")
        self.base_catalogue = catalogue_state(base)
        self.expected_catalogue = catalogue_state(reference)
        self.expected_index = index_state(reference)
        shutil.rmtree(reference)
        start_forkserver()
        self.seconds = statistics.median(self.timed_run() for _ in range(3))  # kills fall inside

    def timed_run(self) -> float:
        """How long an uninterrupted forked run takes (the median of three is taken: one run
        alone may be slowed by a moment of others' load, and the kills run under the same)."""
        timing = self.fresh("timing")
        seconds = run(self.command(timing))
        shutil.rmtree(timing)
        return seconds

    def fresh(self, name: str) -> Path:
        folder = self.work / name
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.base, folder)
        return folder

    def command(self, data: Path) -> list[str]:
        return ["ingest", *self.targets, "--data", str(data)]

    def trials(self, kills: int, seed: int) -> Iterator[Trial]:
        """`kills` runs killed at random moments, one in each of `kills` equal slices of an
        uninterrupted run's duration (so every phase is hit however the draws fall), each
        followed by recovery and the comparison."""
        rng = random.Random(seed)
        for number in range(kills):
            yield self.trial(number, (number + rng.random()) / kills * self.seconds)

    def trial(self, number: int, delay: float) -> Trial:
        data = self.fresh(f"trial-{number}")
        child = start(self.command(data))
        time.sleep(delay)
        child.kill()  # SIGKILL; if it had already finished, nothing happens
        child.join()
        phase = self.phase_of(data) if child.exitcode == -signal.SIGKILL else "after"
        run(self.command(data))  # recovery: the same command again
        differences = self.differences(data)
        shutil.rmtree(data)
        return Trial(delay, phase, not differences, differences)

    def phase_of(self, data: Path) -> str:
        state = catalogue_state(data)
        if state["records"] == self.base_catalogue["records"]:
            return "before"
        if state["records"] != self.expected_catalogue["records"]:
            return "storing"
        if state["links"] != self.expected_catalogue["links"] or \
                state["clusters"] != self.expected_catalogue["clusters"]:
            return "linking"
        try:
            service = SearchService(data)
        except Exception:  # noqa: BLE001 (before generations, a killed update could break the index)
            return "indexing"
        published = service.index.meta["seq"]
        service.close()
        return "after" if published == state["seq"] else "indexing"

    def differences(self, data: Path) -> list[str]:
        found = []
        state = catalogue_state(data)
        for key in ("records", "links", "clusters"):
            if state[key] != self.expected_catalogue[key]:
                found.append(f"catalogue {key} differ")
        try:
            index = index_state(data)
        except Exception as error:  # noqa: BLE001 (a search that crashes is what a kill must not cause)
            return [*found, f"search fails: {type(error).__name__}: {error}"]
        if index["seq"] != state["seq"]:
            found.append(f"the index read the history to {index['seq']}, the catalogue is at "
                         f"{state['seq']}")
        for key in ("docs", "vocabulary", "answers"):
            if index[key] != self.expected_index[key]:
                found.append(f"index {key} differ")
        if leftovers(data):
            found.append(f"left over: {', '.join(leftovers(data))}")
        return found


VARIABLES = "instruments/variables_alspac_sws_advance_ahms_aesop_items.csv"


def scenario(corpus: Path, work: Path, base: list[str], update: list[str], rows: int,
             cache: Path | None = None) -> KillHarness:
    """A base data folder (`base` corpus files and the first `rows` rows of the corpus's
    variables file, linked and indexed with MiniLM) and an update (`update` files, and the
    variables file changed: of its last quarter of rows the first is relabelled and the rest go,
    and a quarter as many new rows come), so a run has records to store, links to derive and an
    index to update. `cache`: an
    embedding cache to start from (texts it holds are not encoded again)."""
    folder = work / "base"
    lines = (corpus / VARIABLES).read_text(encoding="utf-8").splitlines()
    items = work / "sources" / "items.csv"
    items.parent.mkdir(parents=True)
    items.write_text("\n".join(lines[:rows + 1]) + "\n", encoding="utf-8")
    if cache:
        (folder / "index").mkdir(parents=True)
        shutil.copy(cache, folder / "index" / "embeddings.sqlite")
    with Catalogue(folder) as catalogue:
        ingest(catalogue, documents(expand([str(corpus / f) for f in base] + [str(items)])))
        link_catalogue(catalogue)
        update_index(catalogue, folder, model="minilm")
    kept = rows * 3 // 4
    row = next(csv.reader([lines[kept + 1]]))
    row[3] += " (revised)"  # item_text
    relabelled = io.StringIO()
    csv.writer(relabelled, lineterminator="").writerow(row)
    items.write_text("\n".join(lines[:kept + 1] + [relabelled.getvalue()]
                               + lines[rows + 1:rows + 1 + rows // 4])
                     + "\n", encoding="utf-8")
    return KillHarness(folder, [str(corpus / f) for f in update] + [str(items)], work)
