"""Opening the published index for reading, and its retrieval primitives on the shared small index:
a filtered lexical search (tantivy with the filters as clauses) finds exactly what filtering every
match afterwards finds, in the same order with the same scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from discovery.index.build import FORMAT, IndexBuildError, index_paths
from discovery.index.columns import RowFilter
from discovery.index.generations import current_name
from discovery.index.lexical import LexicalQuery
from discovery.index.query_vectors import FILE as QUERY_VECTORS
from discovery.index.query_vectors import QueryVectors
from discovery.index.reader import IndexReader
from tests.search.built_index import private_copy

FSD = "financial-awareness-of-finnish-people-2014"
QUERIES = ["anxiety", "nervous anxious on edge", "savings retirement money", "parental drug use",
           "sleep", "Einkommen Beruf", "worry"]
FILTERS = [  # (filters, ranges, within, whether any query finds something)
    ({"kind": ["variable"]}, {}, None, True),
    ({"kind": ["question", "variable"], "country": ["Finland"]}, {}, None, True),
    ({"country": ["Germany", "Finland"]}, {}, None, True),
    ({"country": ["DE"], "language": ["de"]}, {}, None, True),
    ({"topic": ["Savings", "drug use"]}, {}, None, True),
    ({"country": ["Atlantis"]}, {}, None, False),  # a value the index lacks
    ({}, {"year": (1995.0, 2015.0)}, None, True),
    ({"kind": ["variable"]}, {"year": (None, 2015.0)}, None, True),
    ({}, {"year": (2021.0, None)}, None, True),
    ({}, {"sample_size": (1000.0, None)}, None, False),  # no record here states one
    ({}, {"age": (None, None)}, None, False),  # nor an age span
    ({}, {"variables": (10.0, None)}, None, True),  # not carried by tantivy: checked on what it finds
    ({"kind": ["variable"]}, {}, FSD, True),
]


@pytest.fixture(scope="module")
def reader(index_data):
    opened = IndexReader(index_data)
    yield opened
    opened.close()


def filtered_afterwards(reader: IndexReader, query: LexicalQuery, allowed: RowFilter
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Every match, best first, then the allowed ones: what the filters must find."""
    rows, scores, _ = reader.lexical.search(query, reader.columns.size)
    keep = allowed.allows(rows)
    return rows[keep], scores[keep]


@pytest.mark.parametrize("filters, ranges, within, finds", FILTERS)
def test_a_filtered_lexical_search_finds_what_filtering_every_match_finds(reader, filters, ranges,
                                                                          within, finds):
    row = None if within is None else reader.row_of(within)
    allowed = RowFilter(reader.columns, filters, ranges, row)
    found_any = False
    for q in QUERIES:
        query = LexicalQuery.of(q)
        expected_rows, expected_scores = filtered_afterwards(reader, query, allowed)
        rows, scores = reader.lexical_search(query, reader.columns.size, allowed)
        assert rows.tolist() == expected_rows.tolist(), q
        assert scores.tolist() == expected_scores.tolist(), q  # the filter adds nothing to BM25
        found_any |= len(rows) > 0
        k = 3  # the best few: the same scores, and the same rows above a tie at the cut
        rows, scores = reader.lexical_search(query, k, allowed)
        assert scores.tolist() == expected_scores[:k].tolist(), q
        above = scores > scores[-1] if len(scores) else scores.astype(bool)
        assert rows[above].tolist() == expected_rows[:k][above].tolist(), q
    assert found_any == finds


def test_an_index_of_an_older_format_is_refused_with_what_to_run(index_data, tmp_path):
    """An older format (7 had no filter values in tantivy) is not read, and the message says so."""
    data = private_copy(index_data, tmp_path / "data")
    root = index_paths(data).root
    meta_file = root / current_name(root) / "meta.json"
    meta = json.loads(meta_file.read_text())
    assert meta["format"] == FORMAT
    meta_file.write_text(json.dumps({**meta, "format": FORMAT - 1}))
    with pytest.raises(IndexBuildError, match="older version") as raised:
        IndexReader(data)
    assert "discovery index" in str(raised.value.hint)


@pytest.mark.parametrize("q", QUERIES)
def test_a_kept_unfiltered_list_is_what_searching_again_finds(reader, q):
    """The second request of a query reads its unfiltered lists from the reader's recent ones:
    the same rows and scores as a search of the index, and a shallower call the same best score."""
    query = LexicalQuery.of(q)
    reader.recent_lexical.clear()
    reader.recent_semantic.clear()
    fresh_rows, fresh_scores = reader.lexical_search(query, 50)
    kept_rows, kept_scores = reader.lexical_search(query, 50)
    assert len(reader.recent_lexical) == 1
    assert kept_rows.tolist() == fresh_rows.tolist() and kept_scores.tolist() == fresh_scores.tolist()
    top_rows, top_scores = reader.lexical_search(query, 1)
    searched = reader.lexical.search(query, 1)[1]
    assert top_scores.tolist() == searched[:1].tolist()
    vector = reader.vectors.vector(int(fresh_rows[0]) if len(fresh_rows) else 0)
    assert vector is not None
    fresh = reader.semantic_search(vector, 20)
    kept = reader.semantic_search(vector, 20)
    assert len(reader.recent_semantic) == 1
    assert kept[0].tolist() == fresh[0].tolist() and kept[1].tolist() == fresh[1].tolist()
    assert reader.semantic_search(vector, 5)[0].tolist() == reader.vectors.search(vector, 5)[0].tolist()


def test_a_new_query_vector_is_shared_even_while_the_shared_cache_is_empty(index_data, tmp_path):
    """The workers' shared cache starts empty; the first vector encoded must go into it (an empty
    cache read as false, so nothing was ever written)."""
    data = private_copy(index_data, tmp_path / "data")
    for kept in index_paths(data).root.glob(QUERY_VECTORS + "*"):  # what earlier tests shared
        kept.unlink()
    first = IndexReader(data)
    vector = first.embed_query("a question nobody asked before")
    first.close()
    shared = QueryVectors(index_paths(data).root / QUERY_VECTORS, first.model)
    assert len(shared) == 1
    assert np.array_equal(shared.get("a question nobody asked before"), vector)
