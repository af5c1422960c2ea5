"""The English channel's readings of an item, each a set of unit rows whose dot products are one
cosine per pair: the pieces a learned pair scorer weighs (`scorer.py`, trained by
bench/pair_scorer.py). Keeping every reading a dot product keeps any weighted sum of them one
matrix product for a pool, so a pair scores the same in a matrix and alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from discovery.harmonise.bank import ItemBank
from discovery.index.embed import normalise

NEIGHBOURS = 50  # bank items averaged into a neighbourhood (the matcher's tuned setting)
FEW_NEIGHBOURS = 10  # the narrower neighbourhood of `text_context_10`
GROUP_NEIGHBOURS = 20  # bank items whose instruments make the group profile

CHANNELS = ("text", "text_context", "core", "core_context", "e5", "e5_context", "plain", "groups",
            "text_context_10", "e5_plain")
E5_BANK_CHANNELS = frozenset({"e5_context"})  # the only ones that need the whole e5 bank's vectors


@dataclass(frozen=True)
class Encoded:
    """One pool's English items: texts, cores and their vectors."""

    texts: list[str]
    cores: list[str]
    minilm_text: np.ndarray
    minilm_core: np.ndarray
    e5_text: np.ndarray


def channel_rows(items: Encoded, bank: ItemBank, e5_bank: ItemBank,
                 names: Sequence[str]) -> dict[str, np.ndarray]:
    """The rows of each channel in `names`, for every item of the pool (the group profile's
    columns are comparable within one call only, so a pool is read in one call)."""
    unknown = set(names) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown channels: {', '.join(sorted(unknown))}")
    rows: dict[str, np.ndarray] = {}
    centred_text, centred_core = bank.centred(items.minilm_text), bank.centred(items.minilm_core)
    k = max(NEIGHBOURS, GROUP_NEIGHBOURS)
    needs_text = {"text_context", "groups", "text_context_10"} & set(names)
    found_text = bank.neighbours(items.texts, centred_text, k) if needs_text else None
    centred_e5 = e5_bank.centred(items.e5_text)
    for name in names:
        if name == "text":
            rows[name] = centred_text
        elif name == "text_context" and found_text is not None:
            rows[name] = bank.neighbourhood(found_text.top(NEIGHBOURS))
        elif name == "text_context_10" and found_text is not None:
            rows[name] = bank.neighbourhood(found_text.top(FEW_NEIGHBOURS))
        elif name == "groups" and found_text is not None:
            rows[name] = bank.group_profile(found_text.top(GROUP_NEIGHBOURS))
        elif name == "core":
            rows[name] = centred_core
        elif name == "core_context":
            rows[name] = bank.neighbourhood(bank.neighbours(items.cores, centred_core, NEIGHBOURS))
        elif name == "e5":
            rows[name] = centred_e5
        elif name == "e5_context":
            rows[name] = e5_bank.neighbourhood(e5_bank.neighbours(items.texts, centred_e5, NEIGHBOURS))
        elif name == "plain":
            rows[name] = normalise(items.minilm_text)
        elif name == "e5_plain":
            rows[name] = normalise(items.e5_text)
    return rows
