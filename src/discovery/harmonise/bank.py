"""An item bank: many questions from many instruments, the context the matcher reads items in.

Two items that measure one construct tend to have the same neighbours among thousands of other
questionnaire items, even when their own wording differs ("Squirmy, fidgety child" and "Cannot
settle to anything"). Two items that measure different constructs which go together in people
(concentration and worthlessness, both depression) have neighbours from the same instruments. The
bank holds those questions as vectors with the instrument (or study) each came from; the
catalogue's own questions and variables are the natural bank, and any questionnaire files can
serve as one.

Finding an item's neighbours is the costly step of matching (95% of a warm 1,000 x 1,000 match
when it was a dense product and a partial sort per call), so each text's neighbours are kept once
found: a text seen before costs a dictionary look-up.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import faiss
import numpy as np

from discovery.catalogue.protocol import CatalogueStore
from discovery.harmonise.items import item_of, owner_of
from discovery.harmonise.language import detect_languages
from discovery.index.embed import Embedder, EmbeddingCache, normalise
from discovery.model import ITEM_KINDS
from discovery.sources.base import clean

BANK_LANGUAGE = "en"
EXACT_LIMIT = 20_000  # bank vectors; beyond this an HNSW graph replaces the exact scan
HNSW_M = 32
HNSW_EF_SEARCH = 128
KEPT_TEXTS = 50_000  # texts whose neighbours stay remembered (0.8 kB each at 100 neighbours)
KEPT_CONTEXTS = 20_000  # neighbourhood rows that stay remembered (1.5 kB each at 384 dimensions)
QUERY_BLOCK = 4096  # rows per faiss search call, so a large pool's distances stay bounded


@dataclass(frozen=True)
class Neighbours:
    """The nearest bank rows of some texts, best first, with their cosine similarities."""

    rows: np.ndarray  # int32, texts x k
    similarity: np.ndarray  # float32, texts x k

    def top(self, k: int) -> Neighbours:
        return Neighbours(self.rows[:, :k], self.similarity[:, :k])


@dataclass(frozen=True)
class BankTexts:
    """A bank's distinct English texts, sorted, with the groups each came from. English only: the
    bank serves the English channel, and other languages would only blur its mean and
    neighbourhoods."""

    texts: list[str]
    groups: dict[str, set[str]]

    @classmethod
    def of(cls, items: Iterable[tuple[str, str]]) -> BankTexts:
        groups_of: dict[str, set[str]] = {}
        for given, group in items:
            text = clean(given)
            if text:
                groups_of.setdefault(text, set()).add(group)
        unique = sorted(groups_of)
        unique = [text for text, lang in zip(unique, detect_languages(unique), strict=True)
                  if lang == BANK_LANGUAGE]
        if not unique:
            raise ValueError("an item bank needs at least one English question text")
        return cls(unique, {text: groups_of[text] for text in unique})

    def chosen(self, most: int | None = None) -> list[str]:
        """The texts, or with `most` at most that many taken evenly through them: enough for the
        bank's mean where its neighbours are not read, at a fraction of the encoding."""
        if most is None or len(self.texts) <= most:
            return self.texts
        return [self.texts[i] for i in np.linspace(0, len(self.texts) - 1, most).round().astype(int)]


def encode_texts(texts: list[str], embedder: Embedder, cache: EmbeddingCache | None = None,
                 on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """A bank's vectors, through the cache when one is given."""
    return cache.encode(embedder, texts, on_batch=on_batch) if cache else embedder.encode(texts)


@dataclass(eq=False)
class ItemBank:
    """Unit-length, bank-centred vectors of one English-capable model, the bank's mean, and the
    groups (instruments or studies) each vector's text came from: a text found in several groups
    counts a share in each, and a text of no known group counts in none."""

    model: str
    vectors: np.ndarray
    mean: np.ndarray
    group_ids: np.ndarray  # int32, vectors x most groups of one text; -1 pads
    group_shares: np.ndarray  # float32, same shape; 0 where padded
    _index: faiss.Index | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the server's threads
    _found: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = field(default_factory=OrderedDict,
                                                                       repr=False)
    _contexts: OrderedDict[tuple[bytes, int], np.ndarray] = field(default_factory=OrderedDict,
                                                                  repr=False)

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, str]], embedder: Embedder,
                   cache: EmbeddingCache | None = None, most: int | None = None) -> ItemBank:
        """A bank of (text, group) pairs (`BankTexts.of`), at most `most` texts of them."""
        return cls.from_texts(BankTexts.of(items), embedder, cache, most)

    @classmethod
    def from_texts(cls, bank: BankTexts, embedder: Embedder, cache: EmbeddingCache | None = None,
                   most: int | None = None) -> ItemBank:
        """The bank's texts (`bank.chosen(most)`) encoded, through the cache when one is given:
        `encode_texts` is the one encoding step, so a bank encoded ahead of time (`discovery
        index`) leaves this exactly the vectors a bank encoded here would have."""
        unique = bank.chosen(most)
        raw = encode_texts(unique, embedder, cache)
        mean = raw.astype(np.float64).mean(0)
        names = sorted({group for text in unique for group in bank.groups[text] if group})
        number = {name: n for n, name in enumerate(names)}
        known = [sorted(number[g] for g in bank.groups[text] if g) for text in unique]
        width = max(1, max(map(len, known)))
        ids = np.full((len(unique), width), -1, np.int32)
        shares = np.zeros((len(unique), width), np.float32)
        for row, found in enumerate(known):
            ids[row, :len(found)] = found
            shares[row, :len(found)] = 1 / max(len(found), 1)
        return cls(embedder.name, normalise(raw - mean), mean.astype(np.float32), ids, shares)

    def __len__(self) -> int:
        return len(self.vectors)

    def centred(self, vectors: np.ndarray) -> np.ndarray:
        return normalise(vectors - self.mean)

    def neighbours(self, texts: Sequence[str], vectors: np.ndarray, k: int) -> Neighbours:
        """The `k` nearest bank rows of each text's bank-centred vector (`vectors`, one row per
        text). A text whose neighbours were found before is not searched again."""
        k = min(k, len(self))
        keys = [text_key(text) for text in texts]
        rows = np.empty((len(texts), k), np.int32)
        similarity = np.empty((len(texts), k), np.float32)
        todo = []
        with self._lock:
            for position, key in enumerate(keys):
                found = self._found.get(key)
                if found is not None and found[0].shape[0] >= k:
                    self._found.move_to_end(key)
                    rows[position], similarity[position] = found[0][:k], found[1][:k]
                else:
                    todo.append(position)
        if todo:
            new_rows, new_similarity = self._search(vectors[todo], k)
            rows[todo], similarity[todo] = new_rows, new_similarity
            with self._lock:
                for position, found_rows, found_similarity in zip(todo, new_rows, new_similarity,
                                                                   strict=True):
                    self._found[keys[position]] = (found_rows, found_similarity)
                    self._found.move_to_end(keys[position])
                while len(self._found) > KEPT_TEXTS:
                    self._found.popitem(last=False)
        return Neighbours(rows, similarity)

    def _search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._index is None:
                self._index = self._new_index()
        rows = np.empty((len(vectors), k), np.int32)
        similarity = np.empty((len(vectors), k), np.float32)
        for start in range(0, len(vectors), QUERY_BLOCK):
            block = np.ascontiguousarray(vectors[start:start + QUERY_BLOCK], dtype=np.float32)
            found_similarity, found_rows = self._index.search(block, k)
            rows[start:start + len(block)] = found_rows
            similarity[start:start + len(block)] = found_similarity
        return rows, similarity

    def _new_index(self) -> faiss.Index:
        """Exact inner product for a bank this small; an HNSW graph beyond (recall near 1)."""
        dim = self.vectors.shape[1]
        if len(self) <= EXACT_LIMIT:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = graph = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efSearch = HNSW_EF_SEARCH
        index.add(np.ascontiguousarray(self.vectors, dtype=np.float32))
        return index

    def context(self, texts: Sequence[str], vectors: np.ndarray, k: int) -> np.ndarray:
        """Each text's neighbourhood over its `k` nearest bank rows (`neighbourhood`), remembered
        per text: summing the neighbours was a quarter of a warm match's item features."""
        keys = [(text_key(text), k) for text in texts]
        out = np.empty((len(texts), self.vectors.shape[1]), np.float32)
        todo = []
        with self._lock:
            for position, key in enumerate(keys):
                row = self._contexts.get(key)
                if row is None:
                    todo.append(position)
                else:
                    self._contexts.move_to_end(key)
                    out[position] = row
        if todo:
            out[todo] = self.neighbourhood(self.neighbours([texts[i] for i in todo], vectors[todo], k))
            with self._lock:
                for position in todo:
                    self._contexts[keys[position]] = out[position].copy()
                    self._contexts.move_to_end(keys[position])
                while len(self._contexts) > KEPT_CONTEXTS:
                    self._contexts.popitem(last=False)
        return out

    def neighbourhood(self, found: Neighbours) -> np.ndarray:
        """Each text's neighbours averaged with their (non-negative) similarities as weights.
        Summed one neighbour rank at a time: gathering all k neighbours' vectors at once made a
        texts x k x 384 array, the slowest part of a warm match."""
        weights = found.similarity.clip(min=0)
        out = np.zeros((len(found.rows), self.vectors.shape[1]), np.float32)
        for rank in range(found.rows.shape[1]):
            out += weights[:, rank, None] * self.vectors[found.rows[:, rank]]
        return normalise(out)

    def group_profile(self, found: Neighbours) -> np.ndarray:
        """Each text's neighbours' groups weighted by similarity, as unit rows over the groups any
        of these texts reached (columns comparable within one call only). Only the real (text,
        neighbour, group) cells are summed, in neighbour order: nine in ten are padding in the MHC
        bank (a text in up to 15 groups), and summing those zeros was most of this step."""
        ids = self.group_ids[found.rows]  # texts x k x most groups of a text; -1 pads
        text, rank, slot = np.nonzero(ids >= 0)
        groups = ids[text, rank, slot]
        reached = np.flatnonzero(np.bincount(groups, minlength=1))  # no sort: it was slow
        column = np.zeros(int(self.group_ids.max()) + 1, np.int64)
        column[reached] = np.arange(len(reached))
        weights = (found.similarity.clip(min=0)[text, rank]
                   * self.group_shares[found.rows[text, rank], slot])
        profile = np.zeros((len(ids), len(reached)), np.float32)
        np.add.at(profile, (text, column[groups]), weights)  # unbuffered: repeats add up in order
        return normalise(profile)


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def catalogue_question_items(catalogue: CatalogueStore) -> list[tuple[str, str]]:
    """Every question and variable text in the catalogue (a variable's question, else its label),
    with the instrument or study it belongs to."""
    return [(item.text, owner_of(record, "")) for record in catalogue.records_of_kinds(ITEM_KINDS)
            if (item := item_of(record, "")) is not None]
