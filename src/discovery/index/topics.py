"""Topic and keyword spellings -> one topic facet value.

Catalogues capitalise as they please: UK Data Service keywords arrive as "INCOME" in one record
and "income" in the next, Harmony's as "Children" (issue 11: a `topic:CHILDREN` chip found
nothing stored as "children"). Case, Unicode form, spacing and stray punctuation at the ends are
not part of a topic, so they are folded away; words are not stemmed or translated ("child" and
"children", "income" and "tulot" stay apart).
"""

from __future__ import annotations

import unicodedata

_EDGE = " \t\r\n.,;:·•-–—*\"'“”‘’"


def topic_value(text: str) -> str:
    """The facet value of a topic as a catalogue wrote it: NFKC, case-folded, inner runs of
    spaces made one, punctuation trimmed from both ends ("Children." -> "children")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(_EDGE)
