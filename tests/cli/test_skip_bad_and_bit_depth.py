"""``--skip-bad`` on train and judge --data; 16-bit images of 12-bit sensors are never silently darkened;
extraction progress lines off a terminal (issue 13 sections 2 and 4)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from scafe.cli import main
from scafe.data.dataset import inspect_dataset, load_dataset
from scafe.data.images import decode_image, read_image
from tests.cli.conftest import write_dataset


def _labels(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "image", "mask", "label"])
        writer.writerows([(i, f"images/{i}.png", f"masks/{i}.png", label) for i, label in rows])
    return path


def test_train_refuses_rows_without_a_usable_label(tiny: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(f"c{i}", "keloid" if i % 2 == 0 else "hypertrophic") for i in range(8)]
    rows[1] = ("c1", "scar")  # unknown label
    rows[2] = ("c2", "")  # empty label
    rows = [r for r in rows if r[0] != "c3"] + [("c4", "hypertrophic")]  # c3 missing, c4 listed twice, differently
    labels = _labels(tmp_path / "labels.csv", rows)
    out = tmp_path / "model"
    assert main(["train", "--features", str(tiny["features"]), "--labels", str(labels), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "4 feature row(s)" in err
    assert "--skip-bad" in err
    assert not out.exists()
    assert main(["train", "--features", str(tiny["features"]), "--labels", str(labels), "--out", str(out),
                 "--skip-bad"]) == 3
    captured = capsys.readouterr()
    assert "trained on 2 keloid + 2 hypertrophic cases" in captured.out
    with (out / "skipped_rows.csv").open() as fh:
        skipped = {r["id"]: r["reason"] for r in csv.DictReader(fh)}
    assert set(skipped) == {"c1", "c2", "c3", "c4"}
    assert "unknown label 'scar'" in skipped["c1"]
    assert "different labels" in skipped["c4"]
    assert (out / "model.json").is_file()


def test_judge_data_skip_bad_writes_the_rows_and_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_dataset(tmp_path / "d", n=2, extra=[{"id": "gone", "image": "images/gone.png",
                                                       "mask": "masks/gone.png", "label": "keloid"}])
    out = tmp_path / "judged"
    assert main(["judge", "--data", str(data), "--out", str(out), "--json", "--skip-bad"]) == 3
    with (out / "skipped_rows.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["row"], r["id"]) for r in rows] == [("3", "gone")]
    assert "gone.png" in rows[0]["reason"]
    assert main(["judge", "--data", str(write_dataset(tmp_path / "clean", n=2)), "--out", str(tmp_path / "j2"),
                 "--skip-bad", "--json"]) == 0


def _sensor_tiff(path: Path, bits: int = 12, seed: int = 0) -> np.ndarray:
    """A 16-bit RGB TIFF holding ``bits``-bit data (maximum near 2**bits - 1); returns the expected 8-bit image."""
    rng = np.random.default_rng(seed)
    full = 2**bits - 1
    data = rng.integers(full // 3, full + 1, size=(24, 20, 3)).astype(np.uint16)
    data[0, 0] = full  # the sensor's maximum is reached somewhere
    tifffile.imwrite(path, data, photometric="rgb")
    return np.round(data * (255.0 / full)).astype(np.uint8)


def test_12_bit_tiff_is_scaled_from_12_bits_not_darkened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCAFE_BIT_DEPTH", raising=False)
    expected = _sensor_tiff(tmp_path / "s.tif")
    image, info = decode_image(tmp_path / "s.tif")
    assert np.array_equal(image, expected)
    assert image.max() == 255  # read as 16-bit it would top out at 16
    assert (info.bit_depth, info.inferred, info.maximum) == (12, True, 4095)
    assert "read as 12-bit data (inferred)" in info.note
    assert "--bit-depth 16" in info.note
    monkeypatch.setenv("SCAFE_BIT_DEPTH", "16")  # the user says it is full-range 16-bit: the old, dark reading
    dark = read_image(tmp_path / "s.tif")
    assert dark.max() == 16
    monkeypatch.setenv("SCAFE_BIT_DEPTH", "10")  # values above the stated depth: an error, never clipped
    with pytest.raises(Exception, match="above the 10-bit range 0..1023.*--bit-depth 12"):
        read_image(tmp_path / "s.tif")


def test_full_range_16_bit_tiff_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCAFE_BIT_DEPTH", raising=False)
    base = np.random.default_rng(1).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "f.tif", base.astype(np.uint16) * 257, photometric="rgb")
    image, info = decode_image(tmp_path / "f.tif")
    assert np.array_equal(image, base)
    assert info.bit_depth == 16
    assert info.note is None


def test_max_sample_value_tag_and_16_bit_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    monkeypatch.delenv("SCAFE_BIT_DEPTH", raising=False)
    data = np.full((8, 8, 3), 1000, np.uint16)  # a dark 14-bit image: the tag, not the maximum, decides
    tifffile.imwrite(tmp_path / "t.tif", data, photometric="rgb", extratags=[(281, "H", 1, 16383, False)])
    image, info = decode_image(tmp_path / "t.tif")
    assert info.bit_depth == 14
    assert image.max() == round(1000 * 255 / 16383)
    expected = _sensor_tiff(tmp_path / "unused.tif", seed=2)
    source = np.round(expected.astype(float) * 4095 / 255).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "s.png"), source[..., ::-1])  # a 16-bit RGB PNG (Pillow would keep the high byte)
    image, info = decode_image(tmp_path / "s.png")
    assert info.bit_depth == 12
    assert np.abs(image.astype(int) - expected).max() <= 1


def test_data_check_warns_and_commands_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCAFE_BIT_DEPTH", raising=False)
    data = write_dataset(tmp_path / "d", n=4, extra=[{"id": "s12", "image": "images/s12.tif", "mask": "masks/c0.png",
                                                       "label": "keloid"}])
    _sensor_tiff(data / "images" / "s12.tif")
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(data / "masks" / "small.png")
    mask = np.zeros((24, 20), np.uint8)
    mask[6:18, 5:15] = 255
    Image.fromarray(mask).save(data / "masks" / "s12.png")
    rows = list(csv.DictReader((data / "manifest.csv").open()))
    rows[-1]["mask"] = "masks/s12.png"
    with (data / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bad, notes = inspect_dataset(data)
    assert bad == []
    assert [(n.row, n.id) for n in notes] == [(5, "s12")]
    assert main(["data", "check", str(data)]) == 0  # a warning, not a bad row
    out = capsys.readouterr().out
    assert "warning: row 5 (id s12): images/s12.tif: 16-bit image with maximum 4095" in out
    assert "no bad rows, 1 warning(s)." in out
    assert main(["data", "check", str(data), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"][0]["id"] == "s12"
    assert main(["data", "check", str(data), "--bit-depth", "16"]) == 0  # stated: full range, no warning
    assert "warning" not in capsys.readouterr().out
    assert main(["data", "check", str(data), "--bit-depth", "17"]) == 2
    assert "--bit-depth" in capsys.readouterr().err
    assert load_dataset(data).notes[0].id == "s12"
    assert main(["similar", "--data", str(data), "--id", "s12", "-k", "1", "--format", "json"]) == 0
    assert "1 image(s) with 16-bit data read as fewer bits" in capsys.readouterr().err


def test_explicit_bit_depth_is_part_of_the_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scafe.extraction.cache import file_pair_key

    _sensor_tiff(tmp_path / "s.tif")
    Image.fromarray(np.full((24, 20), 255, np.uint8)).save(tmp_path / "m.png")
    monkeypatch.delenv("SCAFE_BIT_DEPTH", raising=False)
    auto = file_pair_key(tmp_path / "s.tif", tmp_path / "m.png")
    monkeypatch.setenv("SCAFE_BIT_DEPTH", "auto")
    assert file_pair_key(tmp_path / "s.tif", tmp_path / "m.png") == auto
    monkeypatch.setenv("SCAFE_BIT_DEPTH", "16")
    assert file_pair_key(tmp_path / "s.tif", tmp_path / "m.png") != auto


def test_extraction_progress_lines_off_a_terminal(tiny: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from scafe.extraction import extract

    monkeypatch.setenv("SCAFE_PROGRESS", "lines:0")
    capsys.readouterr()
    table = extract(tiny["data"], progress=True)
    err = capsys.readouterr().err.splitlines()
    assert len(table.frame) == 8
    progress = [line for line in err if line.startswith("extracting (")]
    assert progress[0].endswith(": 0/8")
    assert progress[-1].startswith("extracting (")
    assert ": 8/8, done in" in progress[-1]
    monkeypatch.setenv("SCAFE_PROGRESS", "off")
    extract(tiny["data"], progress=True)
    assert "extracting" not in capsys.readouterr().err


def test_work_items_carry_the_bit_depth_to_remote_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Dask worker elsewhere has its own environment: the host's setting travels with the item."""
    from scafe.extraction.engine import WorkItem

    expected12 = _sensor_tiff(tmp_path / "s.tif")
    Image.fromarray(np.full((24, 20), 255, np.uint8)).save(tmp_path / "m.png")
    monkeypatch.setenv("SCAFE_BIT_DEPTH", "16")
    item = WorkItem("s", str(tmp_path / "s.tif"), str(tmp_path / "m.png")).for_transport()
    assert item.bit_depth == 16
    monkeypatch.setenv("SCAFE_BIT_DEPTH", "auto")  # the worker's own setting
    assert item.load()[0].max() == 16  # decoded as the host said, not as 12-bit
    assert np.array_equal(WorkItem("s", str(tmp_path / "s.tif"), str(tmp_path / "m.png")).load()[0], expected12)
