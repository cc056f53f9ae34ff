"""``scafe library ...`` through the CLI runner (exit codes, output, error messages)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scafe.cli import main
from scafe.library import Library

from .conftest import extractor_source


@pytest.fixture
def root(tmp_path: Path, project_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root with a copy of the criteria and an empty library; SCAFE_ROOT points at it."""
    shutil.copytree(project_root / "prompts" / "criteria", tmp_path / "prompts" / "criteria",
                    ignore=shutil.ignore_patterns("segmentation"))
    (tmp_path / "feature_library").mkdir()
    monkeypatch.setenv("SCAFE_ROOT", str(tmp_path))
    monkeypatch.delenv("SCAFE_LIBRARY", raising=False)
    return tmp_path


@pytest.fixture
def lib(root: Path) -> Library:
    library = Library.open(root / "feature_library")
    library.register(extractor_source("red_k", 1.0), name="red", criterion="vss/vascularity",
                     origin="reference", outputs=["red_k"])
    library.register(extractor_source("red_k", 2.0), name="red", criterion="vss/vascularity",
                     origin="reference", outputs=["red_k"])
    library.register(extractor_source("gloss_k"), name="gloss", criterion="manchester/surface",
                     origin="generated", outputs=["gloss_k"], generator={"model": "test"})
    return library


def test_list_json(lib: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["library", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version_id"] == lib.version_id
    assert [(e["name"], e["version"], e["status"]) for e in data["entries"]] == [
        ("gloss", 1, "active"), ("red", 1, "deprecated"), ("red", 2, "active")]
    assert main(["library", "list", "--json", "--active"]) == 0
    assert len(json.loads(capsys.readouterr().out)["entries"]) == 2


def test_list_table(lib: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["library", "list"]) == 0
    out = capsys.readouterr().out
    assert "red@v2" in out
    assert "manchester/surface" in out


def test_show_and_diff(lib: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["library", "show", "red@v1"]) == 0
    out = capsys.readouterr().out
    assert '"version": 1' in out
    assert "float(1.0)" in out
    assert main(["library", "diff", "red", "v1", "v2"]) == 0
    out = capsys.readouterr().out
    assert "-    return {'red_k': float(1.0)}" in out
    assert "status: \"deprecated\" -> \"active\"" in out
    assert main(["library", "diff", "red", "v1", "x2"]) == 2
    assert "must look like v1" in capsys.readouterr().err


def test_deprecate_and_activate(lib: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["library", "activate", "red@v1"]) == 0
    assert [e.label for e in lib.reload().active()] == ["gloss@v1", "red@v1"]
    assert main(["library", "deprecate", "gloss"]) == 0
    assert [e.label for e in lib.reload().active()] == ["red@v1"]
    assert main(["library", "activate", "red"]) == 2
    assert "say which version" in capsys.readouterr().err
    assert main(["library", "show", "rde"]) == 1
    assert "did you mean 'red'" in " ".join(capsys.readouterr().err.split())


def test_status_shows_stale_and_modified(lib: Library, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manchester = root / "prompts" / "criteria" / "manchester.yaml"
    manchester.write_text(manchester.read_text().replace("shiny.", "shiny or glossy."))
    red = lib.get("red")
    lib.file_path(red).write_text(lib.source(red) + "# edited\n")
    assert main(["library", "status", "--json"]) == 0
    rows = {r["label"]: r["state"] for r in json.loads(capsys.readouterr().out)}
    assert rows == {"gloss@v1": "stale", "red@v1": "deprecated", "red@v2": "modified"}


def test_verify_names_each_failing_entry(lib: Library, capsys: pytest.CaptureFixture[str]) -> None:
    for entry in lib.active():
        path = lib.file_path(entry)
        path.write_bytes(path.read_bytes().replace(b"extract", b"extracT", 1))
    assert main(["library", "verify"]) == 1
    captured = capsys.readouterr()
    assert "2 of 3 entries failed: gloss@v1, red@v2" in " ".join(captured.err.split())
    assert "FAIL gloss@v1" in captured.out
    assert main(["library", "verify", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    # the deprecated red@v1 is hash-checked too (issue 12 item 4)
    assert [(r["label"], r["sha_ok"]) for r in data["results"]] == [("gloss@v1", False), ("red@v1", True),
                                                                    ("red@v2", False)]


def test_verify_empty_library_passes(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["library", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []


def test_add_refuses_unobservable_and_bad_criterion(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "soft.py"
    source.write_text(extractor_source("soft_k"))
    assert main(["library", "add", str(source), "--criterion", "vss/pliability"]) == 1
    assert "not observable in a photograph" in capsys.readouterr().err
    assert main(["library", "add", str(source), "--criterion", "vss/vascularty"]) == 1
    assert "did you mean 'vascularity'" in capsys.readouterr().err
    assert Library.open(root / "feature_library").entries() == []


def test_verify_on_another_phantom_set(lib: Library, capsys: pytest.CaptureFixture[str]) -> None:
    # the constant extractors fail their criterion tests; the message counts the phantoms used,
    # which shows the requested set (not the 96-phantom validation set) was rendered and used
    args = ["library", "verify", "--json", "--phantom-seed", "3", "--phantoms", "16", "--phantom-size", "64"]
    assert main(args) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["phantom_set"] == {"n": 16, "seed": 3, "size": 64}
    failures = [f for r in data["results"] for f in r["failures"]]
    assert failures
    assert all("16 validation phantoms" in f for f in failures), failures
    assert main(["library", "verify", "--json", "--no-criterion-tests"]) == 0
    assert json.loads(capsys.readouterr().out)["phantom_set"] is None
