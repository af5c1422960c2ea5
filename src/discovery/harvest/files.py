"""Where bytes come from when the user names them: files, folders, glob patterns and URLs."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from discovery.errors import DiscoveryError, HarvestError
from discovery.harvest.http import PUBLIC_ONLY, Allowance, fetch
from discovery.sources.base import MAX_DOCUMENT_BYTES, Document

GLOB_CHARS = set("*?[")


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def expand(targets: list[str]) -> list[str]:
    """Every file or URL the targets name, folders walked recursively, in a stable order.

    A target that names nothing is returned as is, so reading it reports the missing path."""
    found: list[str] = []
    for target in targets:
        if is_url(target):
            found.append(target)
        elif GLOB_CHARS & set(target):
            matches = sorted(glob.glob(target, recursive=True))
            found += [m for m in matches if Path(m).is_file()] or [target]
        elif Path(target).is_dir():
            found += sorted(str(p) for p in Path(target).rglob("*")
                            if p.is_file() and not any(part.startswith(".") for part in
                                                       p.relative_to(target).parts))
        else:
            found.append(target)
    return list(dict.fromkeys(found))


def read_file(path: str) -> Document:
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise HarvestError(f"file is {size} bytes, over the {MAX_DOCUMENT_BYTES} limit",
                               file=path, hint="split it, or harvest records one by one")
        content = file.read_bytes()
        fetched = datetime.fromtimestamp(file.stat().st_mtime, timezone.utc).replace(microsecond=0)
    except FileNotFoundError:
        raise HarvestError("no such file or folder", file=path, hint="check the path") from None
    except OSError as error:
        raise HarvestError(f"cannot read: {error.strerror}", file=path) from None
    return Document(location=str(file), content=content, fetched_at=fetched)


def documents(targets: list[str], *,
              allow: Allowance = PUBLIC_ONLY) -> Iterator[Document | DiscoveryError]:
    """One Document per file or URL; a target that cannot be read yields its error instead.
    URLs reach public addresses only, unless `allow` says otherwise."""
    for target in expand(targets):
        try:
            if is_url(target):
                yield fetch(target, allow=allow)
            else:
                yield read_file(target)
        except DiscoveryError as error:
            yield error
