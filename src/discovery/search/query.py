"""What a typed query asks for: its spelling corrected against the index vocabulary, each word
with its other accepted spellings (British and American), and the index terms to look up.

A misspelt word ("anxeity") matches nothing lexically and pulls the embedding off course, so a
query holding a word the index has never seen is searched as corrected and the results say so
("showing results for"); `spellcheck=False` searches it as typed. A query that reads as another
language is searched as typed: its words are unknown because the index is mostly English, not
misspelt; their near vocabulary words only widen the lexical side, where they often turn out to be
cognates ("violencia", "violence"). Spelling variants also only widen it: "victimisation"
also finds "victimization". A query that reads as another language (py3langid, over the
languages the index stems) is also analysed in it, and only in those: every analyser at once
let a French word meet a Portuguese stem ("logement", "logo").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from discovery.index.lexical import STEMMED, LexicalQuery, terms
from discovery.index.vocabulary import words as vocabulary_words
from discovery.search.spelling import Correction, Speller

WORD = re.compile(r"[^\W_]+")
# the number of a coded name ("GAD-7", "SF-36"): as a word of its own it matches every "7" in the
# index; the name is found whole through the exact names, and its letters through BM25
CODE_NUMBER = re.compile(r"(?<=[^\W\d_])-\d+\b")
LANGUAGE_SHARE = 0.25  # a language at least this likely for the query is read natively too
FOREIGN = 0.6  # a query this likely in another language is searched as typed


@dataclass
class Understood:
    text: str  # what is searched
    correction: Correction | None  # set when `text` is the typed query corrected
    lexical: LexicalQuery = field(default_factory=lambda: LexicalQuery([]))  # the terms to look up
    words: dict[str, str] = field(default_factory=dict)  # index term -> the word as typed
    known: bool = True  # the index vocabulary holds at least one of its words


def understand(q: str, speller: Speller, spellcheck: bool = True) -> Understood:
    correction = speller.correct(q) if spellcheck else None
    ranked = _identifier().rank(q) if q.strip() else [("en", 1.0)]
    best_language, share = ranked[0]
    near: dict[str, str] = {}
    if correction and best_language != "en" and share >= FOREIGN:
        # a German query's "Kindern" is no misspelling of "hinders": it is searched as typed, and
        # the near vocabulary word only widens the lexical side ("violencia" meets "violence")
        near = {typed.lower(): suggested for typed, suggested in correction.changes}
        correction = None
    text = correction.text if correction else q
    groups: dict[str, list[str]] = {}
    words: dict[str, str] = {}
    lexical_text = CODE_NUMBER.sub("", text)
    for word in WORD.findall(lexical_text):
        own = terms(word)
        for term in own:
            groups.setdefault(term, [term])
            words.setdefault(term, word)
        if len(own) != 1:
            continue
        others = speller.variants(word.lower()) + ([near[word.lower()]] if word.lower() in near else [])
        for other in others:
            for term in terms(other):
                if term not in groups[own[0]]:
                    groups[own[0]].append(term)
                words.setdefault(term, word)
    known = any(word in speller.frequencies for word in vocabulary_words(text)) or bool(near)
    return Understood(text, correction,
                      LexicalQuery.of(lexical_text, list(groups.values()),
                                      query_languages(text, ranked if text == q and q.strip() else None)),
                      words, known)


def query_languages(text: str, ranked: list[tuple[str, float]] | None = None) -> list[str]:
    """The stemmed languages (not English) the text is likely written in, most likely first;
    `ranked`: the identifier's ranking of this text when the caller has it already."""
    return [code for code, share in (ranked if ranked is not None else _identifier().rank(text))
            if code != "en" and share >= LANGUAGE_SHARE]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's model (inside its wheel), asked only about the languages the index stems;
    loading it takes about 1.5 s, so once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(["en", *STEMMED])
    return identifier
