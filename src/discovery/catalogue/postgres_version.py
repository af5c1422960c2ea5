"""The data version of a PostgreSQL catalogue as a page cache reads it: the number in
`postgres_schema.DATA_VERSION_TABLE`, which commits with every write, read on a connection of the
reader's own. On a streaming replica it is the number of the writes replayed there so far, so a
server reading a replica keys its pages on what that replica holds.
"""

from __future__ import annotations

import psycopg

from discovery.catalogue.postgres_connection import connect, one_line, shown
from discovery.catalogue.postgres_schema import DATA_VERSION_TABLE, connect_current
from discovery.errors import CatalogueError


class PostgresVersion:
    """Reads the data version; a connection the server dropped (a restart, a failover) is made
    again on the next read, so one outage does not break the reader for good."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = connect_current(url)

    def __call__(self) -> int:
        if self._db.closed:
            self._db = connect(self.url)
        try:
            row = self._db.execute(f"SELECT version FROM {DATA_VERSION_TABLE}").fetchone()
        except psycopg.OperationalError as error:
            self._db.close()
            raise CatalogueError(f"cannot read the catalogue's data version: {one_line(error)}",
                                 file=shown(self.url),
                                 hint="check that the PostgreSQL server is running") from None
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._db.close()
