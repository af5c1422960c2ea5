"""The framework's floor: a trivial FastAPI app served exactly as `discovery serve` serves ours
(same socket, workers, event loop and HTTP parser, `discovery.cli.serve.run_server`). Every GET
answers one fixed JSON object, so what it costs is FastAPI, uvicorn and the network alone.
bench/api_load.py runs it beside the product in the same run.

    python bench/floor_app.py --port 8123 [--workers 2] [--loop auto] [--http auto]
"""

from __future__ import annotations

import argparse
from typing import Any

from fastapi import FastAPI

ANSWER = {"total": 1, "hits": [{"id": "floor", "title": "A fixed answer", "score": 1.0}]}


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/{path:path}")
    def anything(path: str) -> dict[str, Any]:
        return ANSWER

    return app


def main() -> None:
    from discovery.cli.serve import run_server

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    args = parser.parse_args()
    run_server("floor_app:create_app", args.host, args.port, args.workers, args.loop, args.http)


if __name__ == "__main__":
    main()
