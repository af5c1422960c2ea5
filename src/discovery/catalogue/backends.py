"""The one place that turns a target into a catalogue backend. A folder means the embedded
default, a SQLite catalogue inside it (`store.py`); callers hold a `CatalogueStore` and never
learn which backend, file or schema is behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from discovery.catalogue import store
from discovery.catalogue.protocol import CatalogueStore


class DataVersion(Protocol):
    """A number that changes whenever a writer commits to the catalogue: what page caches key on."""

    def __call__(self) -> int: ...

    def close(self) -> None: ...


def open_catalogue(target: str | Path) -> CatalogueStore:
    """The catalogue at `target`, created if needed."""
    return store.Catalogue(target)


def catalogue_exists(target: str | Path) -> bool:
    """Whether `target` holds a catalogue already (serving and matching need one)."""
    return store.exists(Path(target))


def data_version(target: str | Path) -> DataVersion:
    """A reader of the catalogue's data version that never writes to it."""
    return store.ReadOnlyVersion(Path(target))
