"""A learned pair scorer for the English channel, chosen and fitted on the benchmarks' tuning
halves only (issue 12, fourth round; the candidates and the rule are in the README, "A learned
pair scorer").

    python bench/pair_scorer.py         cross-validates the 12 candidates within the tuning halves
                                        beside today's matcher and prints the rule's choice
    python bench/pair_scorer.py --fit   the same, then refits the adopted candidate on all the
                                        tuning pairs and writes its weights to
                                        src/discovery/harmonise/pair_scorer.json and the pairs it
                                        was fitted on to bench/pair_scorer/tuning_pairs.tsv

No check-half pair is read: every benchmark is cut to its tuning half before anything else.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/matching.py

from bench.matching import CACHE, METRICS, ROOT, SETS, bank, load, our_matcher  # noqa: E402

from discovery.harmonise.channels import CHANNELS, Encoded, channel_rows
from discovery.harmonise.language import detect_languages
from discovery.harmonise.pairs import text_parts
from discovery.harmonise.polarity import core_text
from discovery.harmonise.scorer import E5_MEAN_TEXTS, MODEL_FILE, PairScorer
from discovery.index.embed import EmbeddingCache, get_embedder

TRAINING_PAIRS = ROOT / "bench" / "pair_scorer" / "tuning_pairs.tsv"
CANDIDATE_SETS = {"A": ("text", "text_context", "core", "core_context", "e5", "plain", "groups"),
                  "B": ("text", "text_context", "core", "core_context", "e5", "e5_context", "plain",
                        "groups"),
                  "C": ("text", "text_context", "core", "core_context", "e5", "e5_context", "plain",
                        "groups", "text_context_10", "e5_plain")}
PENALTIES = (0.001, 0.01, 0.1, 1.0)
FOLDS = 3
SEEDS = ("1", "2", "3")
GAIN = 0.003  # the CV mean must beat today's matcher by this much
WORST = 0.005  # and no benchmark may fall below today's by more than this
TIE = 0.001
TRAINED = 100  # English tuning pairs a benchmark needs to be trained on (GAD-7 has 6)


@dataclass
class Half:
    """One benchmark's tuning half: its pairs, today's matcher's score, and the channels' cosines
    per English pair (full-bank e5 mean and, for set A, the sampled one)."""

    name: str
    metric: str
    left: list[str]
    right: list[str]
    y: np.ndarray
    today: np.ndarray
    english: np.ndarray  # bool per pair: both texts English
    cosines: dict[str, np.ndarray]  # channel -> one cosine per pair (0 where not English)


def tuning_halves() -> list[Half]:
    cache = EmbeddingCache(CACHE)
    minilm, e5 = get_embedder("minilm"), get_embedder("e5")
    item_bank, e5_bank = bank("minilm", cache), bank("e5", cache)
    e5_sampled = sampled_e5_bank(cache)
    today = our_matcher(cache)
    halves = []
    for benchmark in SETS:
        pairs = load(benchmark)
        rows = pairs.halves[0]
        left = [" ".join(pairs.left[i].split()) for i in rows]
        right = [" ".join(pairs.right[i].split()) for i in rows]
        pool = list(dict.fromkeys([*left, *right]))
        is_english = dict(zip(pool, (lang == "en" for lang in detect_languages(pool)), strict=True))
        english = np.array([is_english[a] and is_english[b] for a, b in zip(left, right, strict=True)])
        texts = [t for t in pool if is_english[t]]
        cores = [core_text(t) for t in texts]
        encoded = Encoded(texts, cores, cache.encode(minilm, texts, "passage"),
                          cache.encode(minilm, cores, "passage"), cache.encode(e5, texts, "passage"))
        channel = channel_rows(encoded, item_bank, e5_bank, CHANNELS)
        channel["e5_sampled"] = channel_rows(encoded, item_bank, e5_sampled, ["e5"])["e5"]
        row = {text: i for i, text in enumerate(texts)}
        cosines = {name: np.zeros(len(left)) for name in channel}
        ia = np.array([row.get(t, 0) for t in left])
        ib = np.array([row.get(t, 0) for t in right])
        for name, vectors in channel.items():
            cosines[name] = np.where(english, np.einsum("ij,ij->i", vectors[ia], vectors[ib]), 0.0)
        halves.append(Half(benchmark.name, benchmark.metric, left, right, pairs.y[rows],
                           today.score_pairs(left, right).score, english, cosines))
    return halves


def sampled_e5_bank(cache: EmbeddingCache):  # noqa: ANN201 - an ItemBank, typed by bank()
    from matching import BANK_FILE

    from discovery.harmonise.bank import ItemBank
    from discovery.harmonise.items import instruments_from_files
    items = [(item.text, instrument.id) for instrument in instruments_from_files([str(BANK_FILE)])
             for item in instrument.items]
    return ItemBank.from_items(items, get_embedder("e5"), cache, most=E5_MEAN_TEXTS)


def design(half: Half, candidate: str, rows: np.ndarray) -> np.ndarray:
    """Pairs x channels of candidate set `candidate` (set A reads e5 centred on the sampled mean)."""
    names = [("e5_sampled" if candidate == "A" and n == "e5" else n) for n in CANDIDATE_SETS[candidate]]
    return np.column_stack([half.cosines[n][rows] for n in names])


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, group: np.ndarray,
                 penalty: float) -> np.ndarray:
    """Weighted logistic regression with soft labels, an intercept per group (benchmarks differ
    in base rate) and an L2 penalty on the weights only, by Newton's method; the sample weights
    are scaled to sum to 1. Returns the weights, the intercepts dropped."""
    weight = weight / weight.sum()
    groups = np.unique(group)
    design_matrix = np.column_stack([x, (group[:, None] == groups[None, :]).astype(float)])
    beta = np.zeros(design_matrix.shape[1])
    ridge = np.zeros(len(beta))
    ridge[:x.shape[1]] = penalty
    for _ in range(100):
        p = 1 / (1 + np.exp(-(design_matrix @ beta)))
        gradient = design_matrix.T @ (weight * (p - y)) + ridge * beta
        hessian = (design_matrix * (weight * p * (1 - p))[:, None]).T @ design_matrix + np.diag(ridge)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(len(beta)), gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta[:x.shape[1]]


def fit(halves: list[Half], candidate: str, penalty: float, chosen: list[np.ndarray]
        ) -> np.ndarray | None:
    """Weights fitted on the `chosen` rows of each half (English pairs only); a benchmark with
    fewer than TRAINED English tuning pairs is left out, the others carry equal total weight.
    None where the weights do not sum to a positive number."""
    xs, ys, ws, gs = [], [], [], []
    for number, (half, rows) in enumerate(zip(halves, chosen, strict=True)):
        if half.english.sum() < TRAINED:
            continue
        rows = rows[half.english[rows]]
        xs.append(design(half, candidate, rows))
        ys.append(half.y[rows])
        ws.append(np.full(len(rows), 1 / len(rows)))
        gs.append(np.full(len(rows), number))
    weights = fit_logistic(np.vstack(xs), np.concatenate(ys), np.concatenate(ws),
                           np.concatenate(gs), penalty)
    return weights if weights.sum() > 0 else None


def scored(half: Half, candidate: str, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The product's score of `rows`: the rescaled weighted sum for English pairs, today's
    (multilingual) number for the others."""
    learned = design(half, candidate, rows) @ (weights / weights.sum())
    return np.where(half.english[rows], learned, half.today[rows])


def cross_validate(halves: list[Half]) -> dict[tuple[str, float], dict[str, float]]:
    """Per candidate (and for today's matcher, key ("today", 0)): each benchmark's metric on the
    pooled held-out folds, averaged over the seeds."""
    found: dict[tuple[str, float], dict[str, list[float]]] = {}
    for seed in SEEDS:
        folds = []
        for half in halves:
            part = text_parts(half.left, half.right, half.y.tolist(), FOLDS, seed)
            a = np.array([part[t] for t in half.left])
            b = np.array([part[t] for t in half.right])
            folds.append((a, b))
        held = [np.concatenate([np.flatnonzero((a == f) & (b == f)) for f in range(FOLDS)])
                for a, b in folds]
        for half, rows in zip(halves, held, strict=True):
            metric = METRICS[half.metric]
            found.setdefault(("today", 0.0), {}).setdefault(half.name, []).append(
                metric(half.today[rows], half.y[rows]))
        for candidate, penalty in itertools.product(CANDIDATE_SETS, PENALTIES):
            out = [np.zeros(len(half.y)) for half in halves]
            usable = True
            for f in range(FOLDS):
                train = [np.flatnonzero((a != f) & (b != f)) for a, b in folds]
                weights = fit(halves, candidate, penalty, train)
                if weights is None:
                    usable = False
                    break
                for n, (half, (a, b)) in enumerate(zip(halves, folds, strict=True)):
                    test = np.flatnonzero((a == f) & (b == f))
                    out[n][test] = scored(half, candidate, weights, test)
            for n, half in enumerate(halves):
                value = METRICS[half.metric](out[n][held[n]], half.y[held[n]]) if usable else np.nan
                found.setdefault((candidate, penalty), {}).setdefault(half.name, []).append(value)
    return {key: {name: float(np.mean(values)) for name, values in per.items()}
            for key, per in found.items()}


def choose(results: dict[tuple[str, float], dict[str, float]]) -> tuple[str, float] | None:
    """The README's rule: the best CV mean, adopted only with GAIN over today and no benchmark
    more than WORST below it; within TIE of the best, fewest channels, then the larger penalty."""
    today = results[("today", 0.0)]
    means = {key: float(np.mean(list(values.values()))) for key, values in results.items()
             if key[0] != "today" and not np.isnan(list(values.values())).any()}
    if not means:
        return None
    best = max(means.values())
    tied = [key for key, mean in means.items() if mean >= best - TIE]
    chosen = min(tied, key=lambda key: (len(CANDIDATE_SETS[key[0]]), -key[1]))
    top = max(means, key=lambda key: means[key])
    gain = means[top] - float(np.mean(list(today.values())))
    worst = min(results[chosen][name] - today[name] for name in today)
    print(f"best CV mean {best:.4f} ({top[0]}, lambda {top[1]:g}), today "
          f"{np.mean(list(today.values())):.4f}: gain {gain:+.4f} (rule: >= {GAIN}); "
          f"{len(tied)} within {TIE}; the simplest of them: {chosen[0]}, lambda {chosen[1]:g}, "
          f"its worst benchmark against today {worst:+.4f} (rule: >= -{WORST})")
    return chosen if gain >= GAIN and worst >= -WORST else None


def write_model(halves: list[Half], candidate: str, penalty: float) -> None:
    everything = [np.arange(len(half.y)) for half in halves]
    weights = fit(halves, candidate, penalty, everything)
    if weights is None:
        raise SystemExit("the refit's weights do not sum to a positive number: nothing written")
    names = list(CANDIDATE_SETS[candidate])
    model = PairScorer(dict(zip(names, (float(w) for w in weights / weights.sum()), strict=True)),
                       e5_mean_sampled=candidate == "A")
    MODEL_FILE.write_text(json.dumps(model.to_json(candidate, penalty), indent=2) + "\n")
    TRAINING_PAIRS.parent.mkdir(parents=True, exist_ok=True)
    with TRAINING_PAIRS.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\",
                            lineterminator="\n")
        writer.writerow(["benchmark", "text_1", "text_2", "y"])
        for half in halves:
            for a, b, y, english in zip(half.left, half.right, half.y, half.english, strict=True):
                if english:
                    writer.writerow([half.name, a, b, f"{y:g}"])
    print(f"wrote {MODEL_FILE.relative_to(ROOT)} and {TRAINING_PAIRS.relative_to(ROOT)}: "
          + ", ".join(f"{n} {w:+.3f}" for n, w in model.weights.items()))
    for half, rows in zip(halves, everything, strict=True):
        metric = METRICS[half.metric]
        refit = metric(scored(half, candidate, weights, rows), half.y)
        print(f"  refit, {half.name} tuning half: {refit:.4f}  (today {metric(half.today, half.y):.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit the adopted candidate and write it")
    args = parser.parse_args()
    halves = tuning_halves()
    for half in halves:
        print(f"{half.name} tuning half: {len(half.y):,} pairs, {int(half.english.sum()):,} English")
    results = cross_validate(halves)
    names = [half.name for half in halves]
    print(f"{'':18}" + "".join(f"{n:>20}" for n in names) + f"{'mean':>10}")
    for key, values in results.items():
        label = "today's matcher" if key[0] == "today" else f"{key[0]}, lambda {key[1]:g}"
        print(f"{label:18}" + "".join(f"{values[n]:>20.4f}" for n in names)
              + f"{np.mean([values[n] for n in names]):>10.4f}")
    chosen = choose(results)
    print(f"adopted: {chosen[0]}, lambda {chosen[1]:g}" if chosen
          else "adopted: none (today's matcher stays)")
    if args.fit and chosen:
        write_model(halves, *chosen)


if __name__ == "__main__":
    main()
