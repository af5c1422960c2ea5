"""The similarity of every item to every other: construct equivalence, direction-free, plus polarity.

Two channels, each the better one where it applies (measured in bench/matching.py):

- English pairs: all-MiniLM-L6 vectors of the item and of its core (negations, frequency words
  and pronouns removed, so "Seldom or never disobedient" meets "Frequently disobedient"), centred
  on an item bank and blended with the item's neighbourhood in that bank (the average of its
  nearest bank items), so items that keep the same company score as equivalent.
- Pairs in or across other languages: multilingual-e5 vectors with each language's mean taken
  out (shrunk towards zero for languages with few items), so a translation is closer than an
  unrelated item in the same language.

Scores are cosine similarities (about -1..1, higher = more equivalent); polarity is +1 where the
two items point the same way and -1 where one must be reverse-coded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.language import detect_languages
from discovery.harmonise.polarity import Valence, core_text, directions
from discovery.index.embed import Embedder, EmbeddingCache, get_embedder, normalise

ENGLISH = "en"
LANGUAGE_SHRINK = 3.0  # a language with n items loses n/(n+3) of its mean: little data, less taken
NEIGHBOURS = 50
CONTEXT_WEIGHT = 0.7  # share of the bank neighbourhood in the English channel
CORE_WEIGHT = 0.5  # share of the core text in the English channel
ROWS_PER_BLOCK = 2048

Progress = Callable[[str, int], None]


@dataclass
class Features:
    """What the matcher knows about each item of one pool, ready for matrix products."""

    texts: list[str]
    languages: list[str]
    english: np.ndarray  # bool per item
    context: np.ndarray  # English channel: context @ context.T is the English score
    multilingual: np.ndarray  # language-centred unit vectors
    direction: np.ndarray  # +1/-1 per item

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, rows: Sequence[int] | np.ndarray) -> Features:
        rows = np.asarray(rows, dtype=np.int64)
        return Features([self.texts[i] for i in rows], [self.languages[i] for i in rows],
                        self.english[rows], self.context[rows], self.multilingual[rows],
                        self.direction[rows])


class Matcher:
    """Scores items against each other; encodings are cached when a cache is given."""

    def __init__(self, bank: ItemBank | None = None, cache: EmbeddingCache | None = None,
                 english_model: Embedder | None = None,
                 multilingual_model: Embedder | None = None) -> None:
        self.english_model = english_model or get_embedder("minilm")
        self.multilingual_model = multilingual_model or get_embedder("e5")
        if bank is not None and bank.model != self.english_model.name:
            raise ValueError(f"item bank was built with {bank.model}, not {self.english_model.name}")
        self.bank = bank
        self.cache = cache
        self._valence: dict[str, Valence] = {}

    def valence(self, model: Embedder) -> Valence:
        if model.name not in self._valence:
            self._valence[model.name] = Valence(model)
        return self._valence[model.name]

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

        Only what a pair can use is encoded: MiniLM for English items (the English channel), and
        e5 only when the pool holds another language (cross-language pairs). Directions come from
        one model for the whole pool, so that two items' signs are always comparable. `kept`
        marks the texts whose vectors (and their cores') may be cached; None marks them all."""
        texts = [" ".join(text.split()) for text in texts]
        if not texts:
            raise ValueError("no items to match")
        kept = [True] * len(texts) if kept is None else list(kept)
        cores = [core_text(text) for text in texts]
        languages = detect_languages(texts)
        english = np.array([lang == ENGLISH for lang in languages], dtype=bool)
        ours = np.flatnonzero(english)
        context = np.zeros((len(texts), self._context_dim()), np.float32)
        multilingual = np.zeros((len(texts), self.multilingual_model.dim), np.float32)
        if len(ours):
            ours_kept = [kept[i] for i in ours]
            mini_text = self._encode(self.english_model, [texts[i] for i in ours], progress, ours_kept)
            mini_core = self._encode(self.english_model, [cores[i] for i in ours], progress, ours_kept)
            context[ours] = self._context(mini_text, mini_core)
        if english.all():
            direction = directions(texts, mini_core, self.valence(self.english_model))
        else:
            e5_core = self._encode(self.multilingual_model, cores, progress, kept)
            direction = directions(texts, e5_core, self.valence(self.multilingual_model))
            multilingual = language_centred(self._encode(self.multilingual_model, texts, progress, kept),
                                            languages)
        return Features(texts, languages, english, context, multilingual, direction)

    def _context_dim(self) -> int:
        return self.english_model.dim * (2 if self.bank is None else 4)

    def _context(self, text: np.ndarray, core: np.ndarray) -> np.ndarray:
        mean = self.bank.mean if self.bank is not None else np.vstack([text, core]).mean(0)
        parts = []
        for vectors, weight in ((text, 1 - CORE_WEIGHT), (core, CORE_WEIGHT)):
            centred = normalise(vectors - mean)
            if self.bank is None:
                parts.append(np.sqrt(weight) * centred)
                continue
            parts += [np.sqrt(weight * (1 - CONTEXT_WEIGHT)) * centred,
                      np.sqrt(weight * CONTEXT_WEIGHT) * neighbourhood(centred, self.bank.vectors)]
        return np.hstack(parts).astype(np.float32)

    def scores(self, a: Features, b: Features) -> np.ndarray:
        """Equivalence of every item of `a` (rows) to every item of `b` (columns)."""
        result = a.multilingual @ b.multilingual.T
        rows, cols = np.flatnonzero(a.english), np.flatnonzero(b.english)
        if len(rows) and len(cols):
            result[np.ix_(rows, cols)] = a.context[rows] @ b.context[cols].T
        return result

    @staticmethod
    def polarity(a: Features, b: Features) -> np.ndarray:
        return np.outer(a.direction, b.direction).astype(np.int8)

    def score_pairs(self, left: Sequence[str], right: Sequence[str], progress: Progress | None = None,
                    keep_left: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Score and polarity per pair; the pairs' distinct texts form the pool. With `keep_left`
        false, a text only `left` holds is not cached (a question someone typed)."""
        pool = list(dict.fromkeys([*left, *right]))
        kept_texts = set(right) | (set(left) if keep_left else set())
        features = self.features(pool, progress, [text in kept_texts for text in pool])
        row = {text: i for i, text in enumerate(pool)}
        ia = np.array([row[t] for t in left], dtype=np.int64)
        ib = np.array([row[t] for t in right], dtype=np.int64)
        multilingual = np.einsum("ij,ij->i", features.multilingual[ia], features.multilingual[ib])
        context = np.einsum("ij,ij->i", features.context[ia], features.context[ib])
        both_english = features.english[ia] & features.english[ib]
        score = np.where(both_english, context, multilingual)
        return score, (features.direction[ia] * features.direction[ib]).astype(np.int8)


def language_centred(vectors: np.ndarray, languages: Sequence[str]) -> np.ndarray:
    """Take out the pool's mean, then each language's own mean, shrunk for small languages."""
    centred = vectors.astype(np.float64) - vectors.mean(0)
    codes = np.array(languages)
    for lang in set(languages):
        rows = codes == lang
        n = int(rows.sum())
        centred[rows] -= n / (n + LANGUAGE_SHRINK) * centred[rows].mean(0)
    return normalise(centred)


def neighbourhood(vectors: np.ndarray, bank: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Each row's k nearest bank items, averaged with their similarities as weights."""
    k = min(k, len(bank))
    out = np.empty_like(vectors, dtype=np.float32)
    for start in range(0, len(vectors), ROWS_PER_BLOCK):
        sims = vectors[start:start + ROWS_PER_BLOCK] @ bank.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weights = np.take_along_axis(sims, top, 1).clip(min=0)
        out[start:start + len(sims)] = np.einsum("nk,nkd->nd", weights, bank[top])
    return normalise(out)
