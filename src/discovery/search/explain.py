"""Why a record matched: which of its fields contain which query words (by the index's own
analyser, so "drugs" matches "drug"), a snippet around the first match, and one readable sentence.

Each field's text is analysed once, in one call, into the sentence where each of its terms first
appears (`first_sentences`); which query words a field holds and which sentence is its snippet are
then look-ups. Analysing the whole text, then its sentences again up to the first match, was most
of the cost of explaining a page of hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import islice

from discovery.index.lexical import analyzer
from discovery.search.models import MatchedField

FIELD_ORDER = ("title", "question", "keywords", "description", "categories", "names", "contents")
FIELD_LABELS = {"title": "title", "question": "question text", "keywords": "keywords",
                "description": "description", "categories": "response categories", "names": "names",
                "contents": "items"}
SNIPPET_CHARS = 200
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
ANALYSED_TEXTS = 4096  # texts whose analysis is kept: the same records come back across queries
_ANALYZER = analyzer()  # the index's English analyser
# put between sentences so that one analysis tells them apart: the tokenizer splits at the spaces
# around it, so each sentence yields the terms it yields on its own
BREAK = "qxsentencebreakxq"
(BREAK_TERM,) = _ANALYZER.analyze(BREAK)


def matched_fields(fields: dict[str, str], words: dict[str, str]) -> list[MatchedField]:
    """The fields holding query words (index terms, `words`' keys), each with a snippet."""
    if not words:
        return []
    found = []
    for name in FIELD_ORDER:
        text = fields.get(name)
        if not text:
            continue
        first = first_sentences(text)
        present = [t for t in words if t in first]
        if present:
            found.append(MatchedField(field=name, terms=[words[t] for t in present],
                                      snippet=_snippet(text, min(first[t] for t in present))))
    return found


@lru_cache(maxsize=ANALYSED_TEXTS)
def first_sentences(text: str) -> dict[str, int]:
    """Each index term of `text`, with the number of the first sentence (`_sentences`) that
    holds it."""
    marked, breaks = SENTENCE.subn(f" {BREAK} ", text)
    analysed = _ANALYZER.analyze(marked)
    first: dict[str, int] = {}
    if analysed.count(BREAK_TERM) != breaks:  # the text holds the break word itself
        for number, sentence in enumerate(_sentences(text)):
            for term in _ANALYZER.analyze(sentence):
                first.setdefault(term, number)
        return first
    number = 0
    for term in analysed:
        if term == BREAK_TERM:
            number += 1
        else:
            first.setdefault(term, number)
    return first


@lru_cache(maxsize=ANALYSED_TEXTS)
def _snippet(text: str, number: int) -> str:
    """Sentence `number` of the text, shortened to SNIPPET_CHARS. Sentences are read one at a
    time up to it: splitting a study's whole list of item titles first was a fifth of the cost;
    kept, as the analyses are, since the same records come back (reading up to the sentence again
    was a tenth of building a page of hits at a million rows)."""
    sentence = next(islice(_sentences(text), number, None))
    return sentence if len(sentence) <= SNIPPET_CHARS else sentence[:SNIPPET_CHARS - 1] + "…"


def _sentences(text: str) -> Iterator[str]:
    start = 0
    for boundary in SENTENCE.finditer(text):
        yield text[start:boundary.start()]
        start = boundary.end()
    yield text[start:]


def summary(fields: list[MatchedField], semantic_score: float | None, semantic_rank: int | None,
            matched_children: int, child_noun: str, similar_to: str | None = None,
            named: bool = False, learned: float | None = None) -> str:
    parts = ["named by the query"] if named else []
    if fields:
        words = list(dict.fromkeys(w for f in fields for w in f.terms))
        labels = ", ".join(FIELD_LABELS[f.field] for f in fields[:3])
        parts.append("words " + ", ".join(f"'{w}'" for w in words[:6]) + f" in {labels}")
    if semantic_score is not None:
        what = f"close to {similar_to}" if similar_to else "similar in meaning"
        parts.append(f"{what} (cosine {semantic_score:.2f}, rank {semantic_rank})")
    if matched_children:
        plural = child_noun if matched_children == 1 else child_noun + "s"
        parts.append(f"{matched_children} matching {plural}")
    if learned is not None:
        parts.append(f"placed by the learned ranker (score {learned:.2f})")
    if not parts:
        return "Matches the filters."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
