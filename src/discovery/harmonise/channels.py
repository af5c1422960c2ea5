"""The English channel's readings of an item, each a set of unit rows whose dot products are one
cosine per pair. Equivalence, relatedness and the learned score (`scorer.py`) are weighted sums
of them; keeping every reading a dot product keeps any such sum one matrix product for a pool, so
a pair scores the same in a matrix and alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from discovery.harmonise.bank import ItemBank, Neighbours
from discovery.index.embed import normalise

NEIGHBOURS = 50  # bank items averaged into a neighbourhood (the matcher's tuned setting)
FEW_NEIGHBOURS = 10  # the narrower neighbourhood of `text_context_10`
GROUP_NEIGHBOURS = 20  # bank items whose instruments make the group profile

CHANNELS = ("text", "text_context", "core", "core_context", "e5", "e5_context", "plain", "groups",
            "text_context_10", "e5_plain")
E5_BANK_CHANNELS = frozenset({"e5", "e5_context"})  # read against the e5 bank (its mean at least)
E5_NEIGHBOUR_CHANNELS = frozenset({"e5_context"})  # these need every e5 bank vector, not its mean


@dataclass(frozen=True)
class Encoded:
    """One pool's English items: texts, cores and their vectors."""

    texts: list[str]
    cores: list[str]
    minilm_text: np.ndarray
    minilm_core: np.ndarray
    e5_text: np.ndarray


def channel_rows(items: Encoded, bank: ItemBank, e5_bank: ItemBank | None, names: Sequence[str],
                 neighbours: int = NEIGHBOURS, related_neighbours: int = GROUP_NEIGHBOURS
                 ) -> dict[str, np.ndarray]:
    """The rows of each channel in `names`, for every item of the pool (the group profile's
    columns are comparable within one call only, so a pool is read in one call). Each bank search
    runs once, for the most neighbours any asked channel needs."""
    unknown = set(names) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown channels: {', '.join(sorted(unknown))}")
    if e5_bank is None and E5_BANK_CHANNELS & set(names):
        raise ValueError("channels read against the e5 bank need an e5 bank")
    text, core = bank.centred(items.minilm_text), bank.centred(items.minilm_core)

    @cache
    def found_text() -> Neighbours:
        return bank.neighbours(items.texts, text, max(neighbours, related_neighbours))

    @cache
    def e5() -> np.ndarray:
        assert e5_bank is not None  # refused above
        return e5_bank.centred(items.e5_text)

    def e5_context() -> np.ndarray:
        assert e5_bank is not None  # refused above
        return e5_bank.context(items.texts, e5(), neighbours)

    readers: Mapping[str, Callable[[], np.ndarray]] = {
        "text": lambda: text,
        "text_context": lambda: bank.context(items.texts, text, neighbours),
        "core": lambda: core,
        "core_context": lambda: bank.context(items.cores, core, neighbours),
        "e5": e5,
        "e5_context": e5_context,
        "plain": lambda: normalise(items.minilm_text),
        "groups": lambda: bank.group_profile(found_text().top(related_neighbours)),
        "text_context_10": lambda: bank.context(items.texts, text, FEW_NEIGHBOURS),
        "e5_plain": lambda: normalise(items.e5_text),
    }
    return {name: readers[name]() for name in names}


def weighted(rows: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The channels side by side, each scaled by the square root of its (non-negative) weight, so
    that a product of two such rows is the weighted sum of the channels' cosines. A channel of
    weight 0 is left out, not multiplied by 0. Each product is written into the float32 result
    as it is made (exactly the float64 product rounded, as before), not stacked in float64 first:
    that copy was most of this step in a warm match."""
    parts = [(np.sqrt(weight), rows[name]) for name, weight in weights.items() if weight > 0]
    out = np.empty((len(parts[0][1]), sum(part.shape[1] for _, part in parts)), np.float32)
    start = 0
    for scale, part in parts:
        np.multiply(scale, part, out=out[:, start:start + part.shape[1]], casting="same_kind")
        start += part.shape[1]
    return out
