"""The BM25 side on a tiny real tantivy index: a document in another language is also read with
its own stemmer, and a query in that language meets it through its stems."""

from __future__ import annotations

from discovery.index.documents import IndexDocument
from discovery.index.lexical import FEW_GROUPS, LexicalIndex, LexicalQuery


def document(rid: str, text: str, languages: list[str]) -> IndexDocument:
    return IndexDocument(id=rid, kind="question", parent=None, title=text, fields={"title": text},
                         embed_text=text, languages=languages)


def test_a_german_query_meets_german_text_through_its_stems(tmp_path):
    index = LexicalIndex(tmp_path / "lexical", create=True)
    index.add([0, 1], [document("de", "Ängste von Kindern in der Schule", ["de"]),
                       document("en", "Kinder garden activities", [])])
    index.commit()
    as_german = index.search(LexicalQuery.of("Kinder Schulen", languages=["de"]), 10)[0].tolist()
    as_english = index.search(LexicalQuery.of("Kinder Schulen", languages=[]), 10)[0].tolist()
    assert as_german[0] == 0  # Kindern/Kinder and Schule/Schulen share German stems
    assert 0 not in as_english  # the English analyser sees neither pair as one word


def test_spellings_of_one_word_count_as_one(tmp_path):
    index = LexicalIndex(tmp_path / "lexical", create=True)
    index.add([0], [document("uk", "Problem behaviour in class", [])])
    index.commit()
    assert index.search(LexicalQuery([["behavior"]], {}), 10)[0].tolist() == []
    assert index.search(LexicalQuery([["behavior", "behaviour"]], {}), 10)[0].tolist() == [0]


def test_a_search_within_groups_finds_the_same_rows_with_few_ids_or_many(tmp_path):
    index = LexicalIndex(tmp_path / "lexical", create=True)
    studies = [IndexDocument(id=f"s{i}", kind="study", parent=None, title=f"Study {i} of sleep",
                             fields={"title": "sleep"}, embed_text="") for i in range(4)]
    items = [IndexDocument(id=f"s{i % 4}.q{i}", kind="question", parent=f"s{i % 4}",
                           title="Hours of sleep", fields={"title": "Hours of sleep"}, embed_text="")
             for i in range(12)]
    index.add(list(range(16)), studies + items)
    index.commit()
    query = LexicalQuery([["sleep"]], {})
    few = ["s1", "s3"]
    many = few + [f"absent{i}" for i in range(FEW_GROUPS)]  # past FEW_GROUPS: a term set
    found = [sorted(index.search(query, 100, groups)[0].tolist()) for groups in (few, many)]
    expected = [1, 3] + [4 + i for i in range(12) if i % 4 in (1, 3)]
    assert found == [expected, expected]
    assert index.search(query, 100, [])[0].tolist() == []
