"""The document table: a published generation's store keeps the bodies it unpacked, within a
budget, and answers from them as it would from the table."""

from __future__ import annotations

from discovery.index.docstore import LIVE_BYTES_PER_JSON_BYTE, BodyCache
from discovery.index.reader import IndexReader


def test_a_read_only_store_answers_again_from_what_it_unpacked(index_data):
    reader = IndexReader(index_data)
    try:
        rows = reader.live_rows[:40].tolist()
        first = reader.docs.bodies(rows)
        assert sorted(first) == sorted(rows)
        again = reader.docs.bodies(rows[::-1] + [rows[0]] + [reader.columns.size + 5])
        assert again == first  # a row the table lacks is left out, as before
        assert all(again[row] is first[row] for row in rows)  # from memory, not unpacked again
    finally:
        reader.close()


def test_the_kept_bodies_stay_within_their_budget_least_recently_used_out():
    cache = BodyCache(max_bytes=100 * LIVE_BYTES_PER_JSON_BYTE)
    for row in range(5):
        cache.put(row, {"row": row}, 30)  # 30 bytes of JSON each: three fit
    assert sorted(cache.get(list(range(5)))) == [2, 3, 4]
    assert cache.bytes <= cache.max_bytes
    cache.get([2])  # used: 3 is now the least recent
    cache.put(5, {"row": 5}, 30)
    assert sorted(cache.get(list(range(6)))) == [2, 4, 5]
    cache.put(6, {"row": 6}, 101)  # larger than the whole budget: not kept, nothing dropped
    assert sorted(cache.get(list(range(7)))) == [2, 4, 5]


def test_a_store_being_written_keeps_no_bodies():
    cache = BodyCache(max_bytes=0)
    cache.put(1, {"row": 1}, 10)
    assert cache.get([1]) == {}
