"""The BM25 side on a tiny real tantivy index: a document in another language is also read with
its own stemmer, and a query in that language meets it through its stems."""

from __future__ import annotations

from discovery.index.documents import IndexDocument
from discovery.index.lexical import LexicalFilter, LexicalIndex, LexicalQuery


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


def test_filters_run_inside_tantivy_on_the_values_items_inherit(tmp_path):
    index = LexicalIndex(tmp_path / "lexical", create=True)
    countries = ["Finland", "Germany", "Finland", "United Kingdom"]
    studies = [IndexDocument(id=f"s{i}", kind="study", parent=None, title=f"Study {i} of sleep",
                             fields={"title": "sleep"}, embed_text="",
                             facets={"country": [countries[i]]},
                             ranges={"year_start": 1990 + 10 * i, "year_end": 1995 + 10 * i})
               for i in range(4)]
    items = [IndexDocument(id=f"s{i % 4}.q{i}", kind="question", parent=f"s{i % 4}",
                           title="Hours of sleep", fields={"title": "Hours of sleep"}, embed_text="",
                           inherited=studies[i % 4].filter_values())
             for i in range(12)]
    index.add(list(range(16)), studies + items)
    index.commit()
    query = LexicalQuery([["sleep"]], {})

    def found(**clauses) -> list[int]:
        return sorted(index.search(query, 100, LexicalFilter(**clauses))[0].tolist())

    finnish = [0, 2] + [4 + i for i in range(12) if i % 4 in (0, 2)]
    assert found(values=[("country", ["finland"])]) == finnish  # keys, as facet_keys makes them
    assert found(values=[("country", ["finland"])], kinds=["study"]) == [0, 2]
    assert found(values=[("country", [])]) == []  # a value the index lacks finds nothing
    # years: 1990-95, 2000-05, 2010-15, 2020-25; a span matches where it overlaps
    assert found(ranges={"year": (2004.0, 2011.0)}, kinds=["study"]) == [1, 2]
    assert found(ranges={"year": (None, 1999.0)}, kinds=["study"]) == [0]
    assert found(ranges={"sample_size": (None, None)}) == []  # no record has one
    assert found(group="s3") == [3] + [4 + i for i in range(12) if i % 4 == 3]
