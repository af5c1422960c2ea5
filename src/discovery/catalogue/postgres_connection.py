"""Connecting to a PostgreSQL catalogue: what a `postgresql://` target looks like, how it is
shown without its password, and the one-line errors for a URL that cannot be used or a server
that cannot be reached.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from discovery.errors import CatalogueError

SCHEMES = ("postgresql://", "postgres://")
CONNECT_SECONDS = 10  # a server that does not answer fails the command instead of hanging it
URL_FORM = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def is_database_url(target: object) -> bool:
    """Whether a --data target names a PostgreSQL database rather than a folder."""
    return isinstance(target, str) and target.startswith(SCHEMES)


def shown(url: str) -> str:
    """The URL as errors and messages print it: user, host, port and database, never a password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url.split("://", 1)[0] + "://..."  # unparsable: its text may hold a password
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host') or ''}{port}/{parts.get('dbname') or ''}"


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection in autocommit mode (writes open their own transactions)."""
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:  # libpq quotes the URL, password and all
        reason = one_line(error).replace(url, "(the URL)")
        raise CatalogueError(f"not a usable PostgreSQL URL: {reason}", file=shown(url),
                             hint=f"write it as {URL_FORM}") from None
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_SECONDS)
    except psycopg.Error as error:
        raise CatalogueError(f"cannot connect to PostgreSQL: {one_line(error)}", file=shown(url),
                             hint="check that the server is running and reachable at this host "
                                  "and port, and that the user, password and database are "
                                  "right") from None


def one_line(error: BaseException) -> str:
    """libpq's messages run over several lines; the CLI prints one."""
    return " ".join(str(error).split())
