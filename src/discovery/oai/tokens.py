"""Resumption tokens: a list's request and the ledger position it has reached, not an offset.

Positions are history numbers, so a token stays valid for as long as the catalogue exists
(no expirationDate) and means the same list however many records are added, changed or deleted
in between. A checksum makes a mangled or hand-edited token a `badResumptionToken`, not another
list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass

VERSION = 1
MAX_TOKEN = 2000  # characters: a longer one is not ours


class BadToken(ValueError):
    """Not a token this provider gave out."""


@dataclass(frozen=True)
class Place:
    """Where a list stands: what it lists and how far it has gone."""

    verb: str
    prefix: str
    set_spec: str | None
    from_: str | None
    until: str | None
    after: int  # the ledger position of the last item sent
    sent: int  # items sent before the next page (the `cursor` attribute)


def encode(place: Place) -> str:
    body = json.dumps({"v": VERSION, **asdict(place)}, separators=(",", ":"), sort_keys=True)
    packed = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{packed}.{_check(body)}"


def decode(token: str) -> Place:
    packed, dot, check = token.partition(".")
    if len(token) > MAX_TOKEN or not dot:
        raise BadToken("not a token this repository gave out")
    try:
        body = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
        data = json.loads(body)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadToken("the token is not readable") from None
    if check != _check(body) or not isinstance(data, dict) or data.pop("v", None) != VERSION:
        raise BadToken("the token was changed or comes from another version")
    try:
        place = Place(**data)
    except TypeError:
        raise BadToken("the token lacks a field") from None
    after, sent = data["after"], data["sent"]  # as the JSON gave them: a dataclass checks no types
    if not isinstance(after, int) or not isinstance(sent, int) or after < 0:
        raise BadToken("the token's position is not a number")
    return place


def _check(body: str) -> str:
    return hashlib.blake2b(body.encode(), digest_size=8).hexdigest()
