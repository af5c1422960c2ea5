"""What a typed query asks for: its spelling corrected against the index vocabulary, each word
with its other accepted spellings (British and American), and the index terms to look up.

A misspelt word ("anxeity") matches nothing lexically and pulls the embedding off course, so a
query holding a word the index has never seen is searched as corrected and the results say so
("showing results for"); `spellcheck=False` searches it as typed. Spelling variants only widen
the lexical side: "victimisation" also finds "victimization".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from discovery.index.lexical import terms
from discovery.search.spelling import Correction, Speller

WORD = re.compile(r"[^\W_]+")


@dataclass
class Understood:
    text: str  # what is searched
    correction: Correction | None  # set when `text` is the typed query corrected
    term_groups: list[list[str]] = field(default_factory=list)  # one group per term: its spellings
    words: dict[str, str] = field(default_factory=dict)  # index term -> the word as typed


def understand(q: str, speller: Speller, spellcheck: bool = True) -> Understood:
    correction = speller.correct(q) if spellcheck else None
    text = correction.text if correction else q
    groups: dict[str, list[str]] = {}
    words: dict[str, str] = {}
    for word in WORD.findall(text):
        own = terms(word)
        for term in own:
            groups.setdefault(term, [term])
            words.setdefault(term, word)
        if len(own) != 1:
            continue
        for variant in speller.variants(word.lower()):
            for term in terms(variant):
                if term not in groups[own[0]]:
                    groups[own[0]].append(term)
                words.setdefault(term, word)
    return Understood(text, correction, list(groups.values()), words)
