"""``scafe sandbox check`` / ``info``: JSON shape and exit codes as specified in issue 3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scafe.cli import main
from tests.sandbox.benign_programs import BENIGN


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "redness.py"
    path.write_text(BENIGN["redness_float"])
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


def test_check_ok_prints_features(good_file: Path, capsys) -> None:
    code, data = _run(["sandbox", "check", str(good_file), "--json"], capsys)
    assert code == 0
    assert data["status"] == "ok"
    assert set(data["features"]) == {"red_minus_green"}
    assert data["keys"] == ["red_minus_green"]


def test_check_with_image_and_mask(good_file: Path, tmp_path: Path, capsys) -> None:
    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[..., 0], rgb[..., 1] = 200, 50
    mask = np.zeros((40, 50), np.uint8)
    mask[10:20, 10:30] = 255
    Image.fromarray(rgb).save(tmp_path / "img.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    code, data = _run(["sandbox", "check", str(good_file), "--image", str(tmp_path / "img.png"),
                       "--mask", str(tmp_path / "mask.png"), "--json"], capsys)
    assert code == 0
    assert data["features"] == {"red_minus_green": 150.0}


def test_check_rejected_gives_status_error_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""Bad."""\nimport numpy as np\nimport os\n\ndef extract(image, mask):\n    return {"a": 1.0}\n')
    code, data = _run(["sandbox", "check", str(bad), "--json"], capsys)
    assert code == 1
    assert data["status"] == "rejected"
    assert data["line"] == 3
    assert "os" in data["error"]


def test_check_failed_battery_exit_1(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "wrap.py"
    bad.write_text('"""Wraps. Empty mask: NaN."""\nimport numpy as np\n\ndef extract(image, mask):\n'
                   '    if not mask.any():\n        return {"rg": float("nan")}\n'
                   '    return {"rg": float((image[..., 0] - image[..., 1])[mask].mean())}\n')
    code, data = _run(["sandbox", "check", str(bad), "--json"], capsys)
    assert code == 1
    assert data["status"] == "failed"
    assert "uint8_wraparound" in data["error"]


def test_usage_errors_exit_2(good_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["sandbox", "check", str(tmp_path / "missing.py")]) == 2
    assert main(["sandbox", "check", str(good_file), "--image", str(good_file)]) == 2


def test_info_lists_every_layer(capsys) -> None:
    code, data = _run(["sandbox", "info", "--json"], capsys)
    assert code == 0
    assert {"seccomp", "landlock", "rlimits", "empty_env", "network_namespace"} <= set(data["layers"])
    assert all(isinstance(layer["active"], bool) and layer["detail"] for layer in data["layers"].values())


def test_required_layers_from_the_environment(good_file: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFE_SANDBOX_REQUIRE_LAYERS", "rlimits,empty_env")
    code, data = _run(["sandbox", "info", "--json"], capsys)
    assert code == 0
    assert data["required"] == {"from": "SCAFE_SANDBOX_REQUIRE_LAYERS", "layers": ["rlimits", "empty_env"],
                                "missing": []}
    code, data = _run(["sandbox", "check", str(good_file), "--require-layer", "process_isolation", "--json"], capsys)
    assert code == 0
    monkeypatch.setenv("SCAFE_SANDBOX_REQUIRE_LAYERS", "no_such_layer")
    assert main(["sandbox", "check", str(good_file)]) == 2
    assert "no_such_layer" in capsys.readouterr().err
