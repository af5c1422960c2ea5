"""The response cache holds at most its byte budget, however large or many the entries clients
cause: the old one held 5,000 entries of any size (a server grew from 4.1 to 6.6 GB in 70 s)."""

from __future__ import annotations

import tracemalloc

from discovery.server.cache import LARGEST_SHARE, ResponseCache, footprint
from discovery.server.services import Services
from tests.server.site import Site


def test_entries_leave_least_recently_used_first_to_fit_the_budget() -> None:
    cache = ResponseCache(max_bytes=footprint(("k", 0), "x" * 1000) * LARGEST_SHARE)
    for n in range(LARGEST_SHARE):
        cache.put(("k", n), "x" * 1000, 60)
    assert cache.get(("k", 0), lambda: "recomputed", 60) == "x" * 1000  # now the most recent
    cache.put(("k", LARGEST_SHARE), "x" * 1000, 60)
    assert len(cache) == LARGEST_SHARE and cache.bytes <= cache.max_bytes
    assert cache.get(("k", 1), lambda: "recomputed", 60) == "recomputed"  # the oldest went
    assert cache.get(("k", 0), lambda: "recomputed", 60) == "x" * 1000


def test_a_value_larger_than_its_share_is_served_but_not_kept() -> None:
    cache = ResponseCache(max_bytes=80_000)
    big = "y" * (80_000 // LARGEST_SHARE)
    assert cache.get("big", lambda: big, 60) == big
    assert len(cache) == 0 and cache.bytes == 0


def test_expired_entries_are_computed_again() -> None:
    cache = ResponseCache(max_bytes=1_000_000)
    cache.put("k", "old", -1)
    assert cache.get("k", lambda: "new", 60) == "new"


def test_many_large_views_keep_the_services_memory_bounded(search_site: Site) -> None:
    services = Services(search_site.data)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(400):  # 400 distinct 1 MB views: 400 MB if all were kept
            services.cached(("view", n), lambda n=n: str(n) * (1_000_000 // len(str(n))))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000_000, f"{grown / 1e6:.0f} MB kept"
