"""The index vocabulary: document frequencies in the index's SQLite file, which a rebuild and an
incremental update agree on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from discovery.index.vocabulary import Vocabulary, words


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "docs.sqlite", isolation_level=None)
    yield connection
    connection.close()


def test_words_are_distinct_lower_case_letters_with_accents_kept():
    assert words("Anxiety in Children's GAD-7 scores; l'anxiété, Ängstlichkeit, ANXIETY 2014") == {
        "anxiety", "in", "children", "gad", "scores", "anxiété", "ängstlichkeit"}


def test_words_split_at_digits_and_skip_runs_too_long_to_be_words():
    assert words("phq9 covid19") == {"phq", "covid"}
    assert words("x" * 31 + " sleep " + "y" * 30) == {"sleep", "y" * 30}


def test_a_decomposed_accent_counts_as_the_precomposed_letter():
    assert words("cafe\u0301 café") == {"café"}


def test_each_word_counts_once_per_document(db: sqlite3.Connection):
    vocabulary = Vocabulary(db)
    vocabulary.add(["Anxiety and ANXIETY", "anxiety in children"])
    assert vocabulary.frequencies() == {"anxiety": 2, "and": 1, "in": 1, "children": 1}


def test_remove_uncounts_and_a_word_no_document_has_left_disappears(db: sqlite3.Connection):
    vocabulary = Vocabulary(db)
    vocabulary.add(["anxiety in children", "anxiety in adults"])
    vocabulary.remove(["anxiety in children"])
    assert vocabulary.frequencies() == {"anxiety": 1, "in": 1, "adults": 1}
    assert db.execute("SELECT COUNT(*) FROM vocabulary WHERE word = 'children'").fetchone() == (0,)
    vocabulary.add(["children of adults"])
    assert vocabulary.frequencies() == {"anxiety": 1, "in": 1, "adults": 2, "children": 1, "of": 1}


def test_an_incremental_update_gives_the_table_a_rebuild_gives(db: sqlite3.Connection, tmp_path: Path):
    kept, deleted, added = "Depression in adults", "Anxiety in children", "Anxiety and worry in children"
    incremental = Vocabulary(db)
    incremental.add([kept, deleted])
    incremental.remove([deleted])
    incremental.add([added])
    with closing(sqlite3.connect(tmp_path / "rebuilt.sqlite")) as other:
        rebuilt = Vocabulary(other)
        rebuilt.add([kept, added])
        assert incremental.frequencies() == rebuilt.frequencies()


def test_updates_belong_to_the_callers_transaction(db: sqlite3.Connection, tmp_path: Path):
    vocabulary = Vocabulary(db)
    db.execute("BEGIN")
    vocabulary.add(["anxiety"])
    db.execute("ROLLBACK")
    assert vocabulary.frequencies() == {}
    db.execute("BEGIN")
    vocabulary.add(["anxiety"])
    db.execute("COMMIT")
    with closing(sqlite3.connect(tmp_path / "docs.sqlite")) as reader:
        assert Vocabulary(reader).frequencies() == {"anxiety": 1}
