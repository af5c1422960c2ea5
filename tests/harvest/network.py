"""The real socket layer, watched through Python's audit hooks (PEP 578): every connection and
name lookup made while a test watches is recorded, and refused where the test says so. Nothing
is replaced, so what is proved here is what the code under test really did."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                    "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.sendto",
                    "socket.sendmsg", "urllib.Request"})


@dataclass
class Watch:
    refuse: bool
    attempts: list[str] = field(default_factory=list)


_watches: list[Watch] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _watches or event not in EVENTS:
        return
    watch = _watches[-1]
    target = args[1] if event in ("socket.connect", "socket.sendto") else args[0]
    watch.attempts.append(f"{event} {target!r}")
    if watch.refuse:
        raise ConnectionRefusedError(f"{event}: no network while the test watches")


sys.addaudithook(_audit)  # for the whole session, but silent while nothing is watched


@contextmanager
def watched_sockets(*, refuse: bool) -> Iterator[list[str]]:
    """The attempts (event and target) made inside the block; `refuse` makes each one fail as a
    refused connection would."""
    watch = Watch(refuse)
    _watches.append(watch)
    try:
        yield watch.attempts
    finally:
        _watches.remove(watch)
