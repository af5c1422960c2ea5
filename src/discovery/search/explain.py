"""Why a record matched: which of its fields contain which query words (by the index's own
analyser, so "drugs" matches "drug"), a snippet around the first match, and one readable sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from discovery.index.lexical import terms
from discovery.search.models import MatchedField

FIELD_ORDER = ("title", "question", "keywords", "description", "categories", "names", "contents")
FIELD_LABELS = {"title": "title", "question": "question text", "keywords": "keywords",
                "description": "description", "categories": "response categories", "names": "names",
                "contents": "items"}
SNIPPET_CHARS = 200
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def matched_fields(fields: dict[str, str], words: dict[str, str]) -> list[MatchedField]:
    """The fields holding query words (index terms, `words`' keys), each with a snippet."""
    if not words:
        return []
    found = []
    for name in FIELD_ORDER:
        text = fields.get(name)
        if not text:
            continue
        present = words.keys() & terms(text)
        if present:
            typed = [words[t] for t in words if t in present]
            found.append(MatchedField(field=name, terms=typed, snippet=_snippet(text, present)))
    return found


def _snippet(text: str, present: set[str]) -> str:
    """The first sentence holding one of the words. Sentences are read one at a time up to it:
    splitting a study's whole list of item titles into sentences first was a fifth of the cost
    of explaining a page of hits."""
    for sentence in _sentences(text):
        if not present.isdisjoint(terms(sentence)):
            return sentence if len(sentence) <= SNIPPET_CHARS else sentence[:SNIPPET_CHARS - 1] + "…"
    return text[:SNIPPET_CHARS]


def _sentences(text: str) -> Iterator[str]:
    start = 0
    for boundary in SENTENCE.finditer(text):
        yield text[start:boundary.start()]
        start = boundary.end()
    yield text[start:]


def summary(fields: list[MatchedField], semantic_score: float | None, semantic_rank: int | None,
            matched_children: int, child_noun: str, similar_to: str | None = None,
            named: bool = False) -> str:
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
    if not parts:
        return "Matches the filters."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
