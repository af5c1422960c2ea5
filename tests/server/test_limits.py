"""Token buckets per client and kind of work: a burst, then a steady rate, then 429 with a wait."""

from __future__ import annotations

import pytest

from discovery.server.limits import MAX_CLIENTS, Rate, RateLimiter, TooManyRequests


def test_a_burst_then_a_refusal_that_says_how_long_to_wait() -> None:
    limiter = RateLimiter({"harmonise": Rate(burst=10, per_minute=6)})
    limiter.charge("harmonise", "1.2.3.4", 6)
    limiter.charge("harmonise", "1.2.3.4", 4)
    with pytest.raises(TooManyRequests) as refused:
        limiter.charge("harmonise", "1.2.3.4", 3)
    assert 29 <= refused.value.retry_after <= 30  # 3 tokens at 6 a minute
    limiter.charge("harmonise", "5.6.7.8", 10)  # another client has its own bucket
    limiter.charge("search", "1.2.3.4", 1_000)  # work without a rate is not limited


def test_buckets_refill_at_their_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("discovery.server.limits.time.monotonic", lambda: now[0])
    limiter = RateLimiter({"measured": Rate(burst=2, per_minute=6)})
    limiter.charge("measured", "a")
    limiter.charge("measured", "a")
    with pytest.raises(TooManyRequests):
        limiter.charge("measured", "a")
    now[0] += 10  # one token back
    limiter.charge("measured", "a")
    with pytest.raises(TooManyRequests):
        limiter.charge("measured", "a")


def test_the_number_of_clients_remembered_is_bounded() -> None:
    limiter = RateLimiter({"measured": Rate(burst=1, per_minute=1)})
    for n in range(MAX_CLIENTS + 100):
        limiter.charge("measured", f"client-{n}")
    assert len(limiter._buckets) == MAX_CLIENTS
