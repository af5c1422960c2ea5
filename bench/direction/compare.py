"""Compare direction-model candidates with the shipped one on the tune half only, by the rule the
README fixes ("Issue 12, second round").

    python bench/direction/compare.py

Every model is read through out-of-fold probabilities from five folds that keep instrument
families whole, dealt three ways (DEALINGS). Thresholds are chosen as train.py chooses them (best
reverse-code recall with precision >= TARGET, also one grid step lower), once on the three
dealings pooled (their pair counts summed) and once on each dealing alone, whose spread says how
much recall moves with nothing but the fold assignment. A candidate is adopted only if its pooled
precision reaches TARGET and its pooled recall beats the shipped model's by more than that spread.
The check half is never read here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from labelled import CACHE, confusion, gold, half, pair_counts, predicted, ratio, read, vectors
from train import CLASS_GRID, FOLDS, NEGATED_GRID, STEP, TARGET, out_of_fold
from train import folds as dealt

from discovery.harmonise.direction import PROBLEM, UNCLEAR, WELLBEING, negated
from discovery.index.embed import EmbeddingCache, get_embedder

DEALINGS = (0, 1, 2)  # salts of the family order; 0 is train.py's own dealing
SHIPPED_PENALTY = 0.1
PENALTIES = (0.1, 0.3)  # 0.03 reached no threshold at TARGET precision in any dealing
Cut = tuple[float, float, float, float]  # problem, wellbeing, negated problem, negated wellbeing


@dataclass(frozen=True)
class Choice:
    recall: float
    precision: float
    cut: Cut | None


def decide(probabilities: np.ndarray, negative: np.ndarray, cut: Cut) -> np.ndarray:
    """DirectionModel.decide with a separate negated floor per class."""
    best, confidence = probabilities.argmax(1), probabilities.max(1)
    needed = np.where(best == 0, cut[0], cut[1])
    needed = np.where(negative, np.maximum(needed, np.where(best == 0, cut[2], cut[3])), needed)
    sure = (best < 2) & (confidence >= needed)
    return np.where(sure, np.where(best == 0, PROBLEM, WELLBEING), UNCLEAR)


def choose(runs: list[np.ndarray], y: np.ndarray, negative: np.ndarray, per_class: bool) -> Choice:
    """train.py's threshold rule on the summed pair counts of `runs` (probability arrays)."""
    def counts(cut: Cut) -> np.ndarray:
        return sum(pair_counts(confusion(y, predicted(decide(p, negative, cut)))) for p in runs)

    floors = (itertools.product(NEGATED_GRID, NEGATED_GRID) if per_class
              else ((f, f) for f in NEGATED_GRID))
    best = Choice(-1.0, float("nan"), None)
    for floor in list(floors):
        for problem, wellbeing in itertools.product(CLASS_GRID, CLASS_GRID):
            cut = (float(problem), float(wellbeing), *floor)
            found = counts(cut)
            recall = ratio(found[0], found[2])
            if ratio(found[0], found[1]) < TARGET or recall <= best.recall:
                continue
            lower = counts((max(cut[0] - STEP, 0.5), max(cut[1] - STEP, 0.5), *floor))
            if ratio(lower[0], lower[1]) >= TARGET:
                best = Choice(recall, ratio(found[0], found[1]), cut)
    return best


def main() -> None:
    tune = half(read(), "tune")
    e5 = get_embedder("e5")
    texts = [item.text for item in tune]
    passage = vectors(tune, e5)
    query = EmbeddingCache(CACHE).encode(e5, texts, "query")
    both_encoders = np.hstack([passage, vectors(tune, get_embedder("minilm"))])
    y, negative = gold(tune), negated(texts)
    folds = [dealt(tune, salt) for salt in DEALINGS]

    def model(x: np.ndarray) -> Callable[[np.ndarray, float], np.ndarray]:
        return lambda fold, penalty: out_of_fold(x, y, fold, penalty)

    def averaged(fold: np.ndarray, penalty: float) -> np.ndarray:
        return (out_of_fold(passage, y, fold, penalty) + out_of_fold(query, y, fold, penalty)) / 2

    candidates: dict[str, tuple[Callable[[np.ndarray, float], np.ndarray], bool]] = {
        "shipped (e5 passage)": (model(passage), False),
        "negated floor per class": (model(passage), True),
        "e5 passage + query averaged": (averaged, False),
        "both": (averaged, True),
        "e5 passage + MiniLM, side by side": (model(both_encoders), False),
    }
    print(f"tune half: {len(tune)} items; {FOLDS} family folds dealt {len(DEALINGS)} ways; "
          f"target reverse-code precision {TARGET}")
    shipped: tuple[float, float] | None = None
    for name, (probabilities_of, per_class) in candidates.items():
        for penalty in PENALTIES:
            runs = [probabilities_of(fold, penalty) for fold in folds]
            pooled = choose(runs, y, negative, per_class)
            singles = [choose([run], y, negative, per_class).recall for run in runs]
            spread = max(singles) - min(singles)
            print(f"  {name}, penalty {penalty}: pooled recall {pooled.recall:.4f}, precision "
                  f"{pooled.precision:.3f}, thresholds {pooled.cut}; single dealings "
                  + ", ".join(f"{s:.4f}" for s in singles) + f" (spread {spread:.4f})")
            if name.startswith("shipped") and penalty == SHIPPED_PENALTY:
                shipped = (pooled.recall, spread)
            elif shipped is not None:
                adopted = pooled.precision >= TARGET and pooled.recall > shipped[0] + shipped[1]
                print(f"    gain over the shipped model {pooled.recall - shipped[0]:+.4f}, its spread "
                      f"{shipped[1]:.4f}: {'adopt' if adopted else 'not adopted'}")


if __name__ == "__main__":
    main()
