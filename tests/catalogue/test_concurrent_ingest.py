"""Two processes ingesting into one catalogue at once end with what one process alone stores: no
record lost, none created twice, every source of a record kept.

The two read different copies of the same codebooks (a byte apart, so that they are different
documents), in the same order, and are started together (each opens the catalogue, then waits
for the word), so they keep creating and merging the same records at the same moments: writers
that did not queue would both decide a record is new, and the later would overwrite the
earlier's merge. (With the PostgreSQL store's write lock taken out, one of three runs created 574 records
twice here.)"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.ingest import ingest
from discovery.harvest.files import documents, expand

WORKER = """
import sys
from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.ingest import ingest
from discovery.harvest.files import documents

target, *files = sys.argv[1:]
with open_catalogue(target) as catalogue:
    print("ready", flush=True)
    sys.stdin.readline()
    report = ingest(catalogue, documents(files))
print(report.stored, len(report.failures))
"""


def test_two_processes_ingesting_at_once_neither_lose_nor_duplicate_records(target, corpus, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    first = expand([str(corpus / "ddi")])
    for path in map(Path, first):  # one more line at the end (the UTF-16 codebook as it is)
        (copy / path.name).write_bytes(path.read_bytes() + (b"" if "utf16" in path.name else b"\n"))
    second = expand([str(copy)])
    with open_catalogue(tmp_path / "alone") as alone:  # the reference: one process, one pass
        ingest(alone, documents(first + second))
        expected_ids, expected_kinds = alone.all_ids(), alone.counts_by_kind()
        expected_sources = {rid: count for rid, (_, count) in alone.record_stats(expected_ids).items()}
        expected_relations = alone.totals()["relations"]
    runs = [subprocess.Popen([sys.executable, "-c", WORKER, target, *files], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for files in (first, second)]
    for run in runs:
        assert run.stdout is not None and run.stdout.readline() == "ready\n"
    for run in runs:
        assert run.stdin is not None
        run.stdin.write("go\n")
        run.stdin.flush()
    for run in runs:
        out, err = run.communicate(timeout=240)
        assert (run.returncode, out) == (0, f"{len(first)} 0\n"), err
    with open_catalogue(target) as shared:
        assert shared.all_ids() == expected_ids
        assert shared.counts_by_kind() == expected_kinds
        assert shared.totals()["relations"] == expected_relations
        sources = {rid: count for rid, (_, count) in shared.record_stats(expected_ids).items()}
        assert sources == expected_sources
        created = Counter(rid for rid in expected_ids for _, action, _ in shared.history(rid)
                          if action == "created")
        assert [rid for rid in expected_ids if created[rid] != 1] == []
