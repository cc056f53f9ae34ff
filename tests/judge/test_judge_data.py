"""``scafe judge --data MANIFEST``: every mask judged, a table and a summary report (issue 13 section 6)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from scafe.cli import main


def _dataset(root: Path) -> Path:
    yy, xx = np.mgrid[:96, :96]
    truth = ((yy - 48) / 10) ** 2 + ((xx - 48) / 28) ** 2 <= 1
    image = np.full((96, 96, 3), (205, 165, 145), np.uint8)
    image[truth] = (185, 110, 110)
    Image.fromarray(image).save(root / "img.png")
    Image.fromarray(truth.astype(np.uint8) * 255).save(root / "good.png")
    Image.fromarray(np.zeros((96, 96), np.uint8)).save(root / "empty.png")
    rows = [("good", "img.png", "good.png"), ("=cmd", "img.png", "empty.png"), ("missing", "nope.png", "good.png")]
    with (root / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "mask", "label"])
        writer.writerows([(*r, "keloid") for r in rows])
    return root / "manifest.csv"


def test_judge_data_writes_table_summary_and_gallery(tmp_path: Path, capsys) -> None:
    manifest = _dataset(tmp_path)
    out = tmp_path / "out"
    # one unreadable row: the readable rows are judged and written, and the exit code says it (1; 3 with --skip-bad)
    assert main(["judge", "--data", str(manifest), "--out", str(out), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 3
    assert summary["verdicts"]["error"] == 1
    assert summary["verdicts"]["unacceptable"] >= 1
    assert summary["failure_modes"].get("under_segmentation") == 1  # the empty mask
    assert summary["worst"][0]["id"] == "=cmd"
    rows = list(csv.DictReader((out / "judgements.csv").open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["good", "'=cmd", "missing"]
    assert rows[1]["hard_failure"] == "empty_mask"
    assert rows[2]["verdict"] == "error"
    assert "nope.png" in rows[2]["error"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Worst cases" in page
    assert "data:image/png;base64," in page


def test_judge_needs_either_data_or_image_and_mask(tmp_path: Path, capsys) -> None:
    assert main(["judge"]) == 2
    manifest = _dataset(tmp_path)
    assert main(["judge", "--data", str(manifest), "--image", str(tmp_path / "img.png")]) == 2
