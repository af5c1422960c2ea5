"""The `discovery` command line; importing the area modules registers their commands."""

from discovery.cli import catalogue  # noqa: F401  (registers commands)
from discovery.cli import export  # noqa: F401  (registers export)
from discovery.cli import harmonise  # noqa: F401  (registers commands)
from discovery.cli import links  # noqa: F401  (registers link, links)
from discovery.cli import serve  # noqa: F401  (registers commands)
from discovery.cli import search  # noqa: F401  (registers index, search, eval)
from discovery.cli.common import app

__all__ = ["app"]
