"""The README's exit-code table, walked: 0 success, 1 failure, 2 usage/configuration, 3 partial."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.cli import main


def _dataset(root: Path, n_good: int = 3) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_good):
        image = (rng.uniform(90, 200, (96, 96, 3))).astype(np.uint8)
        yy, xx = np.mgrid[:96, :96]
        mask = ((yy - 48) ** 2 + (xx - 48) ** 2 < 20**2).astype(np.uint8) * 255
        image[mask > 0] = (170, 90, 90)
        Image.fromarray(image).save(root / "images" / f"c{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"c{i}.png")
        rows.append({"id": f"c{i}", "image": f"images/c{i}.png", "mask": f"masks/c{i}.png",
                     "label": "keloid" if i % 2 else "hypertrophic"})
    rows.append({"id": "gone", "image": "images/gone.png", "mask": "masks/gone.png", "label": "keloid"})
    with (root / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "image", "mask", "label"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_success_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)


def test_usage_and_configuration_errors_are_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract"]) == 2  # a required option is missing (click)
    assert main(["no-such-command"]) == 2
    assert main(["criteria", "list", "--format", "xml"]) == 2  # our UsageError
    assert "--format 'xml' is not one of table, csv, json" in capsys.readouterr().err
    assert main(["library", "activate", "red"]) == 2
    data = _dataset(tmp_path / "d")
    monkeypatch.setenv("SCAFE_PROGRESS", "sometimes")  # a configuration error
    assert main(["data", "check", str(data)]) == 2
    assert "SCAFE_PROGRESS='sometimes'" in capsys.readouterr().err


def test_failures_are_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dataset(tmp_path / "d")
    assert main(["data", "check", str(data), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in report["bad_rows"]} == {"gone"}  # image and mask both missing: two reasons
    assert main(["library", "show", "no_such_extractor"]) == 1
    assert main(["extract", "--data", str(data), "--out", str(tmp_path / "f.csv")]) == 1  # bad rows, no --skip-bad
    assert "--skip-bad" in capsys.readouterr().err


def test_partial_is_3_and_the_skipped_rows_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _dataset(tmp_path / "d")
    out = tmp_path / "f.csv"
    assert main(["extract", "--data", str(data), "--out", str(out), "--skip-bad"]) == 3
    skipped = out.with_name("f.skipped.csv")
    assert "1 bad row(s) skipped" in capsys.readouterr().err
    with skipped.open() as fh:
        assert {r["id"] for r in csv.DictReader(fh)} == {"gone"}
    assert main(["similar", "--data", str(data), "--id", "c0", "-k", "1", "--skip-bad", "--format", "json"]) == 3
    result = json.loads(capsys.readouterr().out)
    assert [c["role"] for c in result["cases"]] == ["query", "neighbour"]
    assert (data / "skipped_rows.csv").is_file()
