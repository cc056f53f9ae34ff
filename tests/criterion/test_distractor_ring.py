"""Forcing distractors into the perilesional ring (``scafe.data.distractors.add_ring_distractor``).

The criterion check for colour and rim items composites these into rendered photographs of both
phantom families; here they are tested on a plain synthetic skin so every property is exact.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from scafe.data.distractors import RING_KINDS, add_ring_distractor

PPM = 4.0  # px per mm


def _scene(size: int = 160) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    skin = np.clip(np.array([205.0, 160.0, 135.0]) + rng.normal(0, 3, (size, size, 3)), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[:size, :size]
    lesion = ((yy - 80) / 18.0) ** 2 + ((xx - 75) / 30.0) ** 2 <= 1.0
    skin[lesion] = (190, 110, 105)
    return skin, lesion


def _outside_mm(lesion: np.ndarray) -> np.ndarray:
    return cv2.distanceTransform((~lesion).astype(np.uint8), cv2.DIST_L2, 5) / PPM


@pytest.mark.parametrize("kind", RING_KINDS)
def test_each_kind_lands_next_to_the_scar_and_never_on_it(kind):
    image, lesion = _scene()
    out, dmask = add_ring_distractor(image, lesion, kind, px_per_mm=PPM, seed=1)
    assert out.shape == image.shape
    assert out.dtype == np.uint8
    assert dmask.any(), f"{kind}: nothing was drawn"
    assert not (dmask & lesion).any()
    np.testing.assert_array_equal(out[lesion], image[lesion])  # the lesion's pixels are untouched
    changed = np.any(out.astype(int) != image.astype(int), axis=2)
    assert not (changed & lesion).any()
    # it reaches into the perilesional ring (within 4 mm of the border)
    assert (_outside_mm(lesion)[dmask] <= 4.0).any(), f"{kind}: not in the ring"


@pytest.mark.parametrize("kind", ["mole", "tattoo", "shadow", "hair", "marker"])
def test_absorbers_and_shadows_only_darken(kind):
    image, lesion = _scene()
    out, dmask = add_ring_distractor(image, lesion, kind, px_per_mm=PPM, seed=2)
    diff = out.astype(int) - image.astype(int)
    assert diff.max() <= 1  # rounding only: nothing here adds light
    assert diff[dmask].mean() < -10


def test_ruler_is_an_opaque_light_object_with_dark_ticks():
    image, lesion = _scene()
    out, dmask = add_ring_distractor(image, lesion, "ruler", px_per_mm=PPM, seed=0)
    assert dmask.mean() > 0.05  # a strip 6-10 mm wide across the frame
    strip = out[dmask].astype(float)
    assert np.median(strip.mean(axis=1)) > image[~lesion].mean() + 20  # lighter than the skin
    assert (strip.max(axis=1) < 80).any()  # millimetre ticks (3 % reflectance)


def test_deterministic_per_seed_and_different_across_seeds():
    image, lesion = _scene()
    a, ma = add_ring_distractor(image, lesion, "mole", px_per_mm=PPM, seed=5)
    b, mb = add_ring_distractor(image, lesion, "mole", px_per_mm=PPM, seed=5)
    c, mc = add_ring_distractor(image, lesion, "mole", px_per_mm=PPM, seed=6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ma, mb)
    assert not np.array_equal(ma, mc)


def test_unknown_kind_names_the_kinds():
    image, lesion = _scene()
    with pytest.raises(ValueError, match="kinds are: ruler, mole"):
        add_ring_distractor(image, lesion, "sticker", px_per_mm=PPM)


def test_empty_and_full_masks_are_returned_unchanged():
    image, _ = _scene()
    for mask in (np.zeros(image.shape[:2], bool), np.ones(image.shape[:2], bool)):
        out, dmask = add_ring_distractor(image, mask, "ruler", px_per_mm=PPM)
        np.testing.assert_array_equal(out, image)
        assert not dmask.any()


def test_works_on_rendered_phantoms_of_both_families():
    from scafe.data.phantoms import render_phantom

    for family in ("a", "b"):
        ph = render_phantom(3, seed=11, size=128, family=family)
        ppm = ph.nuisance["nuisance_px_per_mm"]
        for kind in RING_KINDS:
            out, dmask = add_ring_distractor(ph.image, ph.mask, kind, px_per_mm=ppm, seed=3)
            assert dmask.any(), (family, kind)
            assert not (dmask & ph.mask).any(), (family, kind)
            np.testing.assert_array_equal(out[ph.mask], ph.image[ph.mask])
