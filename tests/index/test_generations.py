"""Index generations: an update publishes a complete new folder, readers keep the one they hold
until they let go, a killed update is never published and is cleaned up by the next one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.index.build import FORMAT, index_paths
from discovery.index.generations import current_name, published_meta
from discovery.index.reader import IndexReader
from discovery.search.models import SearchRequest
from discovery.search.service import SearchService
from tests.index.test_build import ingest_paths, update
from tests.search.built_index import private_copy

GLES = "ddi/ddi25_gesis_ZA5300_gles_2009_preelection.xml"
GLES_ID = "pre-election-cross-section-gles-2009"
QUERIES = ["election", "nervous anxious on edge", "money"]


def answers(data: Path) -> list[list[str]]:
    service = SearchService(data)
    try:
        return [[hit.id for hit in service.search(SearchRequest(q=q, size=10)).hits] for q in QUERIES]
    finally:
        service.close()


def digests(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def folders(data: Path) -> list[str]:
    return sorted(entry for entry in os.listdir(index_paths(data).root) if entry.startswith("gen-"))


@pytest.fixture
def data(index_data, tmp_path) -> Path:
    return private_copy(index_data, tmp_path / "data")


def test_a_held_generation_stays_byte_for_byte_until_its_reader_lets_go(data, corpus):
    """The previous generation's tantivy files are hard-linked into the next one: this holds only
    if nothing writes into a file once written."""
    reader = IndexReader(data)
    held = index_paths(data).root / reader.generation
    before = digests(held)
    ingest_paths(data, corpus / GLES)
    first = update(data)
    pilot = data / "sources" / "pilot.csv"
    pilot.write_text("survey_name,year,item_name,item_text\nSleep Pilot,2020,S1,Do you sleep well?\n",
                     encoding="utf-8")
    ingest_paths(data, pilot)
    second = update(data)
    assert current_name(index_paths(data).root) == second.generation != first.generation
    # the one in between had no reader and went when the next was published
    assert folders(data) == sorted([reader.generation, second.generation])
    assert digests(held) == before
    assert reader.row_of(GLES_ID) is None and reader.row_of("advance") is not None  # as it was
    reader.close()
    assert folders(data) == [second.generation]


def test_nothing_changed_publishes_nothing(data):
    before = current_name(index_paths(data).root)
    report = update(data)
    assert report.generation is None and current_name(index_paths(data).root) == before


def test_a_reader_in_another_process_keeps_its_generation(data, corpus):
    """flock is per open file, so this holds across processes (`serve --workers N`) as within one;
    and the kernel lets go when the process dies, so a killed server pins nothing."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from discovery.index.generations import hold_current; "
         "from pathlib import Path; held = hold_current(Path(sys.argv[1])); print(held.name, "
         "flush=True); sys.stdin.read()", str(index_paths(data).root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        held = holder.stdout.readline().strip()
        ingest_paths(data, corpus / GLES)
        report = update(data)
        assert folders(data) == sorted([held, report.generation])
    finally:
        holder.kill()
        holder.wait()
    assert update(data).generation is None  # nothing to publish, but unused folders are swept
    assert folders(data) == [report.generation]


def killed_update(data: Path, killer: str) -> None:
    """`update_index` in a child process that SIGKILLs itself where `killer` (code defining
    `progress` and patching what it must, with `suicide()`) says."""
    child = subprocess.run([sys.executable, "-c", f"""
import os, shutil, signal, sys
from pathlib import Path
from discovery.catalogue.store import Catalogue
from discovery.index.build import update_index
from tests.index.test_build import ingest_paths, update
def suicide():
    os.kill(os.getpid(), signal.SIGKILL)
{killer}
update_index(Catalogue(Path(sys.argv[1])), Path(sys.argv[1]), progress=progress)
""", str(data)], capture_output=True, text=True)
    assert child.returncode == -9, child.stderr


@pytest.mark.parametrize("where", ["indexing", "publishing"])
def test_a_killed_update_leaves_the_last_generation_serving_and_the_next_run_repairs_it(
        data, corpus, tmp_path, where):
    """SIGKILL in the middle of writing, and between the finished folder's rename and the
    pointer's: neither is ever read, and the next update removes it and publishes in full."""
    reference = private_copy(data, tmp_path / "reference")
    ingest_paths(reference, corpus / GLES)
    update(reference)
    expected = answers(reference)
    before, served = current_name(index_paths(data).root), answers(data)
    ingest_paths(data, corpus / GLES)
    killed_update(data, {
        "indexing": "progress = lambda stage, done, total: stage == 'indexing' and suicide()",
        "publishing": "progress = None\nreal = os.replace\n"
                      "os.replace = lambda a, b: suicide() if str(b).endswith('CURRENT') else real(a, b)",
    }[where])
    assert current_name(index_paths(data).root) == before
    dead = [name for name in folders(data) if name != before]
    assert dead == [f"gen-000002{'.partial' if where == 'indexing' else ''}"]  # left there...
    assert answers(data) == served  # ...and never read
    report = update(data)
    assert report.interrupted == dead and folders(data) == [report.generation]
    assert answers(data) == expected and GLES_ID in expected[0]


def test_a_kill_after_publishing_leaves_the_old_generation_to_the_next_run(data, corpus):
    """Killed as it deletes the generation it replaced: the new one serves, and the next command
    that has nothing to index (an ingest of the same file) still removes the old one."""
    ingest_paths(data, corpus / GLES)
    before = current_name(index_paths(data).root)
    killed_update(data, "progress = None\nshutil.rmtree = lambda *args, **kwargs: suicide()")
    assert current_name(index_paths(data).root) != before and before in folders(data)
    assert answers(data)[0][0] == GLES_ID
    result = CliRunner().invoke(app, ["ingest", str(corpus / GLES), "--data", str(data)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert folders(data) == [current_name(index_paths(data).root)]


def test_a_search_service_moves_to_a_new_generation_while_it_serves(data, corpus):
    """The regression of a live server: an update used to change the index files under an open
    service, and its next searches failed with KeyError until a restart."""
    service = SearchService(data)
    try:
        first = service.generation
        assert GLES_ID not in [h.id for h in service.search(SearchRequest(q="election")).hits]
        ingest_paths(data, corpus / GLES)
        report = update(data)
        for q in QUERIES:  # each query runs on one generation, the new one from the first
            service.search(SearchRequest(q=q))
        assert service.generation == report.generation != first
        assert service.search(SearchRequest(q="election")).hits[0].id == GLES_ID
        assert folders(data) == [report.generation]  # the old one went when the service let go
    finally:
        service.close()


def test_an_index_in_the_layout_before_generations_is_rebuilt_with_its_model(data):
    """Format 4 kept its files directly in `index/`: they are rebuilt into a generation (same
    model) and removed; the embedding cache stays."""
    root = index_paths(data).root
    generation = root / current_name(root)
    for entry in os.listdir(generation):
        if entry not in ("readers.lock", "titles.faiss"):  # format 4 had no title vectors
            os.rename(generation / entry, root / entry)
    shutil.rmtree(generation)
    (root / "CURRENT").unlink()
    meta = json.loads((root / "meta.json").read_text())
    (root / "meta.json").write_text(json.dumps({**meta, "format": 4}))
    report = update(data)
    assert report.full and report.encoded == 0 and report.model == "minilm-l6-int8"
    assert published_meta(root)["format"] == FORMAT
    caches = {"embeddings.sqlite", "queries.sqlite"}  # kept across generations; queries only once searched
    left = {entry for entry in os.listdir(root) if entry.split(".sqlite")[0] + ".sqlite" not in caches}
    assert sorted(left) == ["CURRENT", "build.lock", report.generation]
    assert "embeddings.sqlite" in os.listdir(root)
