"""The report in a real browser: headless Debian Chromium driven by selenium (chromium-driver)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.report.conftest import HOSTILE

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("report_screenshot", ROOT / "scripts" / "report_screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_calibration_subgroup_and_provenance_sections_are_visible(small_report, tmp_path) -> None:
    shot = _script()
    missing = shot.chromium_missing()
    if missing:
        pytest.skip(missing)
    from selenium.webdriver.common.by import By

    drv = shot.driver(width=1300, height=900)
    try:
        drv.get(small_report["path"].resolve().as_uri())
        states = {a: shot.section_state(drv, a) for a in ("calibration", "thresholds", "subgroups", "provenance",
                                                          "glossary")}
        n_scripts = len(drv.find_elements(By.TAG_NAME, "script"))
        title = drv.title
    finally:
        drv.quit()
    assert title.startswith("scafe")
    assert n_scripts == 0  # the hostile manifest value stayed text
    for anchor, state in states.items():
        assert state["present"], anchor
        assert state["visible"], anchor
        assert state["width"] > 600, (anchor, state)
        assert state["height"] > 100, (anchor, state)
    assert states["calibration"]["heading"] == "Calibration"
    assert states["calibration"]["images"] == 1
    assert states["calibration"]["images_loaded"]
    assert "Brier score" in states["calibration"]["text"]
    assert "skin tone (ITA band, nuisance_ita)" in states["subgroups"]["text"]
    assert HOSTILE in states["subgroups"]["text"]  # shown literally, as the user wrote it
    assert "Active extractors" in states["provenance"]["text"]
    assert "git commit" in states["provenance"]["text"]
    assert "log-odds" in states["glossary"]["text"]


def test_screenshot_script_writes_section_pngs(small_report, tmp_path) -> None:
    shot = _script()
    missing = shot.chromium_missing()
    if missing:
        pytest.skip(missing)
    import numpy as np
    from PIL import Image

    assert shot.main(["--html", str(small_report["path"]), "--out", str(tmp_path)]) == 0
    for part in ("calibration", "subgroups", "provenance", "thresholds", "top"):
        pixels = np.asarray(Image.open(tmp_path / f"report_{part}.png").convert("RGB"), dtype=float)
        assert pixels.shape[0] > 100, part
        assert pixels.std() > 10, part  # not a blank capture
