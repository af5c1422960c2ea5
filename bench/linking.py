"""Precision and recall of identity (same study or grant) and of dataset-grant-output links.

    python bench/linking.py [--corpus ../shared/corpus] [--labels bench/linking_labels.tsv]
                            [--data DIR]

Ingests the whole corpus into a fresh catalogue (or uses --data as it is), runs linking, and
scores every labelled pair of `bench/linking_labels.tsv`. A pair is predicted "same" when both
records are one record (merged at ingest) or in one linking cluster; "funded_by" when a fundedBy
edge joins the dataset's cluster to the grant's; "has_output" when a hasOutput edge does.
Target: precision >= 0.98 for merges and for links.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from discovery.catalogue.ingest import ingest
from discovery.catalogue.store import Catalogue
from discovery.harvest.files import documents
from discovery.linking import link_catalogue
from discovery.model import Predicate

TOP_KINDS = ("study", "dataset", "project", "output")
EDGE = {"funded_by": Predicate.FUNDED_BY, "has_output": Predicate.HAS_OUTPUT}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, truth: bool, predicted: bool) -> None:
        if truth and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    def line(self, name: str) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")
        return (f"{name:<12} pairs {self.tp + self.fp + self.fn + self.tn:>3} "
                f"(positive {self.tp + self.fn}, negative {self.fp + self.tn}): "
                f"precision {precision:.3f}, recall {recall:.3f} "
                f"[tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn}]")


def resolve(catalogue: Catalogue, ref: str) -> str:
    """The record id a label names: FILE, FILE#scheme:value or FILE#title=TITLE."""
    path, _, selector = ref.partition("#")
    rows = catalogue.db.execute(
        "SELECT s.record_id, r.kind, r.title FROM record_sources s JOIN records r "
        "ON r.id = s.record_id WHERE s.location LIKE ?", (f"%{path}",)).fetchall()
    rows = [row for row in rows if row[1] in TOP_KINDS]
    if selector.startswith("title="):
        title = selector.removeprefix("title=")
        ids = {rid for rid, _, found in rows if found == title}
    elif selector:
        with_alias = {rid for (rid,) in catalogue.db.execute(
            "SELECT record_id FROM aliases WHERE alias=? AND location LIKE ?",
            (selector.lower(), f"%{path}"))}
        ids = {rid for rid, *_ in rows if rid in with_alias}
    else:
        ids = {rid for rid, kind, *_ in rows if kind != "output"}
    if len(ids) != 1:
        sys.exit(f"label {ref!r} names {len(ids)} records ({sorted(ids)}); fix the label")
    return ids.pop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[1].parent
                        / "shared" / "corpus")
    parser.add_argument("--labels", type=Path, default=Path(__file__).with_name("linking_labels.tsv"))
    parser.add_argument("--data", type=Path, help="use this catalogue instead of ingesting the corpus")
    parser.add_argument("--json", action="store_true", help="also print every wrong pair as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="linking-bench-") as tmp:
        catalogue = Catalogue(args.data or tmp)
        if not args.data:
            started = time.perf_counter()
            report = ingest(catalogue, documents([str(args.corpus)]))
            print(f"ingested {report.documents} corpus documents in "
                  f"{time.perf_counter() - started:.1f} s")
        link = link_catalogue(catalogue)
        print(link.summary())
        scores = {"same": Score(), "funded_by": Score(), "has_output": Score()}
        links = Score()  # funded_by and has_output together
        wrong = []
        with args.labels.open(encoding="utf-8") as handle:
            lines = (line for line in handle if not line.startswith("#"))
            for row in csv.DictReader(lines, delimiter="\t"):
                a, b = resolve(catalogue, row["a"]), resolve(catalogue, row["b"])
                truth = row["label"] == "1"
                if row["task"] == "same":
                    predicted = catalogue.canonical(a) == catalogue.canonical(b)
                else:
                    ca, cb = catalogue.canonical(a), catalogue.canonical(b)
                    predicted = any(r.predicate is EDGE[row["task"]] and {r.subject, r.object} == {ca, cb}
                                    for r in catalogue.relations(ca))
                scores[row["task"]].add(truth, predicted)
                if row["task"] != "same":
                    links.add(truth, predicted)
                if truth != predicted:
                    wrong.append({**row, "a_id": a, "b_id": b, "predicted": predicted})
        print(scores["same"].line("merges"))
        print(scores["funded_by"].line("funded_by"))
        print(scores["has_output"].line("has_output"))
        print(links.line("links (all)"))
        for item in wrong:
            print("wrong:", json.dumps(item, ensure_ascii=False) if args.json else
                  f"{item['task']} {item['a']} / {item['b']}: labelled {item['label']}")
        catalogue.close()


if __name__ == "__main__":
    main()
