"""How alike every item is to every other, in three numbers, plus polarity.

- `equivalence`: do the two items ask the same thing? Direction-free, for harmonising.
- `relatedness`: do they measure constructs that go together? Items of one questionnaire score
  high (concentration and worthlessness, both depression) even where they are not equivalent.
- `score`: the number matches are ranked and cut by, `equivalence_share` of equivalence and the
  rest relatedness. The share is chosen on the benchmarks' tuning halves with the other settings;
  that choice is equivalence alone (share 1.0), so by default `score` is `equivalence` and
  relatedness is reported beside it, not mixed in.

Two channels, each the better one where it applies (measured in bench/matching.py):

- English pairs: all-MiniLM-L6 vectors of the item and of its core (negations, frequency words
  and pronouns removed, so "Seldom or never disobedient" meets "Frequently disobedient"). Their
  equivalence is read against an item bank: the vectors centred on the bank's mean and blended
  with the item's neighbourhood there (the average of its nearest bank items), so items that keep
  the same company score as equivalent. `e5_weight` of it may come from a second encoder read
  the same way, multilingual-e5 against the same bank texts encoded by e5 (a second reading of
  the wording; every item is encoded by e5 for its direction anyway). Centring pushes apart distinct symptoms
  that go together in people, so relatedness is read without it: the plain cosine of the item
  vectors, and how much the two items' bank neighbours come from the same instruments.
- Pairs in or across other languages: multilingual-e5 vectors with each language's mean taken
  out (shrunk towards zero for languages with few items), so a translation is closer than an
  unrelated item in the same language. This one number is all three.

Scores are cosine similarities or blends of them (about -1..1, higher = more alike); polarity is
+1 where the two items point the same way, -1 where one must be reverse-coded, and 0 where either
item's direction is unclear (`direction.py`: each item's own, from its text alone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.language import detect_languages
from discovery.harmonise.direction import DirectionModel, shipped_model
from discovery.harmonise.polarity import core_text, pair_polarity
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


@dataclass
class Features:
    """What the matcher knows about each item of one pool, ready for matrix products: for English
    items, `equivalence @ equivalence.T` and `relatedness @ relatedness.T` are those scores."""

    texts: list[str]
    languages: list[str]
    english: np.ndarray  # bool per item
    equivalence: np.ndarray
    relatedness: np.ndarray  # its columns are comparable within one pool only
    multilingual: np.ndarray  # language-centred unit vectors
    direction: np.ndarray  # per item: -1 problem, +1 wellbeing, 0 unclear (direction.py)

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, rows: Sequence[int] | np.ndarray) -> Features:
        rows = np.asarray(rows, dtype=np.int64)
        return Features([self.texts[i] for i in rows], [self.languages[i] for i in rows],
                        self.english[rows], self.equivalence[rows], self.relatedness[rows],
                        self.multilingual[rows], self.direction[rows])


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
        if bank is not None and self.settings.e5_weight > 0 and (
                multilingual_bank is None or multilingual_bank.model != self.multilingual_model.name):
            raise ValueError(f"the matcher reads English equivalence partly with "
                             f"{self.multilingual_model.name}, so it needs an item bank of that "
                             f"model's vectors too (multilingual_bank)")
        self.bank = bank
        self.multilingual_bank = multilingual_bank
        self.cache = cache
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
        if through_cache and self.cache is not None:
            on_batch = (lambda n: progress(model.name, n)) if progress else None
            encoded = self.cache.encode(model, through_cache, "passage", on_batch=on_batch)
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
        equivalence = np.zeros((len(texts), 0), np.float32)
        relatedness = np.zeros((len(texts), 0), np.float32)
        multilingual = np.zeros((len(texts), self.multilingual_model.dim), np.float32)
        if len(ours):
            ours_kept = [kept[i] for i in ours]
            mini_text = self._encode(self.english_model, [texts[i] for i in ours], progress, ours_kept)
            mini_core = self._encode(self.english_model, [cores[i] for i in ours], progress, ours_kept)
            english_parts = self._english([texts[i] for i in ours], [cores[i] for i in ours],
                                          mini_text, mini_core, e5_text[ours])
            equivalence = np.zeros((len(texts), english_parts[0].shape[1]), np.float32)
            equivalence[ours] = english_parts[0]
            relatedness = np.zeros((len(texts), english_parts[1].shape[1]), np.float32)
            relatedness[ours] = english_parts[1]
        direction = self.direction.directions(texts, e5_text)
        if not english.all():
            multilingual = language_centred(e5_text, languages)
        return Features(texts, languages, english, equivalence, relatedness, multilingual, direction)

    def _english(self, texts: list[str], cores: list[str], text_vectors: np.ndarray,
                 core_vectors: np.ndarray, e5_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The English channel's equivalence and relatedness blocks, as rows whose dot products
        are the scores: equivalence is MiniLM's part and e5's side by side, weighted so that the
        product is their blend (a part of weight 0 is left out, not multiplied by 0). Without a
        bank, the pool's own means stand in for the bank's, and relatedness is the plain cosine
        of the items."""
        settings = self.settings
        if self.bank is None:
            mean = np.vstack([text_vectors, core_vectors]).mean(0)
            minilm = np.hstack([np.sqrt(1 - settings.core_weight) * normalise(text_vectors - mean),
                                np.sqrt(settings.core_weight) * normalise(core_vectors - mean)])
            return (self._with_e5(minilm, lambda: normalise(e5_vectors - e5_vectors.mean(0))),
                    text_vectors.copy())
        bank = self.bank
        centred_text, centred_core = bank.centred(text_vectors), bank.centred(core_vectors)
        k = max(settings.neighbours, settings.related_neighbours)
        found_text = bank.neighbours(texts, centred_text, k)
        found_core = bank.neighbours(cores, centred_core, k)
        parts = []
        for centred, found, weight in ((centred_text, found_text, 1 - settings.core_weight),
                                       (centred_core, found_core, settings.core_weight)):
            parts += [np.sqrt(weight * (1 - settings.context_weight)) * centred,
                      np.sqrt(weight * settings.context_weight)
                      * bank.neighbourhood(found.top(settings.neighbours))]
        profile = bank.group_profile(found_text.top(settings.related_neighbours))
        equivalence = self._with_e5(np.hstack(parts), lambda: self._e5_rows(texts, e5_vectors))
        return equivalence, np.sqrt(0.5) * np.hstack([text_vectors, profile])

    def _e5_rows(self, texts: list[str], e5_vectors: np.ndarray) -> np.ndarray:
        """e5's equivalence rows, read against its bank as MiniLM's are: the centred vector beside
        the neighbourhood, weighted by `e5_context`."""
        bank, context = self.multilingual_bank, self.settings.e5_context
        assert bank is not None  # __init__ refuses an e5 weight with a bank but no multilingual_bank
        centred = bank.centred(e5_vectors)
        if context <= 0:
            return centred
        found = bank.neighbours(texts, centred, self.settings.neighbours)
        return np.hstack([np.sqrt(1 - context) * centred,
                          np.sqrt(context) * bank.neighbourhood(found)])

    def _with_e5(self, minilm: np.ndarray, e5_rows: Callable[[], np.ndarray]) -> np.ndarray:
        """MiniLM's equivalence rows (unit length) beside e5's (`e5_rows`, computed only when
        used), weighted by `e5_weight`."""
        e5 = self.settings.e5_weight
        if e5 <= 0:
            return minilm
        rows = np.sqrt(e5) * e5_rows()
        return rows if e5 >= 1 else np.hstack([np.sqrt(1 - e5) * minilm, rows])

    def scores(self, a: Features, b: Features, kind: Kind = "score") -> np.ndarray:
        """`kind` of every item of `a` (rows) to every item of `b` (columns).

        The English channel's product covers every pair (a non-English item's English blocks are
        zero), then the rows and columns of non-English items are overwritten from e5: with mostly
        English items this is one large product and two thin ones, where writing the English block
        into a full multilingual matrix cost a 10,000 x 10,000 scatter."""
        result = self._blocks(a, kind) @ self._blocks(b, kind).T
        rows, cols = np.flatnonzero(~a.english), np.flatnonzero(~b.english)
        if len(rows):
            result[rows] = a.multilingual[rows] @ b.multilingual.T
        if len(cols):
            result[:, cols] = a.multilingual @ b.multilingual[cols].T
        return result

    def _blocks(self, features: Features, kind: Kind) -> np.ndarray:
        if kind == "equivalence":
            return features.equivalence
        if kind == "relatedness":
            return features.relatedness
        share = self.settings.equivalence_share
        return np.hstack([np.sqrt(share) * features.equivalence,
                          np.sqrt(1 - share) * features.relatedness])

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
        parts = {name: np.where(both_english, np.einsum("ij,ij->i", block[ia], block[ib]), multilingual)
                 for name, block in (("equivalence", features.equivalence),
                                     ("relatedness", features.relatedness))}
        share = self.settings.equivalence_share
        score = np.where(both_english, share * parts["equivalence"] + (1 - share) * parts["relatedness"],
                         multilingual)
        return PairScores(score, parts["equivalence"], parts["relatedness"],
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
