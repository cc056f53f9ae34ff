"""Descriptors on synthetic shapes whose values are known analytically."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.measure import euler_number

from scafe.errors import DataError
from scafe.judge.descriptors import DESCRIPTOR_NAMES, compute_descriptors

N = 256


def _grid(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[:n, :n]


def _disc(cy: float, cx: float, r: float, n: int = N) -> np.ndarray:
    yy, xx = _grid(n)
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def _image_with(mask: np.ndarray, inside=(200, 110, 110), outside=(205, 165, 145), noise=2.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    img = np.empty((*mask.shape, 3), np.float64)
    img[:] = outside
    img[mask] = inside
    return np.clip(img + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def skin() -> np.ndarray:
    return _image_with(np.zeros((N, N), bool))


def test_disc_is_round_solid_and_convex(skin: np.ndarray) -> None:
    d = compute_descriptors(skin, _disc(128, 128, 50))
    assert d["circularity"] == pytest.approx(1.0, abs=0.03)
    assert d["solidity"] == pytest.approx(1.0, abs=0.02)
    assert d["convexity"] == pytest.approx(1.0, abs=0.02)
    assert d["n_components"] == 1
    assert d["euler_number"] == 1
    assert d["area_fraction"] == pytest.approx(math.pi * 50**2 / N**2, rel=0.01)
    assert d["boundary_roughness"] < 0.02
    assert d["border_touch"] == 0


def test_square_solidity_is_one_and_circularity_pi_over_4(skin: np.ndarray) -> None:
    mask = np.zeros((N, N), bool)
    mask[60:180, 70:190] = True
    d = compute_descriptors(skin, mask)
    assert d["solidity"] == pytest.approx(1.0, abs=1e-9)
    assert d["circularity"] == pytest.approx(math.pi / 4, rel=0.01)
    assert d["convexity"] == pytest.approx(1.0, abs=1e-9)


def test_ellipse_circularity_matches_ramanujan_perimeter(skin: np.ndarray) -> None:
    yy, xx = _grid()
    a, b = 100.0, 35.0
    mask = ((yy - 128) / b) ** 2 + ((xx - 128) / a) ** 2 <= 1
    perimeter = math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))
    expected = 4 * math.pi * (math.pi * a * b) / perimeter**2
    assert compute_descriptors(skin, mask)["circularity"] == pytest.approx(expected, rel=0.02)


def test_ring_has_one_hole_and_euler_number_zero(skin: np.ndarray) -> None:
    mask = _disc(128, 128, 60) & ~_disc(128, 128, 30)
    d = compute_descriptors(skin, mask)
    assert d["n_holes"] == 1
    assert d["euler_number"] == 0
    assert d["euler_number"] == euler_number(mask, connectivity=2)
    assert d["hole_fraction"] == pytest.approx(30**2 / 60**2, rel=0.03)
    assert d["solidity"] == pytest.approx(0.75, abs=0.02)


def test_components_and_largest_fraction(skin: np.ndarray) -> None:
    mask = _disc(60, 60, 30) | _disc(190, 190, 15) | _disc(60, 200, 15)
    d = compute_descriptors(skin, mask)
    assert d["n_components"] == 3
    big = _disc(60, 60, 30).sum()
    assert d["largest_component_fraction"] == pytest.approx(big / mask.sum())
    assert d["euler_number"] == 3


def test_border_touch_counts_frame_pixels(skin: np.ndarray) -> None:
    mask = np.zeros((N, N), bool)
    mask[0:50, 100:150] = True  # top side on the frame: 50 of the boundary pixels
    d = compute_descriptors(skin, mask)
    boundary_pixels = 50 + 2 * 49 + 48  # top row, two sides, bottom row without corners
    assert d["border_touch"] == pytest.approx(50 / boundary_pixels)


def test_jagged_boundary_is_rougher_and_less_convex(skin: np.ndarray) -> None:
    yy, xx = _grid()
    theta = np.arctan2(yy - 128, xx - 128)
    radius = 60 + 6 * np.sin(24 * theta)
    jagged = np.hypot(yy - 128, xx - 128) <= radius
    smooth = compute_descriptors(skin, _disc(128, 128, 60))
    rough = compute_descriptors(skin, jagged)
    assert rough["boundary_roughness"] > 4 * smooth["boundary_roughness"]
    assert rough["convexity"] < 0.9 < smooth["convexity"]


def test_boundary_on_the_edge_beats_a_shifted_one() -> None:
    lesion = _disc(128, 128, 50)
    image = _image_with(lesion)
    right = compute_descriptors(image, lesion)
    shifted = compute_descriptors(image, np.roll(lesion, 15, axis=1))
    assert right["boundary_f1"] > 0.9
    assert shifted["boundary_f1"] < 0.5
    assert right["boundary_gradient_ratio"] > 3 * shifted["boundary_gradient_ratio"]
    assert right["band_delta_e"] > 5 * shifted["band_delta_e"]
    # inside redder than the ring (a* up), as a scar should be
    assert right["ring_delta_a"] > 10
    assert right["ring_fisher_ratio"] > 10 * shifted["ring_fisher_ratio"]


def test_ring_contrast_matches_lab_difference() -> None:
    from skimage.color import rgb2lab

    lesion = _disc(128, 128, 40)
    image = _image_with(lesion, noise=0.0)
    d = compute_descriptors(image, lesion)
    lab_in = rgb2lab(np.array([[[200, 110, 110]]], np.uint8))[0, 0]
    lab_out = rgb2lab(np.array([[[205, 165, 145]]], np.uint8))[0, 0]
    assert d["ring_delta_e"] == pytest.approx(float(np.linalg.norm(lab_in - lab_out)), abs=1.5)


def test_empty_and_full_masks_are_defined(skin: np.ndarray) -> None:
    empty = compute_descriptors(skin, np.zeros((N, N), bool))
    assert list(empty) == list(DESCRIPTOR_NAMES)
    assert empty["area_fraction"] == 0
    assert empty["n_components"] == 0
    assert math.isnan(empty["ring_delta_e"])
    full = compute_descriptors(skin, np.ones((N, N), bool))
    assert full["border_touch"] == 1
    assert full["solidity"] == 1
    assert math.isnan(full["ring_delta_e"])
    one = np.zeros((N, N), bool)
    one[5, 5] = True
    single = compute_descriptors(skin, one)
    assert single["n_components"] == 1


def test_bad_inputs_raise_data_error(skin: np.ndarray) -> None:
    with pytest.raises(DataError, match="does not match"):
        compute_descriptors(skin, np.zeros((10, 10), bool))
    with pytest.raises(DataError, match="uint8"):
        compute_descriptors(skin.astype(np.float32), np.zeros((N, N), bool))


def test_self_consistency_is_high_on_the_edge_and_low_when_misplaced() -> None:
    lesion = _disc(128, 128, 40)
    image = _image_with(lesion)
    right = compute_descriptors(image, lesion)["self_consistency_dice"]
    eroded = compute_descriptors(image, _disc(128, 128, 25))["self_consistency_dice"]
    dilated = compute_descriptors(image, _disc(128, 128, 55))["self_consistency_dice"]
    shifted = compute_descriptors(image, np.roll(lesion, 20, axis=1))["self_consistency_dice"]
    assert right > 0.95
    assert max(eroded, dilated, shifted) < 0.8


def test_morphology_sees_cuts_and_spikes(skin: np.ndarray) -> None:
    strip = np.zeros((N, N), bool)
    strip[110:140, 30:230] = True  # 30 px wide: w = 2A/P ~ 26
    whole = compute_descriptors(skin, strip)
    assert whole["lesion_width_px"] == pytest.approx(2 * 30 * 200 / (2 * 230), rel=0.1)
    assert whole["closing_gain"] == pytest.approx(0, abs=0.01)
    assert whole["opening_loss"] == pytest.approx(0, abs=0.02)
    cut = strip.copy()
    cut[:, 128:130] = False  # a 2-px cut: two components, bridged by a 2-px closing
    d = compute_descriptors(skin, cut)
    assert d["n_components"] == 2
    assert d["n_components_closed"] == 1
    assert d["closing_gain"] > 0.005
    spiky = strip.copy()
    spiky[40:110, 60:63] = True  # a thin leak, 3 px wide
    s = compute_descriptors(skin, spiky)
    assert s["opening_loss"] > 0.02
    assert s["opening_loss"] > 5 * whole["opening_loss"]


def test_edge_offset_measures_pixel_offsets_of_the_boundary() -> None:
    """Erosion / dilation / shift by r px of a mask that sits on a soft colour edge."""
    import cv2
    from scipy import ndimage

    yy, xx = _grid()
    truth = ((yy - 128) / 12) ** 2 + ((xx - 128) / 40) ** 2 <= 1  # a 24 px-wide scar
    img = np.empty((N, N, 3))
    img[:] = (205, 165, 145)
    img[truth] = (190, 110, 110)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    img = np.clip(img + np.random.default_rng(1).normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    exact = compute_descriptors(img, truth)
    assert abs(exact["edge_offset_px"]) <= 0.5
    assert exact["edge_offset_abs_px"] <= 0.5
    assert exact["edge_agreement"] >= 0.95
    for r in (2, 3):
        eroded = compute_descriptors(img, ndimage.binary_erosion(truth, iterations=r))
        dilated = compute_descriptors(img, ndimage.binary_dilation(truth, iterations=r))
        shifted = compute_descriptors(img, np.roll(truth, r, axis=0))
        assert eroded["edge_offset_px"] == pytest.approx(r, abs=0.8)  # the edge lies outside the mask
        assert dilated["edge_offset_px"] == pytest.approx(-r, abs=0.8)  # inside it
        assert shifted["edge_offset_abs_px"] >= 0.5 * r
        for d in (eroded, dilated, shifted):
            assert d["edge_agreement"] < 0.5
            assert d["edge_offset_rel"] > exact["edge_offset_rel"] + 0.05
    assert math.isnan(compute_descriptors(img, np.zeros((N, N), bool))["edge_offset_px"])  # undefined when empty
