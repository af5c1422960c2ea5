"""The index vocabulary: how many documents each word occurs in. The speller corrects queries
against it ("did you mean"), so it is kept beside the documents it counts, in `docs.sqlite`, and
updated in the same transaction: a rebuild and an incremental update give the same table.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Iterable

# Letters of any script, 2-30 in a row; a longer run is a hash or an identifier, not a word.
WORD = re.compile(r"(?<![^\W\d_])[^\W\d_]{2,30}(?![^\W\d_])")
SCHEMA = "CREATE TABLE IF NOT EXISTS vocabulary (word TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID"


def words(text: str) -> set[str]:
    """The distinct words of `text`, lower case, accents kept (NFC, so a decomposed é counts as
    the precomposed one), no stemming: the speller must see the words exactly as written."""
    return set(WORD.findall(unicodedata.normalize("NFC", text).lower()))


def _document_frequencies(texts: Iterable[str]) -> Counter[str]:
    """How many of `texts` (one per document) contain each word."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(words(text))
    return counts


class Vocabulary:
    """The `vocabulary` table inside the index's document store. add and remove run in the
    caller's transaction, so the table never disagrees with the documents it counts."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.execute(SCHEMA)

    def add(self, texts: Iterable[str]) -> None:
        """Count the words of new documents, one text per document."""
        self.db.executemany(
            "INSERT INTO vocabulary VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET df = df + excluded.df",
            _document_frequencies(texts).items())

    def remove(self, texts: Iterable[str]) -> None:
        """Uncount the words of deleted documents (their old texts); a word no document has left
        goes, so the speller never suggests it."""
        counts = _document_frequencies(texts)
        self.db.executemany("UPDATE vocabulary SET df = df - ? WHERE word = ?",
                            [(n, word) for word, n in counts.items()])
        self.db.executemany("DELETE FROM vocabulary WHERE word = ? AND df <= 0", [(w,) for w in counts])

    def frequencies(self) -> dict[str, int]:
        """word -> number of documents containing it."""
        return dict(self.db.execute("SELECT word, df FROM vocabulary"))
