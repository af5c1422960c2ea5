"""An item bank: many questions from many instruments, the context the matcher reads items in.

Two items that measure one construct tend to have the same neighbours among thousands of other
questionnaire items, even when their own wording differs ("Squirmy, fidgety child" and "Cannot
settle to anything"). The bank holds those questions as vectors; the catalogue's own questions and
variables are the natural bank, and any questionnaire files can serve as one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from discovery.catalogue.store import Catalogue
from discovery.harmonise.items import item_of
from discovery.harmonise.language import detect_languages
from discovery.index.embed import Embedder, EmbeddingCache, normalise
from discovery.model import ITEM_KINDS
from discovery.sources.base import clean

BANK_LANGUAGE = "en"


@dataclass(frozen=True)
class ItemBank:
    """Unit-length, bank-centred vectors of one English-capable model, and the bank's mean."""

    model: str
    vectors: np.ndarray
    mean: np.ndarray

    @classmethod
    def from_texts(cls, texts: Iterable[str], embedder: Embedder,
                   cache: EmbeddingCache | None = None) -> ItemBank:
        """The English texts among `texts`: the bank serves the English channel only, and other
        languages would only blur its mean and neighbourhoods."""
        unique = sorted({text for text in map(clean, texts) if text})
        unique = [text for text, lang in zip(unique, detect_languages(unique), strict=True)
                  if lang == BANK_LANGUAGE]
        if not unique:
            raise ValueError("an item bank needs at least one English question text")
        raw = cache.encode(embedder, unique) if cache else embedder.encode(unique)
        mean = raw.astype(np.float64).mean(0)
        return cls(embedder.name, normalise(raw - mean), mean.astype(np.float32))

    def __len__(self) -> int:
        return len(self.vectors)


def catalogue_question_texts(catalogue: Catalogue) -> list[str]:
    """Every question and variable text in the catalogue (a variable's question, else its label)."""
    return [item.text for record in catalogue.records_of_kinds(ITEM_KINDS)
            if (item := item_of(record, "")) is not None]
