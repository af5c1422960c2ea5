"""Time limits for one search: the search as a whole, and its facet counts apart.

Every stage of a search (understanding the query, each retriever, grouping, the page of hits) is
bounded by its depth, so a deadline is checked between stages rather than by interrupting one:
a search past its deadline stops at the next stage with `SearchTimeout` (HTTP 503), and facet
counting stops at the next facet, naming the facets it did not count instead of failing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from discovery.errors import DiscoveryError

SEARCH_SECONDS = 10.0  # a search that takes longer is stuck behind other work, not worth waiting for
FACET_SECONDS = 2.0  # facet counts after the hits; the hits are shown without those not counted
RETRY_AFTER = 5  # seconds a client is told to wait before trying again


class SearchTimeout(DiscoveryError):
    """A search ran past its deadline; nothing is wrong with the query itself."""

    retry_after = RETRY_AFTER


@dataclass
class Deadline:
    seconds: float
    started: float = field(default_factory=time.perf_counter)

    def passed(self) -> bool:
        return time.perf_counter() - self.started >= self.seconds

    def check(self, stage: str) -> None:
        """Stop the search if its time is up, saying at which stage."""
        if self.passed():
            raise SearchTimeout(f"the search ran past its {self.seconds:g} s limit while {stage}",
                                hint="try again in a few seconds, or narrow the query with a filter")
