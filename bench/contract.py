"""The API contract at length: schemathesis, driven by the served OpenAPI document, against
`discovery serve` in its own process on 127.0.0.1 over a real catalogue and index, with the
production rate limits. The checks and settings are `make test`'s (tests/server/contract.py); this run
takes many more examples per operation. Prints requests, unique failures and time.

    .venv/bin/python bench/contract.py --data data [--examples 30] [--seed 1]

Target: 0 failures, 0 errors.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from discovery.catalogue.backends import open_catalogue
from discovery.model import Predicate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared settings live in tests/
from tests.server.contract import Ids, run_contract  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def real_ids(data: Path) -> Ids:
    """A study with variables, a grant and one of the study's variables, from the catalogue."""
    with open_catalogue(data) as catalogue:
        project = next(rid for rid, *_ in catalogue.list_records("project", limit=1))
        for kind in ("study", "dataset"):
            for rid, *_ in catalogue.list_records(kind):
                variables = [r.object for r in catalogue.relations(rid)
                             if r.subject == rid and r.predicate == Predicate.HAS_VARIABLE]
                if variables:
                    return Ids(item=rid, project=project, variable=variables[0])
    raise SystemExit(f"no study in {data} has variables: ingest the corpus first")


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "discovery"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data", str(data)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--examples", type=int, default=30, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds for the whole run")
    args = parser.parse_args()
    ids = real_ids(args.data)
    port = free_port()
    server = start_server(args.data, port)
    url = f"http://127.0.0.1:{port}"
    try:
        httpx.get(url + "/harmonise", timeout=60)  # start loading the matcher
        with tempfile.TemporaryDirectory() as work:
            run = run_contract(url, Path(work), ids, max_examples=args.examples, seed=args.seed,
                               timeout=args.timeout)
    finally:
        server.terminate()
        server.wait(10)
    print(f"data {args.data}, {args.examples} examples per operation, seed {args.seed}: "
          f"{run.generated} requests, {run.unique_failures} unique failures, "
          f"{len(run.errors)} errors, {run.seconds:.0f} s")
    if run.unique_failures or run.errors:
        print(run.output[-20000:])
        raise SystemExit(1)


if __name__ == "__main__":
    main()
