"""What every `discovery` subcommand shares: the Typer app, consoles, the --data and --cache-dir options.

Commands live in one module per area (catalogue, search, harmonise, links, serve); each
registers itself on `app` when `discovery.cli` imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery.catalogue import backends
from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import DiscoveryError

app = typer.Typer(help="Find and harmonise research data across catalogues.",
                  no_args_is_help=True, add_completion=False)
console = Console()
errors = Console(stderr=True)

# the one place DISCOVERY_DATABASE_URL is read: it names the catalogue when --data is not given
DataDir = Annotated[str, typer.Option(
    "--data", envvar=["DISCOVERY_DATABASE_URL", "DISCOVERY_DATA"],
    help="Folder that holds the catalogue, or the postgresql:// URL of a shared one (default: "
         "$DISCOVERY_DATABASE_URL, else $DISCOVERY_DATA, else ./data).")]
CACHE_DIR = "DISCOVERY_CACHE_DIR"  # a database's cache folder, as `--cache-dir` takes it
CacheDir = Annotated[Optional[Path], typer.Option(
    "--cache-dir", envvar=CACHE_DIR,
    help="On a database: the folder of the embedding cache; default: one per database under "
         "~/.cache/discovery (a data folder keeps it in its index).")]


def fail(error: DiscoveryError, code: int = 2) -> typer.Exit:
    """Print a DiscoveryError on one line; the caller raises the returned Exit."""
    errors.print(escape(error.one_line()), style="red", soft_wrap=True)
    return typer.Exit(code)


def open_catalogue(data: str) -> CatalogueStore:
    try:
        return backends.open_catalogue(data)
    except DiscoveryError as error:
        raise fail(error) from None


def progress_bar() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[current]}"), console=errors)
