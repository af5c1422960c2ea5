"""Load test of the web app and API: `discovery serve` in its own process on 127.0.0.1, N
concurrent clients for S seconds over a mix of search, item page, item API, variables and
explore requests. Prints requests/s, p50/p99 latency (overall and per request kind) and errors.

    .venv/bin/python bench/api_load.py --data data [--clients 50] [--seconds 60]

Target at corpus size: 0 errors, p99 <= 200 ms. The clients run in this process (asyncio +
httpx), so on a small machine they compete with the server for CPU: the figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

from discovery.catalogue.store import Catalogue

QUERIES = ["financial knowledge", "drug use parents", "health", "income", "retirement savings",
           "children", "survey", "employment", "anxiety", "education", "religion", "pensions"]
WORDS = ["age", "women", "school", "work", "money", "family", "city", "trust", "vote", "sleep",
         "food", "tax", "rent", "police", "doctor", "church", "media", "drink", "sport", "debt"]
FILTERS = [None, "kind:study", "country:Finland", "country:Germany"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_mix(data: Path, seed: int) -> list[tuple[str, str]]:
    """(kind, path) pairs drawn from the catalogue's real ids."""
    rng = random.Random(seed)
    with Catalogue(data) as catalogue:
        items = [rid for kind in ("study", "dataset") for rid, *_ in catalogue.list_records(kind)]
        variables = [rid for rid, *_ in catalogue.list_records("variable", limit=5000)]
        projects = [rid for rid, *_ in catalogue.list_records("project")]
        with_variables = [rid for rid in items if any(
            r.predicate == "hasVariable" for r in catalogue.relations(rid)[:1])]
    mix: list[tuple[str, str]] = []
    for _ in range(2000):
        roll = rng.random()
        if roll < 0.25:
            # half the searches are word pairs seen rarely, so the result cache is not all hits
            query = rng.choice(QUERIES) if rng.random() < 0.5 else \
                f"{rng.choice(QUERIES).split()[0]} {rng.choice(WORDS)}"
            query = query.replace(" ", "+")
            facet = rng.choice(FILTERS)
            mix.append(("api search", f"/api/search?q={query}" + (f"&filter={facet}" if facet else "")))
        elif roll < 0.40:
            mix.append(("search page", f"/?q={rng.choice(QUERIES).replace(' ', '+')}"))
        elif roll < 0.60:
            mix.append(("item page", f"/items/{rng.choice(items)}"))
        elif roll < 0.70:
            mix.append(("api item", f"/api/items/{rng.choice(items)}"))
        elif roll < 0.80 and with_variables:
            mix.append(("api variables", f"/api/items/{rng.choice(with_variables)}/variables?size=50"))
        elif roll < 0.88 and variables:
            mix.append(("variable page", f"/variables/{rng.choice(variables)}"))
        elif roll < 0.94 and projects:
            mix.append(("project page", f"/projects/{rng.choice(projects)}"))
        else:
            mix.append(("explore", rng.choice(["/explore", "/api/stats"])))
    return mix


async def client(base: str, mix: list[tuple[str, str]], start: int, deadline: float,
                 latencies: dict[str, list[float]], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        position = start
        while time.perf_counter() < deadline:
            kind, path = mix[position % len(mix)]
            position += 7
            began = time.perf_counter()
            try:
                response = await http.get(path)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {path}")
            except httpx.HTTPError as error:
                errors.append(f"{type(error).__name__} {path}")
            latencies[kind].append((time.perf_counter() - began) * 1000)


async def run(base: str, mix: list[tuple[str, str]], clients: int, seconds: float
              ) -> tuple[dict[str, list[float]], list[str], float]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(client(base, mix, i * 37, deadline, latencies, errors)
                           for i in range(clients)))
    return latencies, errors, time.perf_counter() - began


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start_server(data: Path, port: int, workers: int, cpus: str | None) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "discovery"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data", str(data), "--workers", str(workers)]
    if cpus:
        command = ["taskset", "-c", cpus, *command]
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


def _cpu_range(part: str) -> range:
    first, _, last = part.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--server-cpus", help="pin the server to these CPUs (taskset list, e.g. 0-1)")
    parser.add_argument("--client-cpus", help="pin these clients to these CPUs (e.g. 2-7)")
    args = parser.parse_args()
    if args.client_cpus:
        os.sched_setaffinity(0, {cpu for part in args.client_cpus.split(",")
                                 for cpu in _cpu_range(part)})
    port = free_port()
    mix = request_mix(args.data, args.seed)
    server = start_server(args.data, port, args.workers, args.server_cpus)
    base = f"http://127.0.0.1:{port}"
    try:
        for _, path in {kind: path for kind, path in mix}.items():  # warm: models, caches
            httpx.get(base + path, timeout=60)
        latencies, errors, took = asyncio.run(run(base, mix, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(10)
    every = [ms for values in latencies.values() for ms in values]
    where = f", server on CPUs {args.server_cpus}" if args.server_cpus else ""
    print(f"{args.clients} clients, {args.workers} server process(es){where}, {took:.1f} s, "
          f"data {args.data}: {len(every)} requests, "
          f"{len(every) / took:.1f} requests/s, p50 {statistics.median(every):.1f} ms, "
          f"p99 {percentile(every, 0.99):.1f} ms, errors {len(errors)}")
    for kind, values in sorted(latencies.items()):
        print(f"  {kind:14} {len(values):6} requests  p50 {statistics.median(values):7.1f} ms  "
              f"p99 {percentile(values, 0.99):7.1f} ms")
    for line in errors[:10]:
        print(f"  error: {line}")


if __name__ == "__main__":
    main()
