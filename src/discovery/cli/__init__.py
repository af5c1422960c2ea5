"""The `discovery` command line; importing the area modules registers their commands."""

from discovery.cli import catalogue  # noqa: F401  (registers commands)
from discovery.cli.common import app

__all__ = ["app"]
