"""Load test of the web app and API against the framework's floor, in one run: `discovery serve`
and a trivial FastAPI app served the same way (`bench/floor_app.py`), each in its own processes
on 127.0.0.1, under the same load in turn:

- the page mix: search API and search pages, item, variable and project pages, the item and
  variables API, explore and stats, from the catalogue's real ids;
- distinct searches: every request `/api/search?q=` three words drawn from a 60-word vocabulary,
  so almost none repeats and no response cache helps;

each at 10 and 50 concurrent clients (kept-alive connections). Prints requests/s, p50 and p99
latency and errors per run, the server's CPU time per request (its processes together, user and
system: what a request costs whatever else the machine is doing), and the product's requests/s as
a share of the floor's.

    .venv/bin/python bench/api_load.py --data data [--seconds 60] [--clients 10 50]
        [--workloads mix searches] [--workers 2] [--no-floor] [--load wrk|python]
        [--page-cache on|off] [--first-pass] [--ingest PATH... [--ingest-at SECONDS]]

The load comes from Debian's `wrk` (`apt-get install wrk`), a C program on one thread that takes a
few per cent of a core where Python clients took as much CPU as the server; without it (or with
`--load python`) the clients run in this process (asyncio + httpx) and the figures are a floor.

The server's resident memory (its processes together) is sampled every 5 s over the product's
runs: `--seconds 600 --clients 50 --workloads mix --no-floor` is the soak test, and the RSS at a
fifth of the run, at the end and at the peak are printed, so growth after warm-up shows.

Targets (issue 15), page mix at 50 clients on 2 cores: at least 60% of the floor's requests/s,
p99 <= 200 ms, 0 errors, RSS flat over 10 minutes; distinct searches at 50 clients: at least
12.5% of the floor's requests/s, p99 <= 300 ms, 0 errors.

The mix cycles 2,000 URLs, so with the page cache on (`discovery serve`'s default) most answers
after the first pass come from memory. `--page-cache off` serves the product with
`--page-cache-mb 0`, so every request is rendered afresh (the services' own short-lived caches of
search results and study views stay, as in production). `--first-pass` first requests every
distinct URL of the mix once, one at a time, before the load, and prints the latency per kind of
URL and the slowest URLs: what a visitor meets before anything is cached.

`--ingest PATH...` serves a copy of --data (the given folder is not changed) and, --ingest-at
seconds into the product's first run (default: a quarter of it), runs `discovery ingest PATH...
--data COPY` in its own process, which stores, links and publishes a new index generation while
the server answers; errors are then counted before, during and after that ingest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path

import httpx

from discovery.catalogue.backends import open_catalogue

QUERIES = ["financial knowledge", "drug use parents", "health", "income", "retirement savings",
           "children", "survey", "employment", "anxiety", "education", "religion", "pensions"]
WORDS = ["age", "women", "school", "work", "money", "family", "city", "trust", "vote", "sleep",
         "food", "tax", "rent", "police", "doctor", "church", "media", "drink", "sport", "debt"]
FILTERS = [None, "kind:study", "country:Finland", "country:Germany"]
# Distinct searches: three of these words per query (216,000 combinations).
VOCABULARY = ["health", "income", "children", "school", "work", "money", "family", "trust", "vote",
              "sleep", "food", "tax", "rent", "police", "doctor", "church", "media", "drink",
              "sport", "debt", "anxiety", "depression", "pension", "retirement", "savings",
              "housing", "migration", "language", "religion", "crime", "violence", "education",
              "employment", "unemployment", "wages", "poverty", "marriage", "divorce", "parents",
              "youth", "elderly", "smoking", "alcohol", "drugs", "exercise", "diet", "stress",
              "loneliness", "wellbeing", "happiness", "politics", "election", "party", "climate",
              "environment", "transport", "internet", "television", "newspaper", "survey"]
CLIENTS = (10, 50)
WORKLOADS = ("mix", "searches")
# wrk's side: the page mix cycles through a file of paths (each connection from its own place);
# distinct searches draw three words per request. Requests not answered 200 are counted per
# second (os.time), so errors can be placed before, during or after an ingest.
WRK_SCRIPT = """
threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)
end
function init(args)
  mode = args[1]
  items = {}
  for line in io.lines(args[2]) do items[#items + 1] = line end
  math.randomseed(tonumber(args[3]) + number * 7919)
  counter = number * 37
  failed = {}
  example = ""
end
function request()
  local path
  if mode == "searches" then
    path = "/api/search?q=" .. items[math.random(#items)] .. "+" .. items[math.random(#items)]
           .. "+" .. items[math.random(#items)]
  else
    counter = counter + 7
    path = items[counter % #items + 1]
  end
  return wrk.format("GET", path)
end
function response(status, headers, body)
  if status ~= 200 then
    local second = os.time()
    failed[second] = (failed[second] or 0) + 1
    if example == "" then example = status .. " " .. string.sub(body, 1, 200) end
  end
end
function done(summary, latency, requests)
  local at, examples = {}, {}
  for _, thread in ipairs(threads) do
    for second, n in pairs(thread:get("failed")) do at[#at + 1] = second .. ":" .. n end
    local seen = thread:get("example")
    if seen ~= "" then examples[#examples + 1] = seen end
  end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %d %s\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(at, ",")))
  for _, line in ipairs(examples) do io.write("EXAMPLE " .. string.gsub(line, "\\n", " ") .. "\\n") end
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_mix(data: Path, seed: int) -> list[tuple[str, str]]:
    """(kind, path) pairs drawn from the catalogue's real ids."""
    rng = random.Random(seed)
    with open_catalogue(data) as catalogue:
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


@dataclass
class Result:
    """One load run: requests answered, seconds, latency percentiles, and the failures, each as
    the wall-clock second it happened (socket errors have no time: at the run's end)."""

    requests: int
    seconds: float
    p50: float
    p99: float
    cpu: float = 0.0  # the server's CPU seconds over the run
    failures: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        """The server's CPU milliseconds per request answered."""
        return 1000 * self.cpu / self.requests if self.requests else 0.0


def run_wrk(base: str, workload: str, items: list[str], clients: int, seconds: float, seed: int,
            folder: Path) -> Result:
    script, listing = folder / "load.lua", folder / f"{workload}.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(items) + "\n")
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s",
               str(script), base, "--", "searches" if workload == "searches" else "paths",
               str(listing), str(seed)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    ended = time.time()
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    requests, micros, p50, p99, socket_errors, *at = line.split()[1:]
    failures = [float(second) for pair in (at[0].split(",") if at else []) if pair
                for second, n in [pair.split(":")] for _ in range(int(n))]
    failures += [ended] * int(socket_errors)
    examples = [line[8:] for line in output.splitlines() if line.startswith("EXAMPLE ")]
    return Result(int(requests), int(micros) / 1e6, float(p50), float(p99), failures, examples)


async def python_client(http: httpx.AsyncClient, next_path: Callable[[], str], deadline: float,
                        latencies: list[float], result: Result) -> None:
    while time.perf_counter() < deadline:
        path = next_path()
        began = time.perf_counter()
        try:
            response = await http.get(path)
            if response.status_code != 200:
                result.failures.append(time.time())
                result.examples.append(f"{response.status_code} {path}")
        except httpx.HTTPError as error:
            result.failures.append(time.time())
            result.examples.append(f"{type(error).__name__} {path}")
        latencies.append((time.perf_counter() - began) * 1000)


def run_python(base: str, workload: str, items: list[str], clients: int, seconds: float,
               seed: int) -> Result:
    """The same load from asyncio + httpx clients in this process (when wrk is not installed)."""
    async def run() -> Result:
        latencies: list[float] = []
        result = Result(0, 0.0, 0.0, 0.0)
        began = time.perf_counter()
        deadline = began + seconds
        work = []
        for number in range(clients):
            rng = random.Random(seed + number)
            position = [number * 37]

            def next_path(rng: random.Random = rng, position: list[int] = position) -> str:
                if workload == "searches":
                    return "/api/search?q=" + "+".join(rng.choice(items) for _ in range(3))
                position[0] += 7
                return items[position[0] % len(items)]
            http = httpx.AsyncClient(base_url=base, timeout=30)
            work.append(python_client(http, next_path, deadline, latencies, result))
        await asyncio.gather(*work)
        result.requests, result.seconds = len(latencies), time.perf_counter() - began
        result.p50, result.p99 = statistics.median(latencies), percentile(latencies, 0.99)
        return result
    return asyncio.run(run())


class Ingest:
    """`discovery ingest` in its own process, started `at` seconds into the product's first run."""

    def __init__(self, paths: list[Path], data: Path, at: float) -> None:
        self.command = [str(Path(sys.executable).parent / "discovery"), "ingest",
                        *[str(p) for p in paths], "--data", str(data)]
        self.at = at
        self.load = self.began = self.ended = 0.0
        self.result: subprocess.CompletedProcess[str] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.load = time.time()
        self._thread.start()

    def _run(self) -> None:
        time.sleep(self.at)
        self.began = time.time()
        self.result = subprocess.run(self.command, capture_output=True, text=True)
        self.ended = time.time()

    def report(self, failures: list[float]) -> str:
        self._thread.join()
        assert self.result is not None
        lines = " ".join(self.result.stdout.split())
        summary = lines[lines.find("Index "):] if "Index " in lines else lines[-300:]
        before = sum(1 for at in failures if at < self.began)
        during = sum(1 for at in failures if self.began <= at <= self.ended + 1)
        return (f"ingest ran from {self.began - self.load:.1f} s to {self.ended - self.load:.1f} s "
                f"of the run, exit {self.result.returncode}: {summary}\n  errors before the "
                f"ingest {before}, during it {during}, after it {len(failures) - before - during}")


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (uvicorn's workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # exited meanwhile
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    for current in process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines()
                          if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue  # exited meanwhile
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process and its descendants have used so far."""
    ticks = 0
    for current in process_tree(pid):
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """The server's RSS every `every` seconds, in a thread, while the load runs."""

    def __init__(self, pid: int, every: float = 5.0) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._began = time.perf_counter()

    def _run(self) -> None:
        while True:
            self.samples.append((time.perf_counter() - self._began, rss_mb(self.pid)))
            if self._stop.wait(self.every):
                break

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter() - self._began, rss_mb(self.pid)))

    def report(self) -> str:
        samples = self.samples
        settled = next(mb for at, mb in samples if at >= samples[-1][0] / 5)
        return (f"product server RSS: {samples[0][1]:.0f} MB at the start, {settled:.0f} MB a fifth "
                f"of the way, {samples[-1][1]:.0f} MB at the end ({samples[-1][1] / settled - 1:+.1%}),"
                f" peak {max(mb for _, mb in samples):.0f} MB, {len(samples)} samples over "
                f"{samples[-1][0]:.0f} s\n  by minute: "
                + " ".join(f"{mb:.0f}" for at, mb in samples if at // 60 > (at - self.every) // 60
                           or at == samples[0][0]) + " MB")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start_server(command: list[str], port: int, cpus: str | None) -> subprocess.Popen[bytes]:
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}: {' '.join(command)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer within 120 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _cpu_range(part: str) -> range:
    first, _, last = part.partition("-")
    return range(int(first), int(last or first) + 1)


def serve_commands(args: argparse.Namespace, data: Path, port: int) -> dict[str, list[str]]:
    setup = ["--workers", str(args.workers), "--loop", args.loop, "--http", args.http]
    product = [str(Path(sys.executable).parent / "discovery"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data", str(data), *setup,
               *([] if args.page_cache == "on" else ["--page-cache-mb", "0"])]
    floor = [sys.executable, str(Path(__file__).with_name("floor_app.py")), "--port", str(port),
             *setup]
    return {"floor": floor, "product": product} if args.floor else {"product": product}


def first_pass(base: str, mix: list[tuple[str, str]], slowest: int = 12) -> None:
    """Every distinct URL of the mix once, in turn: latency per kind of URL, and the slowest."""
    timed: list[tuple[float, str, str]] = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for path, kind in dict((path, kind) for kind, path in mix).items():
            began = time.perf_counter()
            status = http.get(path).status_code
            timed.append(((time.perf_counter() - began) * 1000, kind, path))
            if status != 200:
                print(f"first pass: {status} from {path}")
    print(f"first pass: {len(timed)} distinct URLs, one at a time, "
          f"{sum(ms for ms, *_ in timed) / 1000:.1f} s in all")
    for kind in dict.fromkeys(kind for _, kind, _ in timed):
        times = [ms for ms, k, _ in timed if k == kind]
        print(f"  {kind:14} {len(times):5} URLs  mean {statistics.mean(times):7.1f} ms  p50 "
              f"{statistics.median(times):7.1f}  p90 {percentile(times, 0.9):7.1f}  "
              f"max {max(times):7.1f} ms")
    for ms, kind, path in sorted(timed, reverse=True)[:slowest]:
        print(f"  {ms:8.1f} ms  {kind:14} {path}")


def line(result: Result) -> str:
    return (f"{result.rate:8.1f} req/s  p50 {result.p50:7.1f} ms  p99 {result.p99:7.1f} ms  "
            f"errors {len(result.failures)}  CPU {result.cpu_ms:6.2f} ms/req")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS))
    parser.add_argument("--seconds", type=float, default=60.0, help="per run")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--seed", type=int, help="fixes the page mix and the searches' words "
                        "(default: a fixed mix, new words every run, so no query vector is cached "
                        "by an earlier run)")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--loop", default="auto", help="event loop (discovery serve --loop)")
    parser.add_argument("--http", default="auto", help="HTTP parser (discovery serve --http)")
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the trivial app (the framework's floor)")
    parser.add_argument("--load", choices=["wrk", "python"],
                        default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument("--server-cpus", help="pin the servers to these CPUs (taskset list, e.g. 0-1)")
    parser.add_argument("--client-cpus", help="pin the load to these CPUs (e.g. 2-7)")
    parser.add_argument("--page-cache", choices=["on", "off"], default="on",
                        help="the product's page cache (off: --page-cache-mb 0, every answer made "
                             "afresh)")
    parser.add_argument("--first-pass", action="store_true",
                        help="time every distinct URL of the mix once, in turn, before the load")
    parser.add_argument("--ingest", type=Path, nargs="+", help="ingest these during the load")
    parser.add_argument("--ingest-at", type=float, help="seconds into the load (default: a quarter)")
    args = parser.parse_args()
    if args.load == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not installed: `apt-get install wrk` (Debian), or pass --load python")
    if args.client_cpus:
        os.sched_setaffinity(0, {cpu for part in args.client_cpus.split(",")
                                 for cpu in _cpu_range(part)})
    with tempfile.TemporaryDirectory(prefix="api-load-") as scratch:
        data = args.data
        ingest = None
        if args.ingest:
            data = Path(scratch) / "data"
            shutil.copytree(args.data, data)
            ingest = Ingest(args.ingest, data, args.seconds / 4 if args.ingest_at is None
                            else args.ingest_at)
        mix = request_mix(data, 1 if args.seed is None else args.seed)
        seed = int(time.time()) if args.seed is None else args.seed
        items = {"mix": [path for _, path in mix], "searches": VOCABULARY}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        results: dict[tuple[str, str, int], Result] = {}
        sampler = None
        for name, command in serve_commands(args, data, port).items():
            server = start_server(command, port, args.server_cpus)
            try:
                for _, path in {kind: path for kind, path in mix}.items():  # warm: models, caches
                    httpx.get(base + path, timeout=60)
                if args.first_pass and name == "product":
                    first_pass(base, mix)
                sampler = RssSampler(server.pid) if name == "product" else None
                with sampler or contextlib.nullcontext():
                    for workload in args.workloads:
                        for clients in args.clients:
                            if ingest and name == "product" and not ingest.load:
                                ingest.start()
                            used = cpu_seconds(server.pid)
                            if args.load == "wrk":
                                result = run_wrk(base, workload, items[workload], clients,
                                                 args.seconds, seed, Path(scratch))
                            else:
                                result = run_python(base, workload, items[workload], clients,
                                                    args.seconds, seed)
                            result.cpu = cpu_seconds(server.pid) - used
                            seed += 1
                            results[(name, workload, clients)] = result
                            print(f"{name:8} {workload:9} {clients:3} clients  {line(result)}",
                                  flush=True)
            finally:
                stop(server)
    pinned = f", servers on CPUs {args.server_cpus}" if args.server_cpus else ""
    print(f"\n{args.workers} server process(es), --loop {args.loop} --http {args.http}, page cache "
          f"{args.page_cache}, load from {args.load}, {args.seconds:g} s per run{pinned}")
    for workload in args.workloads:
        for clients in args.clients:
            product = results[("product", workload, clients)]
            floor = results.get(("floor", workload, clients))
            share = f"  {product.rate / floor.rate:6.1%} of the floor" if floor else ""
            print(f"{workload:9} {clients:3} clients  product {line(product)}{share}")
            if floor:
                print(f"{'':23}floor   {line(floor)}")
            for example in product.examples[:5]:
                print(f"{'':23}error: {example[:200]}")
    if sampler:
        print(sampler.report())
    if ingest:
        print(ingest.report([at for (name, *_), result in results.items() if name == "product"
                             for at in result.failures]))


if __name__ == "__main__":
    main()
