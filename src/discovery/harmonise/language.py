"""Which language each item is written in, so the matcher can take out what a language shares.

A multilingual model places every sentence of one language near every other sentence of it:
two unrelated Norwegian items look more alike than an item and its own French translation.
Knowing each item's language lets the matcher subtract that shared part.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

MIN_SHARE = 0.02  # a language this rare in a set of items is more likely a misread short item
MIN_ITEMS = 3
MAX_ODDS = 1000.0  # reread an item only where the set's language is at least 1/1000 as likely


@lru_cache(maxsize=100_000)
def ranked_languages(text: str) -> tuple[tuple[str, float], ...]:
    """Languages by py3langid's score, best first (its model ships inside the wheel)."""
    import py3langid

    return tuple((str(lang), float(score)) for lang, score in py3langid.rank(text))


def detect_languages(texts: Sequence[str]) -> list[str]:
    """An ISO 639-1 code per text, read against the whole set.

    Short items are easily misread ("Tells Lies" as German). Items are first read one by one;
    a language that only a handful of them got is then taken as a misreading, and those items
    get the best of the languages the set is really written in, where that language is not far
    less likely than the first reading (a lone Portuguese item among English ones stays Portuguese)."""
    first = [ranked_languages(text)[0][0] if text.strip() else "und" for text in texts]
    counts = Counter(first)
    floor = max(MIN_ITEMS, MIN_SHARE * len(texts))
    settled = {lang for lang, count in counts.items() if count >= floor}
    if not settled:
        return first
    languages = []
    for text, lang in zip(texts, first, strict=True):
        if lang not in settled and text.strip():
            ranked = ranked_languages(text)
            code, score = next(((c, s) for c, s in ranked if c in settled), (lang, ranked[0][1]))
            if ranked[0][1] - score <= math.log(MAX_ODDS):
                lang = code
        languages.append(lang)
    return languages
