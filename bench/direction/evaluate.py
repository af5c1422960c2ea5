"""Item direction and reverse-code flags on the labelled set, the shipped model beside the old rules.

    python bench/direction/evaluate.py

For each half of items.tsv (tune: the model was fitted and its thresholds chosen on it, so its
figures there are optimistic; check: never used for any choice), per item:

- coverage: the share of items given a direction (problem or wellbeing), the rest "unclear";
- accuracy: of those, the share whose label is that direction (a direction given to a neutral or
  unclear item is wrong);

and per pair of items (see labelled.py): reverse-code precision (flags right) and recall
(reverse-code pairs flagged), over all pairs of the half and over pairs within one instrument,
and same-direction precision. Intervals: 95% percentile bootstrap, instruments drawn with
replacement, 1,000 resamples. The old rules gave every item +1 or -1: they are read here as the
matcher ran them, MiniLM cores for English items and e5 cores for the others.
"""

from __future__ import annotations

import numpy as np
from labelled import (
    Figures,
    Labelled,
    bootstrap,
    encoded,
    figures,
    gold,
    half,
    instrument_tables,
    predicted,
    read,
    vectors,
)
from old_rules import old_directions

from discovery.harmonise.direction import MODEL_FILE, DirectionModel
from discovery.index.embed import get_embedder


def model_directions(items: list[Labelled], model: DirectionModel) -> np.ndarray:
    return model.directions([item.text for item in items], vectors(items, get_embedder("e5")))


def rules_directions(items: list[Labelled]) -> np.ndarray:
    english = np.array([item.language == "en" for item in items])
    result = np.zeros(len(items), np.int8)
    for rows, key in ((english, "minilm"), (~english, "e5")):
        if rows.any():
            texts = [item.text for item, row in zip(items, rows, strict=True) if row]
            result[rows] = old_directions(texts, get_embedder(key), encoded)
    return result


def cell(point: float, draws: np.ndarray) -> str:
    if np.isnan(point):
        return f"{'-':>22}"
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return f"{point:>8.3f} [{low:.3f}, {high:.3f}]"


def show(items: list[Labelled], columns: dict[str, np.ndarray]) -> None:
    truth = gold(items)
    results = {}
    for name, directions in columns.items():
        tables = instrument_tables(items, truth, predicted(directions))
        results[name] = (figures(tables), bootstrap(tables))
    english = np.array([item.language == "en" for item in items])
    print(f"  {'':44}" + "".join(f"{name:>24}" for name in columns))
    for n, label in enumerate(Figures.names()):
        print(f"  {label:44}" + "".join(
            f"{cell(list(vars(point).values())[n], draws[:, n]):>24}" for point, draws in results.values()))
    for subset, rows in (("English", english), ("non-English", ~english)):
        if not rows.any():
            continue
        print(f"  {f'{subset} items ({int(rows.sum())}): coverage, accuracy':44}", end="")
        for directions in columns.values():
            given = directions[rows] != 0
            right = predicted(directions[rows]) == truth[rows]
            accuracy = right[given].mean() if given.any() else float("nan")
            print(f"{f'{given.mean():.3f}, {accuracy:.3f}':>24}", end="")
        print()
    for name, directions in columns.items():
        flags = int((directions == -1).sum()) * int((directions == 1).sum())
        print(f"  {name}: {int((directions == -1).sum())} items problem, {int((directions == 1).sum())} "
              f"wellbeing, {int((directions == 0).sum())} unclear; {flags:,} reverse-code flags")


def main() -> None:
    items = read()
    model = DirectionModel.load()
    with np.load(MODEL_FILE) as stored:
        provenance = "; ".join(str(p) for p in stored["provenance"])
    print(f"direction model {MODEL_FILE.name} ({model.encoder}; thresholds problem "
          f"{model.problem_threshold}, wellbeing {model.wellbeing_threshold}, with a negation word "
          f"{model.negated_threshold}); {provenance}")
    print("intervals: 95% bootstrap over instruments, 1,000 resamples\n")
    for split, note in (("tune", "the model was fitted and its thresholds chosen here: optimistic"),
                        ("check", "never used for any choice")):
        rows = half(items, split)
        print(f"{split} half: {len(rows)} items, {len({i.instrument for i in rows})} instruments ({note})")
        show(rows, {"model": model_directions(rows, model), "old rules": rules_directions(rows)})
        print()


if __name__ == "__main__":
    main()
