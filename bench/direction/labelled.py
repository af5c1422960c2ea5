"""The labelled direction set (`items.tsv`), its vectors, and the reverse-code pair counts that
train.py chooses thresholds by and evaluate.py reports.

Pairs: a "reverse-code" flag is a pair of items the model gives opposite directions (problem and
wellbeing); it is right when the two items' labels are problem and wellbeing. Pairs are counted two
ways: all pairs of items within a half, and pairs within one instrument (items written to measure
one thing, what a researcher reverse-codes). A pair with a neutral or unclear item is never a
reverse-code pair, so a flag on it is wrong.
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discovery.harmonise.direction import CLASSES, PROBLEM, UNCLEAR, WELLBEING
from discovery.index.embed import Embedder, EmbeddingCache

HERE = Path(__file__).resolve().parent
ITEMS = HERE / "items.tsv"
CACHE = HERE.parents[1] / ".bench" / "direction-embeddings.sqlite"  # .bench/ is not committed
COLUMNS = ("item", "language", "direction", "instrument", "source", "split")
GOLD = {"problem": 0, "wellbeing": 1, "neutral": 2, "unclear": 2}  # rows of CLASSES
PREDICTED = {PROBLEM: 0, WELLBEING: 1, UNCLEAR: 2}
RESAMPLES = 1000

# Instruments of one family (versions, translations, scales sharing wordings) as the README's split
# rule groups them; the tune half's cross-validation folds keep each family whole.
FAMILIES = ((r"^GAD-7", "GAD-7"), (r"abcl|cbcl|YASR|Young Adult Self Report", "ASEBA"),
            (r"ysi|DAWBA", "strengths"), (r"socialaptitud|Social Aptitute", "SAS"),
            (r"EHIS|PHQ|APA DSM5", "PHQ"), (r"HADS|EPDS|Hospital Anxiety|Edinburgh Postnatal", "HADS"),
            (r"Malaise|Crown-Crisp", "Malaise"), (r"WEMWBS|Warwick|LOT-R|Life Orientation", "WEMWBS"),
            (r"CASP|MLQ|Meaning in Life", "CASP"), (r"^sf36$|SF-12|^fact$", "SF"),
            (r"AUDIT|bcs70", "AUDIT"))


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    direction: str
    instrument: str
    split: str

    @property
    def family(self) -> str:
        return next((name for pattern, name in FAMILIES if re.search(pattern, self.instrument)),
                    self.instrument)


def read(path: Path = ITEMS) -> list[Labelled]:
    """Every row of the TSV; a malformed one stops the run naming its line."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            sys.exit(f"{path}: header must be {' '.join(COLUMNS)}")
        rows = []
        for number, row in enumerate(reader, start=2):
            if None in row.values() or row["direction"] not in GOLD or row["split"] not in ("tune", "check"):
                sys.exit(f"{path}, line {number}: bad row (direction {row.get('direction')!r}, "
                         f"split {row.get('split')!r})")
            rows.append(Labelled(" ".join(row["item"].split()), row["language"], row["direction"],
                                 row["instrument"], row["split"]))
    return rows


def half(items: list[Labelled], split: str) -> list[Labelled]:
    return [item for item in items if item.split == split]


def digest(items: list[Labelled]) -> str:
    """A fingerprint of exactly the rows a model was trained on."""
    text = "\n".join(f"{i.text}\t{i.language}\t{i.direction}\t{i.instrument}" for i in items)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def vectors(items: list[Labelled], embedder: Embedder) -> np.ndarray:
    """Passage vectors of the items, as the matcher encodes them."""
    return encoded([item.text for item in items], embedder)


def encoded(texts: list[str], embedder: Embedder) -> np.ndarray:
    """Passage vectors, kept in .bench/ between runs."""
    return EmbeddingCache(CACHE).encode(embedder, texts, "passage")


def gold(items: list[Labelled]) -> np.ndarray:
    """Row of CLASSES per item: neutral and unclear are both `other`."""
    return np.array([GOLD[item.direction] for item in items])


def predicted(directions: np.ndarray) -> np.ndarray:
    return np.array([PREDICTED[int(d)] for d in directions], dtype=np.int64)


def confusion(truth: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """len(CLASSES) x len(CLASSES) counts, labels in rows and predictions in columns."""
    table = np.zeros((len(CLASSES), len(CLASSES)), np.int64)
    np.add.at(table, (truth, guess), 1)
    return table


def pair_counts(table: np.ndarray) -> np.ndarray:
    """[right reverse flags, reverse flags, reverse-code pairs, right same flags, same flags] over
    all pairs of the items a confusion table counts; tables stacked on leading axes give one row
    each."""
    def both(n: np.ndarray) -> np.ndarray:
        return n * (n - 1) / 2

    table = table.astype(np.float64)
    said = table.sum(-2)  # items per predicted class
    right = table[..., 0, 0] * table[..., 1, 1] + table[..., 1, 0] * table[..., 0, 1]
    flags = said[..., 0] * said[..., 1]
    truth = table[..., 0, :].sum(-1) * table[..., 1, :].sum(-1)
    same_right = both(table[..., :2, :2]).sum((-2, -1))
    same_flags = both(said[..., 0]) + both(said[..., 1])
    return np.stack([right, flags, truth, same_right, same_flags], -1)


@dataclass(frozen=True)
class Figures:
    """Per-item and per-pair figures of one set of predicted directions on one half."""

    coverage: float  # share of items given a direction
    accuracy: float  # of those, share with the labelled direction
    reverse_precision: float
    reverse_recall: float
    same_precision: float
    instrument_precision: float  # reverse-code flags within one instrument
    instrument_recall: float

    @staticmethod
    def names() -> tuple[str, ...]:
        return ("item coverage", "item accuracy", "reverse precision", "reverse recall",
                "same precision", "reverse precision, within instrument",
                "reverse recall, within instrument")


def figures(tables: np.ndarray) -> Figures:
    """From one confusion table per instrument (instruments x classes x classes)."""
    total = tables.sum(0)
    covered = total[:, :2].sum()
    every = pair_counts(total)
    within = pair_counts(tables).sum(0)
    return Figures(covered / max(total.sum(), 1), (total[0, 0] + total[1, 1]) / max(covered, 1),
                   ratio(every[0], every[1]), ratio(every[0], every[2]), ratio(every[3], every[4]),
                   ratio(within[0], within[1]), ratio(within[0], within[2]))


def ratio(part: float, whole: float) -> float:
    return part / whole if whole else float("nan")


def instrument_tables(items: list[Labelled], truth: np.ndarray, guess: np.ndarray) -> np.ndarray:
    names = sorted({item.instrument for item in items})
    position = {name: n for n, name in enumerate(names)}
    tables = np.zeros((len(names), len(CLASSES), len(CLASSES)), np.int64)
    np.add.at(tables, (np.array([position[i.instrument] for i in items]), truth, guess), 1)
    return tables


def bootstrap(tables: np.ndarray, seed: int = 0) -> np.ndarray:
    """RESAMPLES x figures, instruments drawn with replacement (items of one instrument are not
    independent, and neither are the pairs they form)."""
    rng = np.random.default_rng(seed)
    draws = [figures(tables[rng.integers(0, len(tables), len(tables))]) for _ in range(RESAMPLES)]
    return np.array([list(vars(d).values()) for d in draws])
