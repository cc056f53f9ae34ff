"""Every listing command has machine-readable output, and it parses (issue 13 section 2).

The CLI tree is walked: each command is either a *listing* (its main output is a table or a
list; it must take ``--format table|csv|json``, or at least ``--json``) with a cheap invocation
here, or declared not to be one, with the reason. A new command therefore fails
``test_every_command_is_classified`` until someone decides which it is.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer.main

from scafe.cli import app, main

EXTRACTOR = '''"""Mean redness (R - G, float) inside the lesion. Empty mask: NaN."""
import numpy as np


def extract(image, mask):
    if not mask.any():
        return {"redness": float("nan")}
    rgb = image.astype(np.float64)
    return {"redness": float((rgb[..., 0] - rgb[..., 1])[mask].mean())}
'''

#: listing commands -> arguments of a cheap run (``{data}``, ``{features}``, ``{model}``, ``{file}`` filled in)
LISTING: dict[str, list[str]] = {
    "criteria list": [],
    "library list": [],
    "library status": [],
    "library show": ["vss_vascularity"],
    "library verify": ["vss_vascularity", "--no-criterion-tests"],
    "sandbox check": ["{file}"],
    "sandbox info": [],
    "data check": ["{data}"],
    "predict": ["--model", "{model}", "--features", "{features}", "--explain"],
    "similar": ["--features", "{features}", "--id", "c0", "-k", "2"],
    "generate": [],  # needs an LLM: test_generate_summary_formats (fake server)
    "evaluate": [],  # learning curves: test_evaluate_summary_formats
    "demo": [],  # minutes: same summary code as evaluate (print_summary)
    "judge": [],  # --json only, owned by helper judge (tests/judge)
}
SEPARATE = {"generate", "evaluate", "demo", "judge"}
JSON_ONLY = {"judge"}

#: commands whose output is not a listing, and why
NOT_LISTING = {
    "": "the command group",
    "library": "group", "data": "group", "sandbox": "group", "criteria": "group",
    "phantoms": "writes a dataset; one summary line",
    "extract": "writes a feature table (CSV) and says where",
    "train": "writes a model; one summary line",
    "judge-bench": "writes metrics.json and report.html (owned by helper judge)",
    "studio": "serves a web page",
    "data sheet": "writes a PNG",
    "criteria check": "problems with file:line (owned by helper valid); exit code is the result",
    "criteria render": "prints the prompt text itself",
    "library diff": "a unified diff",
    "library add": "one line: the registered entry",
    "library refresh": "one line",
    "library deprecate": "one line",
    "library activate": "one line",
}


def _walk(command, path: tuple[str, ...] = ()):
    yield " ".join(path), command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(typer.main.get_command(app)))


def _options(command) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def test_every_command_is_classified() -> None:
    unknown = set(COMMANDS) - set(LISTING) - set(NOT_LISTING)
    assert not unknown, f"classify these commands in LISTING or NOT_LISTING: {sorted(unknown)}"
    assert not set(LISTING) & set(NOT_LISTING)
    assert set(LISTING) <= set(COMMANDS), set(LISTING) - set(COMMANDS)


@pytest.mark.parametrize("name", sorted(LISTING))
def test_listing_commands_take_format(name: str) -> None:
    options = _options(COMMANDS[name])
    if name in JSON_ONLY:
        assert "--json" in options
        return
    assert "--format" in options, f"'scafe {name}' has no --format"


def _args(name: str, tiny: dict[str, Path], tmp_path: Path) -> list[str]:
    file = tmp_path / "redness.py"
    file.write_text(EXTRACTOR)
    values = {"data": tiny["data"], "features": tiny["features"], "model": tiny["model"], "file": file}
    return [*name.split(), *(arg.format(**values) for arg in LISTING[name])]


def parse(fmt: str, out: str) -> object:
    """The parsed stdout of a ``--format csv|json`` run (fails when it does not parse as such)."""
    if fmt == "json":
        return json.loads(out)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows, out  # a header at least (a clean dataset has no bad row to list)
    assert all(len(row) == len(rows[0]) for row in rows), out
    assert all(rows[0]), rows[0]
    return rows


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
@pytest.mark.parametrize("name", sorted(set(LISTING) - SEPARATE))
def test_machine_readable_output_parses(name: str, fmt: str, tiny: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    capsys.readouterr()
    code = main([*_args(name, tiny, tmp_path), "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0, out
    if fmt == "table":  # off a terminal: the first text field of every JSON row is in the table, uncut
        assert main([*_args(name, tiny, tmp_path), "--format", "json"]) == 0
        for row in _rows(json.loads(capsys.readouterr().out)):
            first = next((v for v in row.values() if isinstance(v, str) and v), None)
            assert first is None or first in out, (first, out)
        return
    parse(fmt, out)


def _rows(payload: object) -> list[dict]:
    """The list of row objects in a command's JSON (the payload itself, or its first list of objects)."""
    if isinstance(payload, list):
        return [r for r in payload if isinstance(r, dict)]
    if isinstance(payload, dict):
        for value in payload.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return value
        return [payload] if "label" in payload else []
    return []


def test_json_flag_is_format_json(tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in sorted(set(LISTING) - SEPARATE):
        capsys.readouterr()
        assert main([*_args(name, tiny, tmp_path), "--json"]) == 0, name
        json.loads(capsys.readouterr().out)
    assert main(["sandbox", "info", "--json", "--format", "csv"]) == 2  # contradicting flags: usage error


def test_library_show_keeps_every_code_line_in_a_narrow_pipe() -> None:
    import os
    import subprocess
    import sys

    from scafe.library import Library

    lib = Library.open()
    entry = lib.get("vss_vascularity", None)
    source = lib.source(entry).splitlines()
    assert max(len(line) for line in source) > 80  # the test needs lines longer than the pipe's width
    env = {**os.environ, "COLUMNS": "40"}
    out = subprocess.run([sys.executable, "-m", "scafe", "library", "show", "vss_vascularity"], capture_output=True,
                         text=True, env=env, timeout=300, check=True).stdout
    lines = out.splitlines()
    width = len(str(len(source)))
    for k, line in enumerate(source, start=1):
        assert f"{k:>{width}} {line}".rstrip() in lines, line


def test_generate_summary_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.agents.scripted import Router, plan_json
    from tests.support.fake_llm import FakeLLMServer

    for fmt in ("json", "csv"):
        router = Router(plans={"vascularity": plan_json(("redness_contrast", "redness_delta_a"))},
                        writes={"redness_contrast": "no code here"})
        with FakeLLMServer(router) as server:
            code = main(["generate", "--criteria", "vss", "--items", "vascularity", "--library", str(tmp_path / "lib"),
                         "--runs-dir", str(tmp_path / "runs"), "--base-url", server.url, "--model", "fake-model",
                         "--attempts", "1", "--run-id", f"run-{fmt}", "--format", fmt])
        out = capsys.readouterr().out
        assert code == 3  # the item failed: partial
        parsed = parse(fmt, out)
        if fmt == "json":
            assert parsed["run_id"] == "run-json"
            assert parsed["missing_items"] == ["vascularity"]
            assert [r["outcome"] for r in parsed["rows"]] == ["rejected"]
        else:
            header, *rows = parsed
            assert {"item", "spec", "outcome"} <= set(header)
            assert rows[0][header.index("spec")] == "redness_contrast"  # never cut


def test_judge_json_parses(tmp_path: Path, tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data = tiny["data"]
    capsys.readouterr()
    assert main(["judge", "--image", str(data / "images/c0.png"), "--mask", str(data / "masks/c0.png"), "--json"]) == 0
    assert "verdict" in json.loads(capsys.readouterr().out)


def test_evaluate_summary_formats(tiny: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """demo and evaluate print the same summary (cmd_demo.print_summary); evaluate is the cheap one."""
    for fmt in ("json", "csv"):
        capsys.readouterr()
        code = main(["evaluate", "--data", str(tiny["data"]), "--cv", "--folds", "2", "--sizes", "4", "--repeats", "1",
                     "--methods", "library+xgboost", "--out", str(tmp_path / fmt), "--format", fmt])
        out = capsys.readouterr().out
        assert code == 0
        parsed = parse(fmt, out)
        if fmt == "json":
            assert [(r["method"], r["n_train"]) for r in parsed["results"]] == [("library+xgboost", 4)]
            assert parsed["goals"]
        else:
            assert parsed[0][:3] == ["method", "n_train", "balanced_accuracy"]
            assert parsed[1][0] == "library+xgboost"
