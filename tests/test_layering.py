"""The layering of DESIGN.md holds: sandbox imports nothing of ours; the core never loads the LLM stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_top_levels(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_sandbox_imports_nothing_of_ours():
    for path, names in _imported_top_levels("sandbox").items():
        assert not names & {"scafe", "agents"}, f"{path} imports {names & {'scafe', 'agents'}}"


def test_core_does_not_import_agents():
    for path, names in _imported_top_levels("scafe").items():
        if path.startswith("scafe/cli/"):
            continue  # the CLI is the face: it wires agents in, inside command bodies
        assert "agents" not in names, f"{path} imports agents (the core must work without the LLM stack)"


@pytest.mark.parametrize("module", ["scafe.cli", "scafe.paths", "scafe.errors"])
def test_cli_startup_does_not_load_llm_stack(module):
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in ('openai', 'langgraph', 'agents', 'xgboost', 'torch') if m in sys.modules); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"importing {module} loads {out.stdout.strip()}"
