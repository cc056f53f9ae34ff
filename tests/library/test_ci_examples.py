"""The shipped pre-commit hooks and example workflow parse and call commands that exist."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from scafe.cli import main


def _commands(project_root: Path) -> list[list[str]]:
    hooks = yaml.safe_load((project_root / ".pre-commit-hooks.yaml").read_text())
    workflow = yaml.safe_load((project_root / "examples" / "github-workflow-library-verify.yml").read_text())
    commands = [shlex.split(hook["entry"]) for hook in hooks]
    for step in workflow["jobs"]["verify"]["steps"]:
        if step.get("run", "").startswith("scafe "):
            commands.append(shlex.split(step["run"].split(">")[0]))
    return commands


def test_hooks_declare_the_required_fields(project_root: Path) -> None:
    hooks = yaml.safe_load((project_root / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"scafe-criteria-check", "scafe-library-verify"}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook)
    sample = yaml.safe_load((project_root / "examples" / "pre-commit-config.yaml").read_text())
    used = {h["id"] for repo in sample["repos"] for h in repo["hooks"]}
    assert used <= {h["id"] for h in hooks}


def test_every_example_command_exists(project_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commands = _commands(project_root)
    assert ["scafe", "library", "verify"] in commands
    for command in commands:
        assert command[0] == "scafe"
        assert main([*command[1:], "--help"]) == 0, command
    capsys.readouterr()
