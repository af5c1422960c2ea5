"""`discovery serve`: the web pages and the JSON API on one port (FastAPI under uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from discovery.cli.common import DataDir, app, console, fail
from discovery.errors import DiscoveryError


@app.command("serve")
def serve_command(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        base_url: Annotated[Optional[str], typer.Option(
            "--base-url", help="Public URL of the site, for canonical links behind a proxy.")] = None,
        data: DataDir = Path("data")) -> None:
    """Serve search, item pages and the API (docs at /docs) from the catalogue in --data."""
    import uvicorn

    from discovery.api.app import create_app

    try:
        web_app = create_app(data, base_url=base_url)
    except DiscoveryError as error:
        raise fail(error) from None
    console.print(f"Serving {data} at http://{host}:{port}/ (API docs at /docs). Ctrl+C stops.")
    uvicorn.run(web_app, host=host, port=port, log_level="warning")
