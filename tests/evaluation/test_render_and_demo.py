"""The report as a browser shows it (headless Chromium), and the demo end to end (slow)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _render_module():
    spec = importlib.util.spec_from_file_location("render_report", ROOT / "scripts" / "render_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chromium_renders_a_report_to_a_non_blank_png(tmp_path) -> None:
    render = _render_module()
    if render.find_browser() is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    import numpy as np
    from PIL import Image

    from scafe.report import figures
    from scafe.report.html import page, section, table

    curves = figures.learning_curves({"balanced_accuracy": {"library+xgboost": {20: (0.8, 0.7, 0.9),
                                                                                 50: (0.9, 0.85, 0.95)}}})
    html = page("render check", "subtitle", ["chip"], section("Results", "lead", table(
        ["method", "n = 50"], [("ours", ["library+xgboost", "0.900"])]) + f"<img class='fig' src='{curves}'>"), "f")
    (tmp_path / "r.html").write_text(html)
    png = render.render(tmp_path / "r.html", tmp_path / "r.png", width=900, height=900)
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (900, 900)
    assert pixels.std() > 20  # a blank or error page would be nearly uniform
    header = pixels[5:60, :, :].mean(axis=(0, 1))
    assert header[2] > header[0] + 40  # the blue header band is there: the CSS was applied


def test_render_script_reports_a_missing_file(tmp_path, capsys) -> None:
    render = _render_module()
    if render.find_browser() is None:
        pytest.skip("Chromium is not installed")
    assert render.main([str(tmp_path / "missing.html")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_end_to_end_small(tmp_path) -> None:
    """The demo pipeline with the committed library on 60 + 60 phantoms (96 px, 2 repeats)."""
    from scafe.demo import DemoConfig, run_demo

    config = DemoConfig(n_pool=60, n_test=60, size=96, sizes=(20, 50), repeats=2)
    outcome = run_demo(tmp_path / "demo", config=config)
    doc = json.loads(outcome.metrics.read_text())
    methods = {r["method"] for r in doc["results"]}
    assert {"oracle", "nuisance-only", "radiomics+mrmr+xgboost"} <= methods
    skipped = {s["method"] for s in doc["skipped"]}
    assert {"llm-image", "llm-features"} <= skipped
    assert ("library+xgboost" in methods) != ("library+xgboost" in skipped)
    assert ("cnn" in methods) != ("cnn" in skipped)
    assert outcome.report.read_text().count("<section") >= 4
