"""The rules the direction model replaced, kept only so evaluate.py can print their figures beside
the model's (they were in src/discovery/harmonise/polarity.py up to commit 8c93c66).

An item's direction was the sign of its valence (whether its negation-free core is nearer a
wellbeing word or a distress word in an embedding model's space), flipped once per negation; every
item got +1 or -1, never "unclear". The matcher used MiniLM cores for an all-English pool and e5
cores otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from discovery.harmonise.polarity import core_text, negations
from discovery.index.embed import Embedder

POSITIVE = """calm relaxed happy cheerful hopeful confident safe satisfied content well healthy rested
energetic kind friendly patient helpful interested enjoy life peaceful
ruhig entspannt glücklich fröhlich zuversichtlich zufrieden gesund freundlich
calme détendu heureux joyeux confiant satisfait en bonne santé aimable
tranquilo relajado feliz alegre confiado satisfecho sano amable
calmo relaxado feliz alegre confiante satisfeito saudável gentil""".split()
NEGATIVE = """nervous tense anxious worried sad depressed hopeless afraid scared angry irritable lonely
tired restless guilty worthless miserable upset aggressive ashamed pain down
nervös angespannt ängstlich besorgt traurig deprimiert hoffnungslos wütend einsam müde
nerveux tendu anxieux inquiet triste déprimé désespéré effrayé en colère seul fatigué
nervioso tenso ansioso preocupado triste deprimido desesperado asustado enojado solo cansado
nervoso tenso ansioso preocupado triste deprimido sem esperança assustado irritado sozinho cansado""".split()


class Valence:
    """Distress versus wellbeing in one embedder's space, from the word lists above.

    An item's valence is its closeness to the nearest wellbeing word minus its closeness to the
    nearest distress word: nearest anchors, not centroids, so that a single clear word ("calmo")
    decides even where the model places the whole language off-centre."""

    def __init__(self, embedder: Embedder) -> None:
        self.positive = embedder.encode(POSITIVE, "passage")
        self.negative = embedder.encode(NEGATIVE, "passage")

    def of(self, vectors: np.ndarray) -> np.ndarray:
        """Signed valence per row: > 0 leans to wellbeing, < 0 to distress."""
        if not len(vectors):
            return np.zeros(0, np.float32)
        return (vectors @ self.positive.T).max(1) - (vectors @ self.negative.T).max(1)


def directions(texts: Sequence[str], core_vectors: np.ndarray, valence: Valence) -> np.ndarray:
    """+1 or -1 per item: the sign of its core's valence, flipped once per negation."""
    signs = np.where(valence.of(core_vectors) >= 0, 1, -1)
    flips = np.array([-1 if negations(text) % 2 else 1 for text in texts])
    return (signs * flips).astype(np.int8)


def old_directions(texts: Sequence[str], embedder: Embedder,
                   encode: Callable[[list[str], Embedder], np.ndarray]) -> np.ndarray:
    """The old rules' +1/-1 per item, reading the items' cores with `embedder` through `encode`."""
    return directions(texts, encode([core_text(text) for text in texts], embedder), Valence(embedder))
