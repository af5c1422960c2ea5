"""`discovery serve`: the web pages and the JSON API on one port (FastAPI under uvicorn)."""

from __future__ import annotations

import os
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
        workers: Annotated[int, typer.Option(
            min=1, help="Server processes; more than one uses more cores (each opens the index).")] = 1,
        data: DataDir = Path("data")) -> None:
    """Serve search, item pages and the API (docs at /docs) from the catalogue in --data."""
    import uvicorn

    from discovery.api.app import create_app

    try:
        web_app = create_app(data, base_url=base_url)  # fails here, once, on a missing catalogue
    except DiscoveryError as error:
        raise fail(error) from None
    console.print(f"Serving {data} at http://{host}:{port}/ (API docs at /docs). Ctrl+C stops.")
    if workers == 1:
        uvicorn.run(web_app, host=host, port=port, log_level="warning")
        return
    os.environ["DISCOVERY_DATA"] = str(data)
    os.environ["DISCOVERY_BASE_URL"] = base_url or ""
    uvicorn.run("discovery.api.app:app_from_environment", factory=True, workers=workers, host=host,
                port=port, log_level="warning")
