"""The layout: packages depend on each other bottom to top only, no import runs upward, and the torch-free shared
package stays torch-free. Read from the source (function-level imports included), not from what happens to load."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bottom to top: a package may import only packages to its left (studies and tests may import anything)
ORDER = ["tasks", "dataset_scripts", "tokenizer", "modeling", "assistant", "finetune", "hub", "space", "genomicllm"]
SAME_LEVEL = {"dataset_scripts": {"tokenizer"}, "tokenizer": {"dataset_scripts"}}  # siblings: neither imports the other


def project_imports(path: Path, packages: set[str]) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
    return names & packages


def test_the_package_list_is_the_one_pyproject_installs():
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in include} == set(ORDER) | {"studies"}


def test_no_import_runs_upward():
    upward = []
    for pkg in ORDER:
        allowed = set(ORDER[: ORDER.index(pkg) + 1]) - SAME_LEVEL.get(pkg, set())
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for dep in project_imports(path, set(ORDER) | {"studies"}) - allowed:
                upward.append(f"{path.relative_to(ROOT)} imports {dep}")
    assert not upward, "\n".join(upward)


def test_shared_package_and_inference_stay_light():
    """`tasks` loads without torch; `modeling.inference` without any dataset, training or Space code."""
    code = ("import sys, tasks, tasks.benchmarks, tasks.metrics, tasks.router; assert 'torch' not in sys.modules, 'torch'; "
            "import modeling.inference; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dataset_scripts', 'finetune', 'hub', 'space', 'pyfaidx', 'pyliftover', 'datasets')); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
