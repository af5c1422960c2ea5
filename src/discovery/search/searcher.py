"""What the JSON API, the pages and the CLI call to search: one protocol, so a backend other than
the local index (a PostgreSQL searcher) can answer the same requests (`models.py` holds the
contract) with the same fusion, grouping, cursors and explanations.
"""

from __future__ import annotations

from typing import Protocol

from discovery.search.models import SearchRequest, SearchResults


class Searcher(Protocol):
    """A search backend: answers requests, names the model its vectors come from and the version
    of the index it answers from (responses are cached under it), and closes."""

    @property
    def model(self) -> str: ...

    @property
    def generation(self) -> str: ...

    def search(self, request: SearchRequest) -> SearchResults: ...

    def close(self) -> None: ...
