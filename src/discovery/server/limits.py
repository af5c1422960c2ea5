"""Rate limits on the expensive routes, per client address: token buckets in memory.

A harmonisation costs seconds of CPU per hundred items (on a loaded 2-core machine, MiniLM
encoded 96 and multilingual-e5 29 texts/s, each item twice), and "which studies measured this"
up to 13 s for a question whose candidates are not cached yet, so one anonymous client looping on
either held the matcher from everybody. Each client has a bucket per kind of work that refills
at a steady rate; a request that finds too few tokens gets 429 and how long to wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request

from discovery.errors import DiscoveryError

MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client's is forgotten first


class TooManyRequests(DiscoveryError):
    """The client has used its share of an expensive route for now."""

    def __init__(self, reason: str, retry_after: int, hint: str | None = None) -> None:
        super().__init__(reason, hint=hint)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rate:
    """`burst` tokens at most, refilled at `per_minute` tokens a minute."""

    burst: float
    per_minute: float


# Harmonise is charged per item: one request of the most items allowed (400), then about one
# of GAD-7's size (7 items, two instruments) every 10 s. Measured is charged per question.
DEFAULT_RATES = {"harmonise": Rate(burst=400, per_minute=80), "measured": Rate(burst=5, per_minute=6)}


class RateLimiter:
    def __init__(self, rates: dict[str, Rate] | None = None) -> None:
        self.rates = DEFAULT_RATES if rates is None else rates
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def charge(self, work: str, client: str, cost: float = 1.0) -> None:
        """Take `cost` tokens from the client's bucket for `work`, or raise TooManyRequests."""
        rate = self.rates.get(work)
        if rate is None:
            return
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop((work, client), (rate.burst, now))
            tokens = min(rate.burst, tokens + (now - then) * rate.per_minute / 60)
            if cost > tokens:
                self._buckets[(work, client)] = (tokens, now)
                wait = math.ceil((min(cost, rate.burst) - tokens) * 60 / rate.per_minute)
                raise TooManyRequests(f"too many {work} requests from this address for now",
                                      retry_after=max(1, wait),
                                      hint=f"wait {max(1, wait)} s, or run `discovery {work}` on "
                                           "your own machine for large jobs")
            self._buckets[(work, client)] = (tokens - cost, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)


def charge(request: Request, work: str, cost: float = 1.0) -> None:
    """Count an expensive request against its client's rate limit (the app's `RateLimiter`)."""
    request.app.state.limits.charge(work, request.client.host if request.client else "", cost)
