"""How alike every item is to every other, in three numbers, plus polarity.

- `equivalence`: do the two items ask the same thing? Direction-free, for harmonising.
- `relatedness`: do they measure constructs that go together? Items of one questionnaire score
  high (concentration and worthlessness, both depression) even where they are not equivalent.
- `score`: the number matches are ranked and cut by. For English pairs read against a bank it is
  the learned pair scorer's (`scorer.py`): a weighted sum of the cosines equivalence and
  relatedness are made of, fitted on the benchmarks' tuning halves and chosen there by
  cross-validation (bench/pair_scorer.py). Without a bank, or with `Settings.learned` off (the
  tuning grid of bench/matching.py), it is `equivalence_share` of equivalence and the rest
  relatedness; the grid chose equivalence alone (share 1.0).

Two channels, each the better one where it applies (measured in bench/matching.py):

- English pairs: all-MiniLM-L6 vectors of the item and of its core (negations, frequency words
  and pronouns removed, so "Seldom or never disobedient" meets "Frequently disobedient"). Their
  equivalence is read against an item bank: the vectors centred on the bank's mean and blended
  with the item's neighbourhood there (the average of its nearest bank items), so items that keep
  the same company score as equivalent. `e5_weight` of it may come from a second encoder read
  the same way, multilingual-e5 against the same bank texts encoded by e5 (a second reading of
  the wording; every item is encoded by e5 for its direction anyway). Centring pushes apart
  distinct symptoms that go together in people, so relatedness is read without it: the plain
  cosine of the item vectors, and how much the two items' bank neighbours come from the same
  instruments. Every one of these readings is a channel of `channels.py`.
- Pairs in or across other languages: multilingual-e5 vectors with each language's mean taken
  out (shrunk towards zero for languages with few items), so a translation is closer than an
  unrelated item in the same language. This one number is all three.

Scores are cosine similarities or weighted sums of them (about -1..1, higher = more alike);
polarity is +1 where the two items point the same way, -1 where one must be reverse-coded, and 0
where either item's direction is unclear (`direction.py`: each item's own, from its text alone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.channels import E5_BANK_CHANNELS, Encoded, channel_rows, weighted
from discovery.harmonise.direction import DirectionModel, shipped_model
from discovery.harmonise.language import detect_languages
from discovery.harmonise.polarity import core_text, pair_polarity
from discovery.harmonise.remembered import RememberedVectors
from discovery.harmonise.scorer import shipped_scorer
from discovery.index.embed import Embedder, EmbeddingCache, get_embedder, normalise

ENGLISH = "en"
LANGUAGE_SHRINK = 3.0  # a language with n items loses n/(n+3) of its mean: little data, less taken

Progress = Callable[[str, int], None]
Kind = Literal["score", "equivalence", "relatedness"]
KINDS: tuple[Kind, ...] = ("score", "equivalence", "relatedness")


@dataclass(frozen=True)
class Settings:
    """The English channel's parameters. The defaults were chosen jointly on the tuning halves of
    the pair benchmarks only, by the best mean of their figures with ties going to the simpler
    setting (`python bench/matching.py --tune` prints the grid and the choice): blends with
    relatedness were within 0.001 of equivalence alone there, so it won; among those, a quarter of
    English equivalence read by e5 (without its bank neighbourhood) was the least e5 that tied."""

    neighbours: int = 50  # bank items averaged into an item's neighbourhood (equivalence)
    core_weight: float = 0.25  # share of the core text, against the full text
    context_weight: float = 0.5  # share of the bank neighbourhood, against the item itself
    related_neighbours: int = 20  # bank items whose instruments make an item's group profile
    equivalence_share: float = 1.0  # share of equivalence in the score; relatedness has the rest
    e5_weight: float = 0.25  # share of English equivalence read by e5 rather than by MiniLM
    e5_context: float = 0.0  # share of e5's bank neighbourhood, against the item's e5 vector
    learned: bool = True  # with a bank, the score is the learned pair scorer's, not the share blend

    def equivalence_weights(self) -> dict[str, float]:
        """English equivalence as weights of `channels.py`'s channels (summing to 1)."""
        minilm, e5, core, context = (1 - self.e5_weight, self.e5_weight, self.core_weight,
                                     self.context_weight)
        return {"text": minilm * (1 - core) * (1 - context), "text_context": minilm * (1 - core) * context,
                "core": minilm * core * (1 - context), "core_context": minilm * core * context,
                "e5": e5 * (1 - self.e5_context), "e5_context": e5 * self.e5_context}

    def reads_e5_bank(self) -> bool:
        """Whether a matcher with a bank needs the bank's texts encoded by e5 too."""
        channels = {name for name, weight in self.equivalence_weights().items() if weight > 0}
        if self.learned:
            channels |= set(shipped_scorer().channels)
        return bool(channels & E5_BANK_CHANNELS)


RELATEDNESS_WEIGHTS = {"plain": 0.5, "groups": 0.5}


@dataclass
class Features:
    """What the matcher knows about each item of one pool, ready for matrix products: for English
    items, `block(kind) @ block(kind).T` is the score, equivalence or relatedness. Each block is
    the channels weighted (`channels.weighted`), made when first asked for: a match ranks by the
    score alone and reads the other two for its chosen pairs only, and making all three blocks
    was a fifth of a warm 1,000 x 1,000 match's item features."""

    texts: list[str]
    languages: list[str]
    english: np.ndarray  # bool per item
    channels: dict[str, np.ndarray]  # English readings, zero rows for other languages; the
    # columns of some (the group profile) are comparable within one pool only
    weights: Mapping[Kind, Mapping[str, float]]  # each kind's channel weights
    multilingual: np.ndarray  # language-centred unit vectors
    direction: np.ndarray  # per item: -1 problem, +1 wellbeing, 0 unclear (direction.py)
    _blocks: dict[Kind, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.texts)

    def block(self, kind: Kind, rows: np.ndarray | None = None) -> np.ndarray:
        """Rows whose products are `kind`, of every item (made once) or of `rows` only."""
        if not self.channels:  # no English item: an English block of no columns
            return np.zeros((len(self) if rows is None else len(rows), 0), np.float32)
        if rows is not None and kind not in self._blocks:
            return weighted({name: part[rows] for name, part in self.channels.items()},
                            self.weights[kind])
        if kind not in self._blocks:
            self._blocks[kind] = weighted(self.channels, self.weights[kind])
        found = self._blocks[kind]
        return found if rows is None else found[rows]

    def take(self, rows: Sequence[int] | np.ndarray) -> Features:
        rows = np.asarray(rows, dtype=np.int64)
        return Features([self.texts[i] for i in rows], [self.languages[i] for i in rows],
                        self.english[rows], {name: part[rows] for name, part in self.channels.items()},
                        self.weights, self.multilingual[rows], self.direction[rows])


@dataclass
class PairScores:
    """One value per pair: the blended score, its two parts, and the polarity."""

    score: np.ndarray
    equivalence: np.ndarray
    relatedness: np.ndarray
    polarity: np.ndarray


class Matcher:
    """Scores items against each other; encodings are cached when a cache is given."""

    def __init__(self, bank: ItemBank | None = None, cache: EmbeddingCache | None = None,
                 english_model: Embedder | None = None,
                 multilingual_model: Embedder | None = None,
                 settings: Settings | None = None, direction: DirectionModel | None = None,
                 multilingual_bank: ItemBank | None = None) -> None:
        """`multilingual_bank` (the bank's texts encoded by the multilingual model) is needed
        when a bank is given and `settings.e5_weight` is above 0."""
        self.english_model = english_model or get_embedder("minilm")
        self.multilingual_model = multilingual_model or get_embedder("e5")
        if bank is not None and bank.model != self.english_model.name:
            raise ValueError(f"item bank was built with {bank.model}, not {self.english_model.name}")
        self.settings = settings or Settings()
        if bank is not None and self.settings.reads_e5_bank() and (
                multilingual_bank is None or multilingual_bank.model != self.multilingual_model.name):
            raise ValueError(f"the matcher reads English items partly with "
                             f"{self.multilingual_model.name}, so it needs an item bank of that "
                             f"model's vectors too (multilingual_bank)")
        self.bank = bank
        self.multilingual_bank = multilingual_bank
        self.cache = cache
        self.remembered = RememberedVectors(cache) if cache is not None else None
        self.direction = direction or shipped_model()
        if self.direction.encoder != self.multilingual_model.name:
            raise ValueError(f"direction model reads {self.direction.encoder} vectors, "
                             f"not {self.multilingual_model.name}")

    def _encode(self, model: Embedder, texts: list[str], progress: Progress | None,
                kept: Sequence[bool] | None = None) -> np.ndarray:
        """Vectors of `texts`. Those `kept` marks (all, when None) go through the cache; the others
        are encoded afresh and never stored, so anonymous input (a web request's items) cannot
        grow the cache on disk: a 2,000-item request used to add 4,000 vectors for good."""
        unique = list(dict.fromkeys(texts))
        if self.cache is None:
            stored: set[str] = set()
        else:
            stored = set(texts) if kept is None else {t for t, k in zip(texts, kept, strict=True) if k}
        through_cache = [text for text in unique if text in stored]
        fresh = [text for text in unique if text not in stored]
        vectors: dict[str, np.ndarray] = {}
        if through_cache and self.remembered is not None:
            on_batch = (lambda n: progress(model.name, n)) if progress else None
            encoded = self.remembered.encode(model, through_cache, on_batch=on_batch)
            vectors.update(zip(through_cache, encoded, strict=True))
        if fresh:
            vectors.update(zip(fresh, model.encode(fresh, "passage"), strict=True))
            if progress:
                progress(model.name, len(fresh))
        if not texts:
            return np.zeros((0, model.dim), np.float32)
        return np.vstack([vectors[text] for text in texts]).astype(np.float32, copy=False)

    def features(self, texts: Sequence[str], progress: Progress | None = None,
                 kept: Sequence[bool] | None = None) -> Features:
        """Encode a pool of items; every item later compared must be in the same pool.

        MiniLM encodes English items (the English channel), e5 every item: its direction, and
        the pairs in or across other languages. An item's direction depends on its own text only,
        so a pair has one polarity in every pool (score-pairs, the harmonise page and API, the
        crosswalk). `kept` marks the texts whose vectors (and their cores') may be cached; None
        marks them all."""
        texts = [" ".join(text.split()) for text in texts]
        if not texts:
            raise ValueError("no items to match")
        kept = [True] * len(texts) if kept is None else list(kept)
        cores = [core_text(text) for text in texts]
        languages = detect_languages(texts)
        english = np.array([lang == ENGLISH for lang in languages], dtype=bool)
        ours = np.flatnonzero(english)
        e5_text = self._encode(self.multilingual_model, texts, progress, kept)
        channels: dict[str, np.ndarray] = {}
        weights: Mapping[Kind, Mapping[str, float]] = {kind: {} for kind in KINDS}
        multilingual = np.zeros((len(texts), self.multilingual_model.dim), np.float32)
        if len(ours):
            ours_kept = [kept[i] for i in ours]
            ours_texts, ours_cores = [texts[i] for i in ours], [cores[i] for i in ours]
            encoded = Encoded(ours_texts, ours_cores,
                              self._encode(self.english_model, ours_texts, progress, ours_kept),
                              self._encode(self.english_model, ours_cores, progress, ours_kept),
                              e5_text[ours])
            read, weights = self._english(encoded)
            for name, part in read.items():
                if len(ours) == len(texts):
                    channels[name] = part
                else:
                    channels[name] = np.zeros((len(texts), part.shape[1]), np.float32)
                    channels[name][ours] = part
        direction = self.direction.directions(texts, e5_text)
        if not english.all():
            multilingual = language_centred(e5_text, languages)
        return Features(texts, languages, english, channels, weights, multilingual, direction)

    def _english(self, items: Encoded) -> tuple[dict[str, np.ndarray], dict[Kind, dict[str, float]]]:
        """The English channel's readings (`channels.py`) and the weights that make the score,
        equivalence and relatedness of them. Without a bank, the pool's own means stand in for
        the bank's, and relatedness is the plain cosine of the items."""
        settings = self.settings
        if self.bank is None:
            mean = np.vstack([items.minilm_text, items.minilm_core]).mean(0)
            rows = {"text": normalise(items.minilm_text - mean), "core": normalise(items.minilm_core - mean),
                    "e5": normalise(items.e5_text - items.e5_text.mean(0)),
                    "plain": items.minilm_text}  # unit rows already
            weights = settings.equivalence_weights()
            equivalence = {"text": weights["text"] + weights["text_context"],
                           "core": weights["core"] + weights["core_context"],
                           "e5": weights["e5"] + weights["e5_context"]}
            relatedness = {"plain": 1.0}
            return rows, {"score": self._blend(equivalence, relatedness), "equivalence": equivalence,
                          "relatedness": relatedness}
        equivalence = settings.equivalence_weights()
        score = shipped_scorer().weights if settings.learned else self._blend(equivalence,
                                                                              RELATEDNESS_WEIGHTS)
        names = {name for weights in (equivalence, RELATEDNESS_WEIGHTS, score)
                 for name, weight in weights.items() if weight > 0}
        rows = channel_rows(items, self.bank, self.multilingual_bank, sorted(names),
                            settings.neighbours, settings.related_neighbours)
        return rows, {"score": dict(score), "equivalence": equivalence,
                      "relatedness": dict(RELATEDNESS_WEIGHTS)}

    def _blend(self, equivalence: Mapping[str, float], relatedness: Mapping[str, float]
               ) -> dict[str, float]:
        """Channel weights whose rows' product is `equivalence_share` of equivalence and the
        rest relatedness (a channel in both gets both shares)."""
        share = self.settings.equivalence_share
        blend: dict[str, float] = {}
        for weights, part in ((equivalence, share), (relatedness, 1 - share)):
            for name, weight in weights.items():
                blend[name] = blend.get(name, 0.0) + part * weight
        return blend

    def scores(self, a: Features, b: Features, kind: Kind = "score") -> np.ndarray:
        """`kind` of every item of `a` (rows) to every item of `b` (columns).

        The English channel's product covers every pair (a non-English item's English blocks are
        zero), then the rows and columns of non-English items are overwritten from e5: with mostly
        English items this is one large product and two thin ones, where writing the English block
        into a full multilingual matrix cost a 10,000 x 10,000 scatter."""
        result = a.block(kind) @ b.block(kind).T
        rows, cols = np.flatnonzero(~a.english), np.flatnonzero(~b.english)
        if len(rows):
            result[rows] = a.multilingual[rows] @ b.multilingual.T
        if len(cols):
            result[:, cols] = a.multilingual @ b.multilingual[cols].T
        return result

    @staticmethod
    def polarity(a: Features, b: Features) -> np.ndarray:
        return pair_polarity(a.direction[:, None], b.direction[None, :])

    def score_pairs(self, left: Sequence[str], right: Sequence[str], progress: Progress | None = None,
                    keep_left: bool = True) -> PairScores:
        """Scores and polarity per pair; the pairs' distinct texts form the pool. With `keep_left`
        false, a text only `left` holds is not cached (a question someone typed)."""
        pool = list(dict.fromkeys([*left, *right]))
        kept_texts = set(right) | (set(left) if keep_left else set())
        features = self.features(pool, progress, [text in kept_texts for text in pool])
        row = {text: i for i, text in enumerate(pool)}
        return self.pair_scores(features, [row[t] for t in left], [row[t] for t in right])

    def pair_scores(self, features: Features, left: Sequence[int], right: Sequence[int]) -> PairScores:
        """Scores and polarity of the pairs (left[n], right[n]) of one pool's rows."""
        ia, ib = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
        both_english = features.english[ia] & features.english[ib]
        multilingual = np.einsum("ij,ij->i", features.multilingual[ia], features.multilingual[ib])
        parts = {kind: np.where(both_english, np.einsum("ij,ij->i", features.block(kind, ia),
                                                        features.block(kind, ib)), multilingual)
                 for kind in KINDS}
        return PairScores(parts["score"], parts["equivalence"], parts["relatedness"],
                          pair_polarity(features.direction[ia], features.direction[ib]))


def language_centred(vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Take out the pool's mean, then each language's own mean, shrunk for small languages."""
    centred = vectors.astype(np.float64) - vectors.mean(0)
    codes = np.array(languages)
    for lang in set(languages):
        rows = codes == lang
        n = int(rows.sum())
        centred[rows] -= n / (n + LANGUAGE_SHRINK) * centred[rows].mean(0)
    return normalise(centred)
