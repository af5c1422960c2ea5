"""Load test of the web app and API: `discovery serve` in its own process on 127.0.0.1, N
concurrent clients for S seconds over a mix of search, item page, item API, variables and
explore requests. Prints requests/s, p50/p99 latency (overall and per request kind) and errors.

    .venv/bin/python bench/api_load.py --data data [--clients 50] [--seconds 60]
                                       [--ingest PATH... [--ingest-at SECONDS]]

The server's resident memory (its processes together) is sampled every 5 s; a long run is the
soak test (`--seconds 600`): the RSS at a fifth of the run, at the end and at the peak are
printed, so growth after warm-up shows.

Target at corpus size: 0 errors, p99 <= 200 ms, RSS at the end within 10% of a fifth of the way.
The clients run in this process (asyncio + httpx), so on a small machine they compete with the
server for CPU: the figures are a floor.

`--ingest PATH...` serves a copy of --data (the given folder is not changed) and, --ingest-at
seconds into the load (default: a quarter of it), runs `discovery ingest PATH... --data COPY` in
its own process, which stores, links and publishes a new index generation while the server
answers; errors are then counted before, during and after that ingest. Give it files that change
the catalogue, or there is no new index to switch to.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
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
                 latencies: dict[str, list[float]], errors: list[tuple[float, str]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        position = start
        while time.perf_counter() < deadline:
            kind, path = mix[position % len(mix)]
            position += 7
            began = time.perf_counter()
            try:
                response = await http.get(path)
                if response.status_code != 200:
                    errors.append((began, f"{response.status_code} {path}"))
            except httpx.HTTPError as error:
                errors.append((began, f"{type(error).__name__} {path}"))
            latencies[kind].append((time.perf_counter() - began) * 1000)


class Ingest:
    """`discovery ingest` in its own process, started `at` seconds into the load."""

    def __init__(self, paths: list[Path], data: Path, at: float) -> None:
        self.command = [str(Path(sys.executable).parent / "discovery"), "ingest",
                        *[str(p) for p in paths], "--data", str(data)]
        self.at = at
        self.load = self.began = self.ended = 0.0
        self.result: subprocess.CompletedProcess[str] | None = None

    async def run(self) -> None:
        self.load = time.perf_counter()
        await asyncio.sleep(self.at)
        self.began = time.perf_counter()
        self.result = await asyncio.to_thread(subprocess.run, self.command, capture_output=True,
                                              text=True)
        self.ended = time.perf_counter()

    def report(self, errors: list[tuple[float, str]]) -> str:
        assert self.result is not None
        lines = " ".join(self.result.stdout.split())
        summary = lines[lines.find("Index "):] if "Index " in lines else lines[-300:]
        before = sum(1 for at, _ in errors if at < self.began)
        during = sum(1 for at, _ in errors if self.began <= at < self.ended)
        return (f"ingest ran from {self.began - self.load:.1f} s to {self.ended - self.load:.1f} s "
                f"of the load, exit {self.result.returncode}: {summary}\n  errors before the "
                f"ingest {before}, during it {during}, after it {len(errors) - before - during}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (uvicorn's workers), in MB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue  # exited meanwhile
    return total / 1024


async def sample_rss(pid: int, deadline: float, samples: list[tuple[float, float]]) -> None:
    began = time.perf_counter()
    while time.perf_counter() < deadline:
        samples.append((time.perf_counter() - began, rss_mb(pid)))
        await asyncio.sleep(5)
    samples.append((time.perf_counter() - began, rss_mb(pid)))


def rss_report(samples: list[tuple[float, float]]) -> str:
    settled = next(mb for at, mb in samples if at >= samples[-1][0] / 5)
    return (f"server RSS: {samples[0][1]:.0f} MB at the start, {settled:.0f} MB a fifth of the "
            f"way, {samples[-1][1]:.0f} MB at the end ({samples[-1][1] / settled - 1:+.1%}), "
            f"peak {max(mb for _, mb in samples):.0f} MB, {len(samples)} samples")


async def run(base: str, mix: list[tuple[str, str]], clients: int, seconds: float,
              ingest: Ingest | None, server: int
              ) -> tuple[dict[str, list[float]], list[tuple[float, str]], float, list[tuple[float, float]]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[tuple[float, str]] = []
    rss: list[tuple[float, float]] = []
    began = time.perf_counter()
    deadline = began + seconds
    work = [client(base, mix, i * 37, deadline, latencies, errors) for i in range(clients)]
    await asyncio.gather(*work, sample_rss(server, deadline, rss), *([ingest.run()] if ingest else []))
    return latencies, errors, time.perf_counter() - began, rss


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
    parser.add_argument("--ingest", type=Path, nargs="+", help="ingest these during the load")
    parser.add_argument("--ingest-at", type=float, help="seconds into the load (default: a quarter)")
    args = parser.parse_args()
    if args.client_cpus:
        os.sched_setaffinity(0, {cpu for part in args.client_cpus.split(",")
                                 for cpu in _cpu_range(part)})
    with tempfile.TemporaryDirectory(prefix="api-load-") as scratch:
        data = args.data
        ingest = None
        if args.ingest:
            data = Path(scratch) / "data"
            shutil.copytree(args.data, data)
            at = args.seconds / 4 if args.ingest_at is None else args.ingest_at
            ingest = Ingest(args.ingest, data, at)
        port = free_port()
        mix = request_mix(data, args.seed)
        server = start_server(data, port, args.workers, args.server_cpus)
        base = f"http://127.0.0.1:{port}"
        try:
            for _, path in {kind: path for kind, path in mix}.items():  # warm: models, caches
                httpx.get(base + path, timeout=60)
            latencies, errors, took, rss = asyncio.run(run(base, mix, args.clients, args.seconds,
                                                           ingest, server.pid))
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
    print(rss_report(rss))
    if ingest:
        print(ingest.report(errors))
    for _, line in errors[:10]:
        print(f"  error: {line}")


if __name__ == "__main__":
    main()
