"""The README's two commands hold on a fresh machine: `make test` brings the browser the tests
drive, and the dependency audit refuses to pass packages it could not check."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def recipe(target: str) -> str:
    """What `make TARGET` would run, without running it."""
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_make_test_installs_chromium_when_it_is_missing():
    commands = recipe("test")
    assert "apt-get install" in commands and "chromium" in commands
    assert commands.index("chromium") < commands.index("pytest")


def test_make_test_type_checks_after_the_linter_and_before_the_tests():
    commands = recipe("test")
    assert commands.index("ruff check") < commands.index("bin/mypy") < commands.index("bin/pytest")


def test_the_audit_fails_on_what_it_cannot_check():
    assert "pip-audit --strict" in recipe("audit")
