"""``scafe criteria list|check`` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scafe.cli import main

from .test_criteria_files import MINIMAL


def test_list_json_covers_every_item(project_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "list", "--json", "--root", str(project_root)]) == 0
    rows = {r["ref"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["vss/pliability"]["observable_in_photo"] is False
    assert rows["vss/vascularity"]["ground_truth"]["column"] == "latent_central_delta_a"
    assert rows["jsw_keloid/shape"]["ground_truth"]["direction"] == "-"


def test_list_table(project_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "list", "--root", str(project_root)]) == 0
    assert "vss/vascularity" in capsys.readouterr().out


def test_check_shipped_files_pass(project_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "check", "--root", str(project_root)]) == 0
    assert "vss.yaml" in capsys.readouterr().err


def test_check_reports_typo_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("direction:", "directon:"))
    assert main(["criteria", "check", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown key 'directon' at bad.yaml:12" in err
    assert "did you mean 'direction'?" in err
    assert "ok " in err  # the good file is still reported
