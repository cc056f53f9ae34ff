"""The reference extractors: documented as the contract asks, and right on shapes with known answers.

Every check runs the extractor inside the sandbox (``ExtractorRunner``); nothing is imported.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np
import pytest

from sandbox import ExtractorRunner
from scafe.criteria import find_item
from scafe.library import Library

LIBRARY = Library.open()
REFERENCE = [e for e in LIBRARY.active() if e.origin == "reference"]


def _run(name: str, image: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    with ExtractorRunner(LIBRARY.source(LIBRARY.get(name))) as runner:
        result = runner.run(image, mask)
    assert result.features is not None, result.error
    return result.features


def _disc(size: int = 128, radius: float = 30.0, centre: tuple[float, float] | None = None) -> np.ndarray:
    cy, cx = centre or (size / 2, size / 2)
    yy, xx = np.mgrid[:size, :size]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2


def _skin(size: int = 128, rgb: tuple[int, int, int] = (200, 160, 140)) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (size, size, 3)).copy()


def test_the_library_holds_reference_extractors():
    assert len(REFERENCE) >= 8


@pytest.mark.parametrize("entry", REFERENCE, ids=lambda e: e.name)
def test_docstring_quotes_the_criterion_and_states_range_and_nan(entry):
    source = LIBRARY.source(entry)
    doc = ast.get_docstring(ast.parse(source)) or ""
    item = find_item(f"{entry.criterion.scale}/{entry.criterion.item}")[1]
    flat = re.sub(r"\s+", " ", doc)
    assert re.sub(r"\s+", " ", item.definition.strip()) in flat, "criterion text not quoted"
    assert "Range:" in doc
    assert "Empty mask: NaN" in flat


def test_size_of_a_disc():
    mask = _disc(radius=30.0)
    out = _run("lesion_size", _skin(), mask)
    assert out["size_area_fraction"] == pytest.approx(mask.sum() / 128**2)
    # moment-ellipse axes of a disc = its diameter
    assert out["size_major_axis_fraction"] * 128 == pytest.approx(60.0, rel=0.02)


def test_shape_irregularity_disc_versus_claws():
    disc = _disc(radius=30.0)
    claws = disc.copy()
    for angle in np.linspace(0, 2 * np.pi, 6, endpoint=False):  # five thin projections
        for t in range(28, 56):
            y = int(64 + t * math.sin(angle))
            x = int(64 + t * math.cos(angle))
            claws[max(y - 2, 0):y + 3, max(x - 2, 0):x + 3] = True
    smooth = _run("shape_irregularity", _skin(), disc)
    ragged = _run("shape_irregularity", _skin(), claws)
    assert smooth["shape_irregularity"] < 0.03
    assert ragged["shape_irregularity"] > 0.3
    pods = _run("pseudopod_projections", _skin(), claws)
    assert pods["pseudopod_notch_count"] == 6  # one notch between each pair of neighbouring claws
    assert pods["pseudopod_opening_count"] == 6
    smooth_pods = _run("pseudopod_projections", _skin(), disc)
    assert smooth_pods["pseudopod_notch_count"] == 0
    assert smooth_pods["pseudopod_opening_count"] == 0


def test_vascularity_sign_follows_redness():
    mask = _disc()
    red = _skin()
    red[mask] = (210, 120, 120)
    pale = _skin()
    pale[mask] = (215, 190, 175)
    assert _run("vss_vascularity", red, mask)["vascularity_delta_a"] > 5
    assert _run("vss_vascularity", pale, mask)["vascularity_delta_a"] < -2


def test_rim_erythema_sees_the_halo_not_the_lesion():
    mask = _disc(radius=25.0)
    yy, xx = np.mgrid[:128, :128]
    dist = np.hypot(yy - 64, xx - 64) - 25.0
    halo = _skin()
    halo[(dist > 0) & (dist < 10)] = (215, 140, 130)
    plain_red_lesion = _skin()
    plain_red_lesion[mask] = (210, 110, 110)
    assert _run("rim_erythema", halo, mask)["rim_erythema_delta_a"] > 5
    assert abs(_run("rim_erythema", plain_red_lesion, mask)["rim_erythema_delta_a"]) < 1


def test_pigmentation_darker_lesion_is_positive():
    mask = _disc()
    dark = _skin()
    dark[mask] = (120, 85, 65)
    assert _run("vss_pigmentation", dark, mask)["pigmentation_delta_mel_takiwaki"] > 10


def test_colour_mismatch_zero_for_identical_colour():
    out = _run("colour_mismatch", _skin(), _disc())
    assert out["colour_mismatch_delta_e"] == pytest.approx(0.0, abs=1e-6)


def test_gloss_highlight_raises_the_peak():
    mask = _disc()
    matte = _skin()
    shiny = matte.copy()
    shiny[60:66, 60:66] = 255  # a white specular spot on the lesion
    assert _run("surface_gloss", shiny, mask)["gloss_specular_peak"] > \
        _run("surface_gloss", matte, mask)["gloss_specular_peak"] + 0.2
