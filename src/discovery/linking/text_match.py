"""Textual evidence that a dataset came from a grant when no identifier says so.

Depositors often describe a dataset with passages of the grant's abstract, name the study in both
places and name the funder. Each of these alone is weak (many grants share a funder; passages can
be boilerplate), so a link needs a shared passage *and* a second, independent sign: the study's
name in the grant's texts or the same funder. A funder the two records name differently vetoes it.

Candidates come from an inverted index of word shingles over grant texts, so a dataset is only
compared with grants it shares passages with; shingles many grants share (boilerplate) are
dropped from the index.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from discovery.linking.funders import canonical_funders, funders_named

SHINGLE = 6  # words per shingle: long enough that sharing one is rarely chance
MIN_SHARED = 3  # shingles a dataset must share with a grant to be compared at all
COMMON_SHINGLE = 5  # a shingle in more grants than this is boilerplate
PASSAGE_WORDS = 25  # a verbatim run this long is a shared passage...
CONTAINMENT = 0.2  # ...as is this share of the grant abstract's shingles
COSINE_SUPPORT = 0.3
BASE_CONFIDENCE = 0.55
MAX_CONFIDENCE = 0.8  # textual links stay below identifier-based ones (0.9-1.0)
_WORD = re.compile(r"\w+")
_YEARS = re.compile(r"\b(?:1[89]|20)\d\d(?:\s*[-/–]\s*(?:1[89]|20)?\d\d)?\b")
_DATA_WORDS = re.compile(r"\b(?:data(?:set|sets)?|data collection|files?|archive)\s*$", re.I)
_STOP = frozenset("a an and are as at be by for from has have in is it of on or that the this to "
                  "was were which with will we our their they these those its not".split())


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def shingles(tokens: list[str], size: int = SHINGLE) -> list[str]:
    return [" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)]


def study_name(title: str) -> str | None:
    """The name a dataset's study goes by, from the dataset's title: `The Relations Study Data,
    2021-2022` -> `Relations Study`. None when too short to be distinctive."""
    name = _YEARS.sub(" ", title)
    name = re.sub(r"[,:;()\[\]]+", " ", name)
    name = " ".join(name.split())
    name = _DATA_WORDS.sub("", name).strip(" -–.")
    name = re.sub(r"^(?:the|a|an)\s+", "", name, flags=re.I)
    significant = [w for w in words(name) if w not in _STOP]
    if len(significant) < 2 or len(name) < 8:
        return None
    return name


@dataclass
class GrantText:
    """What a grant offers to textual matching."""

    id: str
    abstract: list[str]  # tokens of title, abstract and technical abstract
    everything: str  # lower-cased text of the grant and its outputs, for name mentions
    funders: set[str]  # funder names the grant states
    funders_mentioned: set[str]  # ...and those its texts name


@dataclass
class DatasetText:
    id: str
    title: str
    tokens: list[str]
    funders: set[str]
    funders_mentioned: set[str]


@dataclass
class TextEvidence:
    """Why a dataset and a grant look related, with the numbers that decided it."""

    dataset: str
    grant: str
    passage_words: int
    passage: str
    containment: float
    cosine: float
    names: list[str] = field(default_factory=list)
    funders: list[str] = field(default_factory=list)
    funder_conflict: str | None = None

    @property
    def shares_passage(self) -> bool:
        return self.passage_words >= PASSAGE_WORDS or self.containment >= CONTAINMENT

    def confidence(self) -> float | None:
        """None when the evidence is not enough for a link."""
        if not self.shares_passage or self.funder_conflict or not (self.names or self.funders):
            return None
        score = BASE_CONFIDENCE + 0.1 * bool(self.names) + 0.1 * bool(self.funders) + \
            0.05 * (self.cosine >= COSINE_SUPPORT)
        return round(min(score, MAX_CONFIDENCE), 2)

    def describe(self) -> str:
        parts = [f"text shared with the grant: a {self.passage_words}-word passage "
                 f"(\"{self.passage}\"), {self.containment:.0%} of the abstract's "
                 f"{SHINGLE}-word phrases, TF-IDF cosine {self.cosine:.2f}"]
        if self.names:
            parts.append("study name " + ", ".join(f"\"{n}\"" for n in self.names) + " in both")
        if self.funders:
            parts.append("same funder " + ", ".join(self.funders))
        return "; ".join(parts)


class TextMatcher:
    """Grants indexed once; datasets matched against them one at a time."""

    def __init__(self, grants: list[GrantText], datasets: Iterable[DatasetText]) -> None:
        self.grants = {g.id: g for g in grants}
        self.grant_shingles = {g.id: set(shingles(g.abstract)) for g in grants}
        holders: dict[str, list[str]] = {}
        for gid, grant_shingles in self.grant_shingles.items():
            for shingle in grant_shingles:
                holders.setdefault(shingle, []).append(gid)
        self.index = {s: ids for s, ids in holders.items() if len(ids) <= COMMON_SHINGLE}
        # document frequencies over grants and datasets, for TF-IDF
        self.df: Counter[str] = Counter()
        self.documents = 0
        for tokens in [g.abstract for g in grants] + [d.tokens for d in datasets]:
            self.df.update(set(tokens) - _STOP)
            self.documents += 1

    def match(self, dataset: DatasetText) -> list[TextEvidence]:
        positions = shingles(dataset.tokens)
        shared: Counter[str] = Counter()
        for shingle in set(positions):
            for gid in self.index.get(shingle, ()):
                shared[gid] += 1
        found = []
        for gid, count in sorted(shared.items()):
            if count >= MIN_SHARED:
                found.append(self._evidence(dataset, self.grants[gid], positions))
        return found

    def _evidence(self, dataset: DatasetText, grant: GrantText, positions: list[str]) -> TextEvidence:
        theirs = self.grant_shingles[grant.id]
        best_start, best_length, start = 0, 0, None
        for i, shingle in enumerate(positions + [""]):
            if shingle in theirs:
                start = i if start is None else start
                continue
            if start is not None and i - start > best_length:
                best_start, best_length = start, i - start
            start = None
        run_words = best_length + SHINGLE - 1 if best_length else 0
        passage_tokens = dataset.tokens[best_start:best_start + min(run_words, 12)]
        passage = " ".join(passage_tokens) + (" …" if run_words > 12 else "")
        containment = len(theirs & set(positions)) / len(theirs) if theirs else 0.0
        evidence = TextEvidence(dataset=dataset.id, grant=grant.id, passage_words=run_words,
                                passage=passage, containment=containment,
                                cosine=self._cosine(dataset.tokens, grant.abstract))
        name = study_name(dataset.title)
        if name and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", grant.everything):
            evidence.names.append(name)
        stated = dataset.funders and grant.funders
        if stated and dataset.funders.isdisjoint(grant.funders):
            evidence.funder_conflict = (f"dataset funders {', '.join(sorted(dataset.funders))} vs "
                                        f"grant funder {', '.join(sorted(grant.funders))}")
        both = (dataset.funders | dataset.funders_mentioned) & (grant.funders | grant.funders_mentioned)
        evidence.funders = sorted(both)
        return evidence

    def _cosine(self, a: list[str], b: list[str]) -> float:
        va, vb = self._vector(a), self._vector(b)
        dot = sum(weight * vb.get(term, 0.0) for term, weight in va.items())
        norm = math.sqrt(sum(w * w for w in va.values())) * math.sqrt(sum(w * w for w in vb.values()))
        return dot / norm if norm else 0.0

    def _vector(self, tokens: list[str]) -> dict[str, float]:
        counts = Counter(t for t in tokens if t not in _STOP)
        return {t: (1 + math.log(n)) * math.log((1 + self.documents) / (1 + self.df[t]))
                for t, n in counts.items()}


def dataset_text(rid: str, title: str, texts: Iterable[str], funders: Iterable[str]) -> DatasetText:
    body = " ".join([title, *texts])
    return DatasetText(id=rid, title=title, tokens=words(body),
                       funders=canonical_funders(funders), funders_mentioned=funders_named(body))


def grant_text(rid: str, title: str, abstracts: Iterable[str], other_texts: Iterable[str],
               funders: Iterable[str]) -> GrantText:
    abstracts = [t for t in abstracts if t]
    everything = " ".join([title, *abstracts, *[t for t in other_texts if t]])
    return GrantText(id=rid, abstract=words(" ".join([title, *abstracts])),
                     everything=" ".join(everything.lower().split()),
                     funders=canonical_funders(funders), funders_mentioned=funders_named(everything))
