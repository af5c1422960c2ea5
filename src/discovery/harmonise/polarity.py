"""Which way an item points: negation words and valence, in English, German, French, Spanish
and Portuguese.

Equivalence is scored direction-free, so polarity is a separate answer: +1 when two items are
worded the same way round, -1 when one must be reverse-coded ("I feel calm" / "I feel nervous",
"I can relax" / "I cannot relax"). An item's direction is the sign of its valence (whether its
negation-free core is nearer a wellbeing word or a distress word, in an embedding model's space),
flipped once per negation it carries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from discovery.index.embed import Embedder

# Words that turn a statement round. Frequency words at the "hardly ever" end count too: "seldom
# restless" is the reverse of "often restless". "stop", "unable", "trouble" negate what follows
# them. French "rien"/"aucun" negate only with "ne", which counts already ("de tout et de rien").
NEGATORS: frozenset[str] = frozenset("""
not no never cannot can't cant won't don't doesn't didn't isn't aren't wasn't weren't haven't hasn't
hadn't couldn't wouldn't shouldn't unable without hardly rarely seldom nothing none nobody neither nor
stop stopped fail fails failed lack lacks little trouble difficulty difficulties difficult
nicht kein keine keinen keinem keiner keines nie niemals nichts ohne kaum selten unfähig aufhören
schwierigkeiten verhindern
ne n' pas jamais sans rarement guère incapable arrêter empêcher difficulté difficile
nunca jamás ningún ninguna ninguno nada sin apenas incapaz impedir dificultad difícil
não nao nem nenhum nenhuma jamais raramente sem parar impedir dificuldade difícil
""".split())
# Frequency and degree words, pronouns and "feel": they say how often or who, not what is measured.
FILLERS: frozenset[str] = frozenset("""
often frequently always sometimes usually occasionally very extremely really quite much too a lot
ever is are was were am be been being i the a an my your his her their our you he she they it we
child children or and of to feel feels feeling felt
fühle fühlen fühlt fühlte mich sich
oft immer manchmal sehr ich du er sie es wir mein meine
souvent toujours parfois très je tu il elle nous vous mon ma me se sens sent sentir
a menudo siempre muy yo tú él ella mi siento sentirse siente
frequentemente sempre às vezes muito eu você ele ela meu minha sinto sente sentir-se
""".split())
NEGATION_WINDOW = 3  # negators this close together make one negation ("seldom or never", "ne ... pas")

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

# Phrases whose negator says why, not whether: "scared for no good reason" is still scared.
IDIOMS = re.compile(r"\b(?:for no (?:good |apparent |particular |obvious |real )?reason"
                    r"|without (?:any |good |apparent )?reason|sans (?:aucune )?raison"
                    r"|ohne (?:ersichtlichen |besonderen )?grund|sin (?:ningún |ninguna )?(?:motivo|razón)"
                    r"|sem (?:motivo|razão))\b", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|n['’]", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD.findall(IDIOMS.sub(" ", text))]


def is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


def negations(text: str) -> int:
    """How many separate negations the text carries; nearby negators count once."""
    count, last = 0, -NEGATION_WINDOW - 1
    tokens = words(text)
    for position, word in enumerate(tokens):
        hard_to = word == "hard" and tokens[position + 1:position + 2] == ["to"]  # "hard to sit still"
        if is_negator(word) or hard_to:
            if position - last > NEGATION_WINDOW:
                count += 1
            last = position
    return count


def core_text(text: str) -> str:
    """The text without negations, frequency words and pronouns: what the item is about.

    "Seldom or never disobedient" and "Frequently disobedient" share the core "disobedient", so
    their embeddings agree on the construct whichever way round the item is worded."""
    kept = [w for w in words(text) if not is_negator(w) and w not in FILLERS]
    core = " ".join(kept)
    return core if len(core) > 2 else text


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
