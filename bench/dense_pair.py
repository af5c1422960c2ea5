"""A semantic side from both packaged encoders, compared on the search tuning judgments (README,
"How search quality is measured": the candidates and the adoption rule were fixed there first).

    python bench/dense_pair.py --e5 DIR --minilm DIR [CANDIDATE ...]
    python bench/dense_pair.py --product DIR


DIR: the same catalogue indexed with `--model e5` and with `--model minilm` (its rows must be the
same records, which is checked). The real pipeline (`search/pipeline.py`) runs over the e5
engine with its semantic side (rows, scores, cut, title cosines) replaced by each candidate's;
the lexical side, exact names, grouping and weighted fusion stay as they are. Prints the cut
calibration, then per candidate hybrid and semantic nDCG@10 per tuning file, over all tuning
queries with the paired 95% interval of the ratio to (a), and hybrid latency p50/p95.
Only the tuning files are read: the check half and the blind set are for `discovery eval`, once.
`--product DIR` times the product itself on a built index instead (`e5` or `e5+minilm`): hybrid
latency p50/p95 over the tuning queries searched a second time (their vectors in memory), and
the process's resident memory after.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import discovery.search.pipeline as pipeline_module
from discovery.index.reader import IndexReader
from discovery.search.evaluate import evaluate, load_judgments, ratio_interval
from discovery.search.fusion import Ranked
from discovery.search.local import LocalEngine
from discovery.search.models import SearchRequest
from discovery.search.pipeline import DEPTH, NOTHING, Settings, run_search
from discovery.search.query import query_languages
from discovery.search.relevance import SemanticCut, semantic_cut
from discovery.search.service import SearchService

TUNING = (Path("bench/judgments/search_tune.tsv"), Path("bench/judgments/search_tune_languages.tsv"),
          Path("bench/judgments/search_tune_more.tsv"))
# queries about nothing in the corpus, for the floor of a cut (as `relevance.py` calibrated its)
OFF_CORPUS = ("car engine repair manual", "qxzv wplk mrtg brop", "chocolate cake recipe with frosting",
              "how to replace a bicycle chain", "football transfer rumours this summer",
              "zzkq bbrt vvlo ppeq")
FLOOR_RANK = 100
KEPT_SHARE = 0.9  # of the tuning files' relevant records a margin keeps
RRF_K = 60


@dataclass
class Side:
    """One model's view of a query: its vector, its unfiltered depth list and its own cut."""

    vector: np.ndarray
    rows: np.ndarray
    scores: np.ndarray
    cut: SemanticCut

    @property
    def best(self) -> float:
        return float(self.scores[0]) if len(self.scores) else 0.0

    @property
    def low(self) -> float:
        return float(self.scores[-1]) if len(self.scores) else 0.0

    def inside(self, rows: np.ndarray, cosines: np.ndarray) -> np.ndarray:
        """Which of `rows` (with these cosines) this model's own cut lets in: the rows of its
        depth list at or above its threshold."""
        listed = np.isin(rows, self.rows)
        return listed & (cosines >= self.cut.threshold(self.best))

    def scaled(self, cosines: np.ndarray) -> np.ndarray:
        span = max(self.best - self.low, 1e-9)
        return np.clip((cosines - self.low) / span, 0.0, 1.0)


@dataclass
class Joint:
    """Both models on the union of their depth lists: each row's two cosines."""

    e5: Side
    minilm: Side
    rows: np.ndarray
    cos_e5: np.ndarray
    cos_minilm: np.ndarray
    english: bool  # read in English only (`query.query_languages` finds no other language)


class Pair:
    """The two indexes of one catalogue and what each says of a query (memoised per query)."""

    def __init__(self, e5_dir: Path, minilm_dir: Path) -> None:
        self.engine = LocalEngine(e5_dir)
        self.minilm = IndexReader(minilm_dir)
        e5 = self.engine.index
        if e5.model != "multilingual-e5-small-q4" or self.minilm.model != "minilm-l6-int8":
            raise SystemExit(f"expected an e5 index at {e5_dir} and a MiniLM one at {minilm_dir}, "
                             f"found {e5.model} and {self.minilm.model}")
        rows = e5.live_rows.tolist()
        if (e5.docs.ids_of(rows) != self.minilm.docs.ids_of(rows)
                or not np.array_equal(e5.live_rows, self.minilm.live_rows)):
            raise SystemExit(f"{e5_dir} and {minilm_dir} do not index the same records in the same rows")
        self.minilm_cut = semantic_cut(self.minilm.model)
        self._joint: dict[str, Joint] = {}

    def joint(self, q: str) -> Joint:
        if q not in self._joint:
            e5, minilm = self.engine.index, self.minilm
            sides = []
            for reader, cut in ((e5, self.engine.cut), (minilm, self.minilm_cut)):
                vector = reader.embed_query(q)
                rows, scores = reader.semantic_search(vector, DEPTH)
                sides.append(Side(vector, rows, scores.astype(np.float64), cut))
            rows = np.union1d(sides[0].rows, sides[1].rows).astype(np.int64)
            self._joint[q] = Joint(sides[0], sides[1], rows, self.cosines(e5, sides[0].vector, rows),
                                   self.cosines(minilm, sides[1].vector, rows),
                                   not query_languages(q))
        return self._joint[q]

    @staticmethod
    def cosines(reader: IndexReader, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        held, scores = reader.vectors.similarities(vector, rows)
        if not np.array_equal(held, rows):
            raise SystemExit(f"{reader.model}: {len(rows) - len(held)} candidate rows have no vector")
        return scores.astype(np.float64)

    def titles(self, reader: IndexReader, vector: np.ndarray, rows: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        held, scores = reader.title_similarities(vector, rows)
        return held, scores.astype(np.float64)


@dataclass
class Semantic:
    """A candidate's semantic side of one query: rows with their scores (best first, at most
    DEPTH), which of them enter, and the best and depth scores fusion scales by."""

    rows: np.ndarray
    scores: np.ndarray
    enter: np.ndarray
    best: float
    low: float


class Candidate:
    """One way to make the semantic side; the subclasses are the README's (a)-(e)."""

    name = ""

    def semantic(self, joint: Joint) -> Semantic:
        raise NotImplementedError

    def titles(self, pair: Pair, joint: Joint, rows: np.ndarray) -> Ranked:
        raise NotImplementedError


def _top(rows: np.ndarray, scores: np.ndarray, enter: np.ndarray) -> Semantic:
    order = np.argsort(-scores, kind="stable")[:DEPTH]
    rows, scores, enter = rows[order], scores[order], enter[order]
    return Semantic(rows, scores, enter, float(scores[0]), float(scores[-1]))


class Single(Candidate):
    """(a) e5 alone, (b) MiniLM alone: exactly the kept pipeline on one model."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.name = {"e5": "(a) e5 alone", "minilm": "(b) MiniLM alone"}[model]

    def side(self, joint: Joint) -> Side:
        return joint.e5 if self.model == "e5" else joint.minilm

    def semantic(self, joint: Joint) -> Semantic:
        side = self.side(joint)
        return Semantic(side.rows, side.scores, side.scores >= side.cut.threshold(side.best),
                        side.best, side.low)

    def titles(self, pair: Pair, joint: Joint, rows: np.ndarray) -> Ranked:
        reader = pair.engine.index if self.model == "e5" else pair.minilm
        return Ranked(*pair.titles(reader, self.side(joint).vector, rows))


class MeanCosine(Candidate):
    """(c) the mean of the two cosines, cut by a cut calibrated on it."""

    name = "(c) mean cosine"
    cut = SemanticCut(floor=-1.0, margin=1.0)  # set by calibrate()

    def scores(self, joint: Joint) -> np.ndarray:
        return (joint.cos_e5 + joint.cos_minilm) / 2

    def semantic(self, joint: Joint) -> Semantic:
        found = _top(joint.rows, self.scores(joint), np.ones(len(joint.rows), bool))
        found.enter = found.scores >= self.cut.threshold(found.best)
        return found

    def titles(self, pair: Pair, joint: Joint, rows: np.ndarray) -> Ranked:
        held, e5 = pair.titles(pair.engine.index, joint.e5.vector, rows)
        also, minilm = pair.titles(pair.minilm, joint.minilm.vector, rows)
        if not np.array_equal(held, also):
            raise SystemExit("the two indexes hold title vectors for different rows")
        return Ranked(held, (e5 + minilm) / 2)


def _either_cut(joint: Joint) -> np.ndarray:
    return joint.e5.inside(joint.rows, joint.cos_e5) | joint.minilm.inside(joint.rows, joint.cos_minilm)


class RankFused(Candidate):
    """(d) the two depth lists fused by rank; a row enters inside either model's own cut."""

    name = "(d) rank fusion"

    def semantic(self, joint: Joint) -> Semantic:
        score = np.zeros(len(joint.rows))
        for side in (joint.e5, joint.minilm):
            where = np.searchsorted(joint.rows, side.rows)
            score[where] += 1 / (RRF_K + np.arange(1, len(side.rows) + 1))
        return _top(joint.rows, score, _either_cut(joint))

    def titles(self, pair: Pair, joint: Joint, rows: np.ndarray) -> Ranked:
        return NOTHING


class MeanScaled(Candidate):
    """(e) the mean of the two cosines, each scaled by its own model's depth and best cosine;
    a row enters inside either model's own cut."""

    name = "(e) mean scaled"

    def semantic(self, joint: Joint) -> Semantic:
        score = (joint.e5.scaled(joint.cos_e5) + joint.minilm.scaled(joint.cos_minilm)) / 2
        return _top(joint.rows, score, _either_cut(joint))

    def titles(self, pair: Pair, joint: Joint, rows: np.ndarray) -> Ranked:
        held, e5 = pair.titles(pair.engine.index, joint.e5.vector, rows)
        _, minilm = pair.titles(pair.minilm, joint.minilm.vector, rows)
        return Ranked(held, (joint.e5.scaled(e5) + joint.minilm.scaled(minilm)) / 2)


class Routed(Candidate):
    """(f), (g): a pair candidate for queries read in English only, e5 alone for the rest."""

    def __init__(self, name: str, english: Candidate) -> None:
        self.name = name
        self.english = english
        self.other = Single("e5")

    def route(self, joint: Joint) -> Candidate:
        return self.english if joint.english else self.other

    def semantic(self, joint: Joint) -> Semantic:
        return self.route(joint).semantic(joint)

    def titles(self, pair: Pair, joint: Joint, rows: np.ndarray) -> Ranked:
        return self.route(joint).titles(pair, joint, rows)


CANDIDATES: dict[str, Candidate] = {c.name[1]: c for c in (
    Single("e5"), Single("minilm"), MeanCosine(), RankFused(), MeanScaled(),
    Routed("(f) (e) if English", MeanScaled()), Routed("(g) (c) if English", MeanCosine()))}


# ---- plumbing: the pipeline's semantic side replaced by the chosen candidate --------------

PAIR: Pair
CHOSEN: dict[str, Candidate] = {}


def _semantic(self: Any, q: str, allowed: Any | None) -> tuple[Ranked, bool]:
    if allowed is not None:
        raise SystemExit("the tuning queries carry no filters; this bench does not apply them")
    found = CHOSEN["candidate"].semantic(PAIR.joint(q))
    if not len(found.rows):
        return NOTHING, True
    complete = bool(len(found.rows) < DEPTH or not found.enter.all())
    return Ranked(found.rows[found.enter], found.scores[found.enter], best=found.best,
                  low=found.low), complete


def _titles(self: Any, q: str, lexical: Ranked, semantic: Ranked) -> Ranked:
    rows = np.union1d(lexical.rows, semantic.rows).astype(np.int64)
    return CHOSEN["candidate"].titles(PAIR, PAIR.joint(q), rows)


def _search(request: SearchRequest) -> list[str]:
    return [hit.id for hit in run_search(PAIR.engine, request, Settings()).hits]


def _run(sets: dict[Path, dict[str, dict[str, int]]], mode: str) -> dict[str, list[float]]:
    return {path.name: [s.ndcg for s in evaluate(_search, judged, mode)[1].values()]
            for path, judged in sets.items()}


# ---- calibration of (c)'s cut, the way relevance.py's were set ---------------------------

def _calibrate(sets: dict[Path, dict[str, dict[str, int]]]) -> None:
    """For e5, MiniLM and the mean cosine: the floor (mean score at rank FLOOR_RANK over the
    off-corpus queries) and the margin keeping KEPT_SHARE of the tuning files' relevant records
    (best - the record's best row, over the record and its items). Sets (c)'s cut."""
    index = PAIR.engine.index
    scorers: dict[str, Callable[[Joint, np.ndarray], np.ndarray]] = {
        "e5": lambda j, rows: Pair.cosines(index, j.e5.vector, rows),
        "minilm": lambda j, rows: Pair.cosines(PAIR.minilm, j.minilm.vector, rows),
        "mean": lambda j, rows: (Pair.cosines(index, j.e5.vector, rows)
                                 + Pair.cosines(PAIR.minilm, j.minilm.vector, rows)) / 2}
    live = index.live_rows
    floors: dict[str, float] = {}
    margins: dict[str, float] = {}
    for name, scorer in scorers.items():
        at_rank = []
        for q in OFF_CORPUS:
            scores = np.sort(scorer(PAIR.joint(q), live))[::-1]
            at_rank.append(float(scores[FLOOR_RANK - 1]))
        floors[name] = float(np.mean(at_rank))
        gaps = []
        for judged in sets.values():
            for q, grades in judged.items():
                relevant = [rid for rid, g in grades.items() if g > 0]
                if not relevant:
                    continue
                joint = PAIR.joint(q)
                best = float(scorer(joint, joint.rows).max())
                for row in index.docs.rows_of(relevant).values():
                    under = index.columns.rows_under(np.asarray([row], np.int64))
                    under = under[index.columns.alive[under]]
                    if len(under):
                        gaps.append(best - float(scorer(joint, np.sort(under)).max()))
        margins[name] = float(np.quantile(gaps, KEPT_SHARE))
    kept = {"e5": PAIR.engine.cut, "minilm": PAIR.minilm_cut}
    for name in scorers:
        note = f" (kept cut: floor {kept[name].floor}, margin {kept[name].margin})" if name in kept else ""
        print(f"cut calibration, {name}: floor {floors[name]:.3f} (mean score at rank {FLOOR_RANK} "
              f"of {len(OFF_CORPUS)} off-corpus queries), margin {margins[name]:.3f} (keeps "
              f"{KEPT_SHARE:.0%} of {len(gaps)} relevant records){note}")
    MeanCosine.cut = SemanticCut(floor=round(floors["mean"], 2), margin=round(margins["mean"], 2))
    print(f"(c) cut: {MeanCosine.cut}")


def _latency(sets: dict[Path, dict[str, dict[str, int]]]) -> tuple[float, float]:
    took = []
    for judged in sets.values():
        for q in judged:
            started = time.perf_counter()
            run_search(PAIR.engine, SearchRequest(q=q, size=10, variables_per_hit=0), Settings())
            took.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(took, 50)), float(np.percentile(took, 95))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def product(data: Path) -> None:
    """The product's hybrid latency and memory on one built index."""
    service = SearchService(data)
    queries = [q for path in TUNING for q in load_judgments(path)]
    took = []
    for timed in (False, True):
        for q in queries:
            started = time.perf_counter()
            service.search(SearchRequest(q=q, size=10))
            took += [(time.perf_counter() - started) * 1000] if timed else []
    meta = service.index.meta
    print(f"{data}: {meta['model']} + {meta.get('english_model', 'nothing')}: hybrid p50 "
          f"{np.percentile(took, 50):.1f} ms, p95 {np.percentile(took, 95):.1f} ms over "
          f"{len(took)} tuning queries; RSS {_rss_mb():.0f} MB")


def main() -> None:
    global PAIR
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--product", type=Path, help="time the product on this built index instead")
    parser.add_argument("--e5", type=Path, help="the catalogue indexed with e5")
    parser.add_argument("--minilm", type=Path, help="the same catalogue indexed with MiniLM")
    parser.add_argument("candidates", nargs="*",
                        help=f"letters to run (default all): {', '.join(CANDIDATES)}")
    args = parser.parse_args()
    if args.product:
        return product(args.product)
    if not (args.e5 and args.minilm):
        parser.error("--e5 and --minilm are both needed to compare the candidates")
    before = _rss_mb()
    PAIR = Pair(args.e5, args.minilm)
    sets = {path: load_judgments(path) for path in TUNING}
    unpatched = _run(sets, "hybrid")
    pipeline_module._Search._semantic = _semantic  # type: ignore[method-assign]
    pipeline_module._Search._titles = _titles  # type: ignore[method-assign]
    for judged in [*sets.values(), {q: {} for q in OFF_CORPUS}]:
        for q in judged:
            PAIR.joint(q)  # both models' query vectors encoded (and both models loaded)
    files = PAIR.minilm._held.files
    extra = sum(Path(p).stat().st_size for p in (files.vectors, files.titles)) / 2**20
    print(f"RSS: {before:.0f} MB before, {_rss_mb():.0f} MB with both indexes and both models "
          f"loaded; MiniLM's vectors.faiss + titles.faiss add {extra:.1f} MB to the index")
    _calibrate(sets)
    chosen = args.candidates or list(CANDIDATES)
    CHOSEN["candidate"] = CANDIDATES["a"]
    replayed = _run(sets, "hybrid")
    if replayed != unpatched:
        raise SystemExit("(a) through this bench differs from the pipeline as it stands")
    kept = [v for scores in replayed.values() for v in scores]
    print("hybrid nDCG@10 per tuning file (semantic-only in brackets); all: mean, ratio to (a) "
          "[paired 95% interval]; hybrid latency p50 / p95 ms")
    for letter in chosen:
        CHOSEN["candidate"] = CANDIDATES[letter]
        hybrid, semantic = _run(sets, "hybrid"), _run(sets, "semantic")
        cells = [f"{CANDIDATES[letter].name:<18}"]
        for file, scores in hybrid.items():
            cells.append(f"{file}: {np.mean(scores):.3f} ({np.mean(semantic[file]):.3f})")
        every = [v for scores in hybrid.values() for v in scores]
        p50, p95 = _latency(sets)
        cells.append(f"all {len(every)}: {np.mean(every):.3f}, x{ratio_interval(every, kept)}")
        english = np.asarray([PAIR.joint(q).english for judged in sets.values()
                              for q, grades in judged.items() if any(g > 0 for g in grades.values())])
        values = np.asarray(every)
        cells.append(f"English {english.sum()}: {values[english].mean():.3f}, "
                     f"other {(~english).sum()}: {values[~english].mean():.3f}")
        cells.append(f"{p50:.1f} / {p95:.1f} ms")
        print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
