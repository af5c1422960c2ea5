"""Pair polarity, and the negation words of English, German, French, Spanish and Portuguese.

Equivalence is scored direction-free, so polarity is a separate answer, made from the two items'
directions (`discovery.harmonise.direction`): -1 when one item must be reverse-coded ("I feel
calm" / "I feel nervous"), +1 when both point the same way, 0 when either direction is unclear.

The negation words serve two readers: the matcher's item core (the text without them, so
"Seldom or never disobedient" meets "Frequently disobedient"), and the direction model, which
asks for more confidence before it gives a direction to an item that carries one.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

REVERSE, UNCLEAR, SAME = -1, 0, 1
LABELS = {REVERSE: "reverse-code", UNCLEAR: "direction unclear", SAME: "same direction"}

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
TEXTS_REMEMBERED = 65_536  # texts whose core and negation count stay remembered
NEGATION_WINDOW = 3  # negators this close together make one negation ("seldom or never", "ne ... pas")

# Phrases whose negator says why, not whether: "scared for no good reason" is still scared.
IDIOMS = re.compile(r"\b(?:for no (?:good |apparent |particular |obvious |real )?reason"
                    r"|without (?:any |good |apparent )?reason|sans (?:aucune )?raison"
                    r"|ohne (?:ersichtlichen |besonderen )?grund|sin (?:ningún |ninguna )?(?:motivo|razón)"
                    r"|sem (?:motivo|razão))\b", re.IGNORECASE)
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|n['’]", re.UNICODE)


def pair_polarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """REVERSE where both items have a direction and they differ, SAME where both have the same
    one, UNCLEAR where either has none: the product of the two directions (-1, 0 or +1 each).
    Broadcasts, so a column of directions against a row gives the item x item matrix."""
    return (np.asarray(left, np.int8) * np.asarray(right, np.int8)).astype(np.int8)


def label(polarity: int) -> str:
    """What a user is shown for a pair's polarity."""
    return LABELS[int(np.sign(polarity))]


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in WORD.findall(IDIOMS.sub(" ", text))]


def is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


@lru_cache(maxsize=TEXTS_REMEMBERED)
def negations(text: str) -> int:
    """How many separate negations the text carries; nearby negators count once. Remembered per
    text, as `core_text` is: a warm 1,000 x 1,000 match read them afresh for 0.25 s at load 7."""
    count, last = 0, -NEGATION_WINDOW - 1
    tokens = words(text)
    for position, word in enumerate(tokens):
        hard_to = word == "hard" and tokens[position + 1:position + 2] == ["to"]  # "hard to sit still"
        if is_negator(word) or hard_to:
            if position - last > NEGATION_WINDOW:
                count += 1
            last = position
    return count


@lru_cache(maxsize=TEXTS_REMEMBERED)
def core_text(text: str) -> str:
    """The text without negations, frequency words and pronouns: what the item is about.

    "Seldom or never disobedient" and "Frequently disobedient" share the core "disobedient", so
    their embeddings agree on the construct whichever way round the item is worded."""
    kept = [w for w in words(text) if not is_negator(w) and w not in FILLERS]
    core = " ".join(kept)
    return core if len(core) > 2 else text
