"""Train the item direction model on the tune half of items.tsv and write
src/discovery/harmonise/direction.npz.

    python bench/direction/train.py            train, choose thresholds, write the model
    python bench/direction/train.py --dry-run  print the choices without writing

Only the tune half is read for any choice. The L2 penalty and the three confidence thresholds are
chosen by cross-validation on it: five folds that keep each instrument family whole, so a fold's
items are scored by weights that never saw their scale or its translations. The thresholds are the
ones that keep the most reverse-code pairs (all pairs of the tune half) while the flags on those
pairs stay right at least TARGET of the time, also one grid step lower (the choice must not sit on
a lucky spike). Then the model is fitted on the whole tune half.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools

import numpy as np
from labelled import (
    Labelled,
    confusion,
    digest,
    gold,
    half,
    pair_counts,
    predicted,
    ratio,
    read,
    vectors,
)

from discovery.harmonise.direction import MODEL_FILE, DirectionModel, fit, negated
from discovery.index.embed import get_embedder

TARGET = 0.92  # reverse-code precision on the tune half; the issue asks >= 0.90 on the check half
PENALTIES = (0.03, 0.1, 0.3)
FOLDS = 5
STEP = 0.025
CLASS_GRID = tuple(np.round(np.arange(0.5, 1.0, STEP), 3))
NEGATED_GRID = (0.0, 0.9, 0.95, 0.975, 1.01)  # 1.01: items with a negation word never get one


def folds(items: list[Labelled], salt: int = 0) -> np.ndarray:
    """Fold number per item; families dealt out in the order of their names' digests (salted
    with `salt` for another dealing; 0 is the dealing training uses)."""
    def key(family: str) -> bytes:
        name = family if salt == 0 else f"{salt}:{family}"
        return hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()

    families = sorted({item.family for item in items}, key=key)
    fold = {family: n % FOLDS for n, family in enumerate(families)}
    return np.array([fold[item.family] for item in items])


def out_of_fold(x: np.ndarray, y: np.ndarray, fold: np.ndarray, penalty: float) -> np.ndarray:
    """Class probabilities of every item from weights fitted without its fold."""
    probabilities = np.zeros((len(y), 3))
    for k in range(FOLDS):
        model = DirectionModel("", fit(x[fold != k], y[fold != k], penalty), 0, 0, 0)
        probabilities[fold == k] = model.probabilities(x[fold == k])
    return probabilities


def thresholds(probabilities: np.ndarray, negative: np.ndarray, y: np.ndarray
               ) -> tuple[tuple[float, float, float], np.ndarray]:
    """The (problem, wellbeing, negated) thresholds with the best reverse-code recall at TARGET
    precision here and one step lower, and their pair counts."""
    def counts(problem: float, wellbeing: float, floor: float) -> np.ndarray:
        model = DirectionModel("", np.zeros((1, 3)), problem, wellbeing, floor)
        return pair_counts(confusion(y, predicted(model.decide(probabilities, negative))))

    best: tuple[float, tuple[float, float, float], np.ndarray] = (-1.0, (1.01, 1.01, 1.01), np.zeros(5))
    for problem, wellbeing, floor in itertools.product(CLASS_GRID, CLASS_GRID, NEGATED_GRID):
        found = counts(problem, wellbeing, floor)
        recall = ratio(found[0], found[2])
        if ratio(found[0], found[1]) < TARGET or recall <= best[0]:
            continue
        lower = counts(max(problem - STEP, 0.5), max(wellbeing - STEP, 0.5), floor)
        if ratio(lower[0], lower[1]) >= TARGET:
            best = (recall, (float(problem), float(wellbeing), float(floor)), found)
    return best[1], best[2]


def hedged(probabilities: np.ndarray, negative: np.ndarray, y: np.ndarray, floor: float = 0.9) -> None:
    """Why items with a negation word get a threshold of their own: how often a confident
    out-of-fold class is right with and without one."""
    best, confident = probabilities.argmax(1), probabilities.max(1) >= floor
    for name, rows in (("with a negation word", negative), ("without", ~negative)):
        said = rows & confident & (best < 2)
        print(f"  out of fold, items {name}: {int(said.sum())} of {int(rows.sum())} given a class at "
              f"probability >= {floor}, {float(np.mean(best[said] == y[said])):.3f} of them right")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print the choices, write nothing")
    args = parser.parse_args()
    tune = half(read(), "tune")
    embedder = get_embedder("e5")
    x, y, negative = vectors(tune, embedder), gold(tune), negated([item.text for item in tune])
    fold = folds(tune)
    print(f"tune half: {len(tune)} items, {len(set(i.family for i in tune))} families in {FOLDS} folds; "
          f"encoder {embedder.name}; target reverse-code precision {TARGET}")
    chosen = None
    for penalty in PENALTIES:
        probabilities = out_of_fold(x, y, fold, penalty)
        accuracy = float(np.mean(probabilities.argmax(1) == y))
        cut, found = thresholds(probabilities, negative, y)
        print(f"  penalty {penalty}: out-of-fold 3-class accuracy {accuracy:.3f}; thresholds problem "
              f"{cut[0]}, wellbeing {cut[1]}, negated {cut[2]}: reverse precision "
              f"{ratio(found[0], found[1]):.3f}, recall {ratio(found[0], found[2]):.3f}")
        recall = ratio(found[0], found[2]) if found[1] else -1.0  # -1: no thresholds reach TARGET
        if chosen is None or recall > chosen[0]:
            chosen = (recall, penalty, cut)
    assert chosen is not None
    if chosen[0] < 0:
        raise SystemExit(f"no penalty and thresholds reach reverse-code precision {TARGET} on the tune half")
    _, penalty, cut = chosen
    print(f"chosen: penalty {penalty}, thresholds problem {cut[0]}, wellbeing {cut[1]}, negated {cut[2]}")
    hedged(out_of_fold(x, y, fold, penalty), negative, y)
    if args.dry_run:
        return
    model = DirectionModel(embedder.name, fit(x, y, penalty), *cut)
    model.save(MODEL_FILE, trained_on=f"bench/direction/items.tsv tune half, {len(tune)} rows, "
                                      f"sha256 {digest(tune)}",
               penalty=str(penalty), target=str(TARGET), script="bench/direction/train.py")
    print(f"written {MODEL_FILE}")


if __name__ == "__main__":
    main()
