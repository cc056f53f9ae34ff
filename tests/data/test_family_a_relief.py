"""Family A's surface relief is a visible, resolvable property (issue 15: POSAS relief).

Controlled renders: one scene, every random draw the same, only the variable under test changed;
camera noise, blur, JPEG loss, hair and distractors off so the figures are about the physics.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from scafe.data import render
from scafe.data.params import sample_lesion, sample_scene

SIZE = 256
CLEAN = {"noise_sigma": 0.0, "jpeg_quality": 95, "blur_sigma": 0.0, "hair_density": 0.0, "n_distractors": 0,
         "illum_gradient": 0.0, "vignette": 0.0}


def _render(index: int, *, relief: float | None = None, elevation: float | None = None,
            label: str = "hypertrophic", **scene_changes: float) -> render.Rendered:
    root = np.random.SeedSequence([4242, index, 0x5CAFE])
    lesion_rng, scene_rng, render_rng = (np.random.default_rng(s) for s in root.spawn(3))
    lesion = replace(sample_lesion(lesion_rng, label), gloss=0.03)  # no highlight: diffuse shading only
    if relief is not None:
        lesion = replace(lesion, relief=relief)
    scene = replace(sample_scene(scene_rng, "default", SIZE), **{**CLEAN, **scene_changes})
    if elevation is not None:
        scene = replace(scene, light_elevation_deg=elevation)
    return render.render_scene(render_rng, lesion, scene, SIZE)


def _log_lum(out: render.Rendered) -> np.ndarray:
    return np.log(out.image.astype(np.float64).mean(axis=2) + 2.0)


def _contour_isotropy(out: render.Rendered) -> float:
    """Median |d l / d t| / median |d l / d n| on the scar core (t along, n across the contours)."""
    lum = ndimage.gaussian_filter(_log_lum(out), 1.0)
    inside = ndimage.distance_transform_edt(out.mask)
    signed = ndimage.gaussian_filter(inside - ndimage.distance_transform_edt(~out.mask), 2.0)
    sy, sx = np.gradient(signed)
    steep = np.hypot(sx, sy)
    nx, ny = sx / (steep + 1e-6), sy / (steep + 1e-6)
    ly, lx = np.gradient(lum)
    core = out.mask & (inside > 2.5) & (steep > 0.3)
    return float(np.median(np.abs(ly * nx - lx * ny)[core]) / np.median(np.abs(lx * nx + ly * ny)[core]))


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_relief_visibility_rises_with_relief_at_fixed_light(index: int) -> None:
    """The same scar under the same 40-degree light: more relief (RMS bump height) shades more
    irregularly along the scar's contour lines, where a smooth dome's shading is nearly flat."""
    values = [_contour_isotropy(_render(index, relief=r, elevation=40.0)) for r in (0.0, 0.12, 0.35)]
    assert values[0] < values[1] < values[2], values
    assert values[2] > 1.3 * values[0], values  # a clear effect, not a nudge


def test_relief_is_measured_as_rms_height() -> None:
    """``latent_relief`` is the RMS of the rendered bumps over the scar: zero without bumps and
    close to the drawn value otherwise (the 0.5 mm fade-in at the border lowers it a little)."""
    assert _render(0, relief=0.0).measured["relief_rms_mm"] == 0.0
    measured = _render(0, relief=0.3).measured["relief_rms_mm"]
    assert 0.15 < measured <= 0.3


def _skin_fine_texture(out: render.Rendered) -> float:
    """Robust spread of the 1-3 px band of log luminance on skin well away from the scar."""
    lum = _log_lum(out)
    band = ndimage.gaussian_filter(lum, 0.7) - ndimage.gaussian_filter(lum, 2.0)
    far = ndimage.distance_transform_edt(~out.mask) > 20
    values = band[far]
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_skin_fine_texture_does_not_follow_skin_tone(index: int) -> None:
    """The skin's finest visible texture is micro-relief (height): on log luminance its shading is
    a brightness factor whatever the skin's colour, so very dark (ITA -45 deg) and very light
    (ITA 65 deg) skin show about the same fine texture (1.3-1.4 x here). A melanin speckle (the
    session-2 renderer's 0.4 mm pigment octave, 10 % of the skin's melanin) made it 7.2-8.5 times
    stronger on the dark skin of these scenes, which is what made a relief comparison with the
    skin follow skin tone."""
    dark = _skin_fine_texture(_render(index, elevation=35.0, skin_texture=1.0, ita=-45.0))
    light = _skin_fine_texture(_render(index, elevation=35.0, skin_texture=1.0, ita=65.0))
    assert dark < 2.0 * light, (dark, light)


@pytest.mark.parametrize("index", [0, 1])
def test_skin_fine_texture_is_mostly_height(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flatten the skin (pores, creases and fine micro-relief at zero depth) under the same light:
    most of the skin's fine texture goes, so it is the light shading the surface, not pigment."""
    relief = _skin_fine_texture(_render(index, elevation=35.0, skin_texture=1.0))
    for name in ("MICRO_RELIEF_MM", "PORE_DEPTH_MM", "CREASE_DEPTH_MM"):
        monkeypatch.setattr(render, name, 0.0)
    flat = _skin_fine_texture(_render(index, elevation=35.0, skin_texture=1.0))
    assert relief > 2.0 * flat, (relief, flat)


def test_scar_is_hairless() -> None:
    """Scar tissue has no hair follicles: with dense hair around it, the scar carries none
    (hypertrophic and keloid alike), while the skin around it does."""
    for label in ("hypertrophic", "keloid"):
        bare = _render(5, label=label, hair_density=0.0)
        hairy = _render(5, label=label, hair_density=60.0)
        core = ndimage.binary_erosion(bare.mask, iterations=3)
        skin = ndimage.distance_transform_edt(~bare.mask) > 5
        diff = np.abs(hairy.image.astype(int) - bare.image.astype(int)).sum(axis=2)
        assert diff[skin].mean() > 5 * max(diff[core].mean(), 0.05), label
