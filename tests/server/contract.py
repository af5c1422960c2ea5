"""Schemathesis, driven by our own OpenAPI document, against a running server: what the short run
in `make test` (tests/server/test_contract.py) and the long one (bench/contract.py) share.

Every default check runs: no server error, status codes, content types, headers and bodies as
documented, schema-valid requests accepted and schema-violating ones refused, 405 with `Allow` for
undeclared methods, `Allow` on OPTIONS as documented. One setting departs from the defaults: a
schema-valid request may be answered 400, which the document reserves for what a schema cannot
say (a cursor this server did not issue for this query, a range whose minimum is above its
maximum, more than 400 items across instruments). Every other refusal of a schema-valid request
(a 422) is a failure, as is a 400 from any other cause: the status is part of the contract.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


@dataclass(frozen=True)
class Ids:
    """Real ids for the path parameters, so requests reach records instead of 404s."""

    item: str  # a study or dataset with variables
    project: str
    variable: str


@dataclass
class ContractRun:
    generated: int  # test cases, each one request (more where a check replays one)
    unique_failures: int
    failures: list[dict[str, Any]]  # grouped by operation
    errors: list[Any]
    seconds: float
    output: str


def config(ids: Ids, max_examples: int, seed: int) -> str:
    """schemathesis.toml for one run."""
    operations = [("^/api/items/", ids.item), ("^/api/(projects|records)/", ids.project),
                  ("^/api/variables/", ids.variable)]
    lines = [f"seed = {seed}", "[generation]", f"max-examples = {max_examples}", 'database = "none"',
             "[phases]", "stateful.enabled = false",
             "[checks.positive_data_acceptance]", f"expected-statuses = {json.dumps(ACCEPTED)}"]
    for path, key in operations:
        lines += ["[[operations]]", f"include-path-regex = {json.dumps(path)}",
                  f'parameters = {{ "path.key" = {json.dumps(key)} }}']
    return "\n".join(lines) + "\n"


def run_contract(url: str, workdir: Path, ids: Ids, *, max_examples: int, seed: int,
                 timeout: float) -> ContractRun:
    """`st run` against `url`'s /openapi.json; its JSON report read back."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = workdir / "schemathesis.toml"
    settings.write_text(config(ids, max_examples, seed), encoding="utf-8")
    reports = workdir / "reports"
    command = [str(Path(sys.executable).with_name("st")), "--config-file", str(settings), "run",
               f"{url}/openapi.json", "--request-timeout", "60", "--no-color",
               "--report", "json", "--report-dir", str(reports)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=workdir,
                          check=False)
    [report] = [json.loads(path.read_text(encoding="utf-8")) for path in reports.glob("*.json")]
    cases = report["test_cases"]
    return ContractRun(generated=cases["generated"], unique_failures=cases["unique_failures"],
                       failures=report["failures"], errors=report["errors"],
                       seconds=report["running_time"], output=done.stdout + done.stderr)
