"""Every benchmark script still imports, does its work only when run, and takes the options
`make bench` gives it: a script that rots (an import that moved, a renamed option) fails here,
not months later in `make bench`."""

from __future__ import annotations

import ast
import importlib.util
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))
# Top-level statements that do no work when the file is imported.
DECLARATIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                ast.Assign, ast.AnnAssign)
# Calls that set up the imports below them (thread counts, the test helpers' path): not work.
SETTINGS = ("os.environ.setdefault", "sys.path.insert")


def load(path: Path) -> ModuleType:
    name = f"bench_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 8


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_imports_and_has_a_main(path: Path):
    module = load(path)
    assert callable(getattr(module, "main", None)), f"{path.name} has no main()"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_works_only_under_its_main_guard(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    loose = []
    for node in body:
        if is_main_guard(node) or isinstance(node, DECLARATIONS):
            continue
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) in SETTINGS):
            continue
        loose.append(f"line {node.lineno}: {ast.unparse(node)[:60]}")
    assert not loose, f"{path.name} does work when imported: {loose}"
    assert any(is_main_guard(node) for node in body), f"{path.name} has no __main__ guard"


def make_bench_commands() -> list[list[str]]:
    recipe = subprocess.run(["make", "-n", "bench"], cwd=ROOT, capture_output=True, text=True,
                            check=True, timeout=60).stdout
    return [shlex.split(line)[1:] for line in recipe.splitlines() if " bench/" in line]


def test_make_bench_runs_scripts_that_exist():
    commands = make_bench_commands()
    assert commands
    for command in commands:
        assert (ROOT / command[0]).is_file(), command


@pytest.mark.parametrize("command", make_bench_commands(), ids=lambda c: c[0])
def test_make_bench_options_are_accepted(command: list[str]):
    """Each script parses the very options `make bench` passes (argparse exits 2 on one it does
    not know); `--help` after them stops before any work."""
    result = subprocess.run([sys.executable, *command, "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
