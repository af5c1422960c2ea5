"""The one place that turns a target into a catalogue backend. A folder means the embedded
default, a SQLite catalogue inside it (`store.py`); a `postgresql://` URL means the shared
catalogue in that PostgreSQL database (`postgres.py`). Callers hold a `CatalogueStore` and never
learn which backend, file or schema is behind it. (The CLI's --data option is where
DISCOVERY_DATABASE_URL is read: it names the target when --data is not given.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

from discovery.catalogue import store
from discovery.catalogue.postgres_connection import is_database_url
from discovery.catalogue.protocol import CatalogueStore

Target = str | Path  # a folder, or a postgresql:// URL


class DataVersion(Protocol):
    """A number that changes whenever a writer commits to the catalogue: what page caches key on."""

    def __call__(self) -> int: ...

    def close(self) -> None: ...


def open_catalogue(target: Target) -> CatalogueStore:
    """The catalogue at `target`: a folder's is created if needed; a database's schema must
    have been made by `discovery migrate`."""
    if is_database_url(target):
        from discovery.catalogue.postgres import PostgresCatalogue  # psycopg loads only for servers
        return PostgresCatalogue(str(target))
    return store.Catalogue(target)


def migrate(target: Target) -> str:
    """Create or upgrade the catalogue's schema at `target`; says what was done."""
    if is_database_url(target):
        from discovery.catalogue.postgres_connection import shown
        from discovery.catalogue.postgres_schema import migrate as migrate_database
        before, after = migrate_database(str(target))
        where = shown(str(target))
        if before == after:
            return f"{where}: the catalogue's schema is already at version {after}"
        return f"{where}: the catalogue's schema went from version {before} to {after}"
    store.Catalogue(target).close()  # a SQLite catalogue upgrades itself whenever it is opened
    return f"{target}: the SQLite catalogue is up to date"


def catalogue_exists(target: Target) -> bool:
    """Whether `target` holds a catalogue already (serving and matching need one)."""
    if is_database_url(target):
        from discovery.catalogue.postgres_connection import connect
        from discovery.catalogue.postgres_schema import version
        with connect(str(target)) as db:
            return version(db) > 0
    return store.exists(Path(target))


def index_folder(target: Target) -> Path | None:
    """The folder whose search index sits beside the catalogue; None for a database, which keeps
    its search index in its own tables."""
    return None if is_database_url(target) else Path(target)


def data_version(target: Target) -> DataVersion:
    """A reader of the catalogue's data version that never writes to it: SQLite's own
    `data_version`, or the number every PostgreSQL write transaction moves."""
    if is_database_url(target):
        from discovery.catalogue.postgres_version import PostgresVersion
        return PostgresVersion(str(target))
    return store.ReadOnlyVersion(Path(target))


def cache_folder(target: Target, chosen: str | Path | None = None) -> Path:
    """Where a process keeps the rebuildable files it derives from the catalogue (the OAI-PMH
    ledger, the embedding cache): `chosen` when given; for a folder, the folder itself; for a
    database, a folder per server and database under the user's cache folder, so a ledger is
    never read against another database."""
    if chosen:
        return Path(chosen)
    if not is_database_url(target):
        return Path(target)
    from discovery.catalogue.postgres_connection import shown
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", shown(str(target)).split("://", 1)[1]).strip("_")
    return base / "discovery" / name
