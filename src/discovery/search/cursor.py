"""Opaque paging cursors: the sort position of the last hit shown, not an offset.

A cursor holds the last hit's sort key, relevance score and id, plus a fingerprint of the
request it belongs to. The next page is every hit that sorts after that position, so paging
never skips or repeats a hit however deep it goes, and costs the same on page 1 and page 10,000.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import dataclass

from discovery.errors import DiscoveryError
from discovery.search.models import SearchRequest


class CursorError(DiscoveryError):
    """A cursor that is malformed or belongs to another query."""


@dataclass
class Position:
    key: float  # the sort column's value (-inf when missing); 0 for relevance
    score: float
    id: str


def fingerprint(request: SearchRequest) -> str:
    """Identifies the result list: everything in the request except where in it we are."""
    data = request.model_dump(exclude={"cursor", "size", "facets", "variables_per_hit"})
    return hashlib.blake2b(json.dumps(data, sort_keys=True).encode(), digest_size=6).hexdigest()


def encode(position: Position, request: SearchRequest) -> str:
    key = None if math.isinf(position.key) else position.key
    payload = json.dumps([key, position.score, position.id, fingerprint(request)],
                         separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(cursor: str, request: SearchRequest) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, score, rid, mark = json.loads(raw)
        position = Position(-math.inf if key is None else float(key), float(score), str(rid))
    except (ValueError, TypeError) as error:
        raise CursorError(f"malformed cursor: {error}", hint="pass next_cursor back unchanged") from None
    if mark != fingerprint(request):
        raise CursorError("the cursor belongs to a different query, filters or sort",
                          hint="start again without a cursor")
    return position
