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
    assert rows["vss/vascularity"]["ground_truth"]["column"] == "latent_hb_excess"
    assert rows["vss/vascularity"]["ground_truth"]["nuisances"][0]["why"]
    assert rows["jsw_keloid/shape"]["ground_truth"]["direction"] == "-"


def test_list_table(project_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "list", "--root", str(project_root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "vss/vascularity" in out


def test_list_spec_shows_every_test_of_one_item(project_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "list", "--spec", "vss/height", "--root", str(project_root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "must rise as height gets more pronounced" in out
    assert "light elevation" in out
    assert "cot(elevation)" in out


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
    assert "unknown key 'directon' at bad.yaml:13" in err
    assert "did you mean 'direction'?" in err
    assert "ok " in err  # the good file is still reported


def test_list_names_the_active_extractors_per_ground_truth(
    project_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scafe.criteria import find_item
    from scafe.library import Library
    from scafe.paths import library_dir

    active = Library.open(library_dir(project_root)).active()
    by_column: dict[str, set[str]] = {}
    for entry in active:  # the column the entry's item is tested against in the current files
        column = find_item(entry.criterion.ref, project_root)[1].ground_truth.column
        by_column.setdefault(column, set()).add(f"{entry.name}@v{entry.version}")
    assert main(["criteria", "list", "--json", "--root", str(project_root)]) == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        gt = row["ground_truth"]
        expected = by_column.get(gt["column"], set()) if gt else set()
        assert set(row["measured_by"]) == expected, row["ref"]
    # the table names the observable items nothing measures, and only those
    uncovered = sorted(r["ref"] for r in rows if r["observable_in_photo"] and not r["measured_by"])
    assert main(["criteria", "list", "--root", str(project_root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    if uncovered:
        assert "no active extractor measures: " + ", ".join(uncovered) in out
    else:
        assert "no active extractor measures" not in out


def test_list_without_a_library_still_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, project_root: Path) -> None:
    monkeypatch.setenv("SCAFE_LIBRARY", str(tmp_path / "empty_library"))
    assert main(["criteria", "list", "--json", "--root", str(project_root)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["measured_by"] == [] for r in rows)
