"""Perturbations: each mode does what it says, Dice labels follow the thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from scafe.errors import DataError
from scafe.judge.perturb import (
    MODES,
    PERTURBATIONS,
    dice,
    failure_masks,
    label_for,
    lesion_width,
    perturb,
)

N = 160


@pytest.fixture
def scene() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:N, :N]
    mask = ((yy - 80) / 14) ** 2 + ((xx - 80) / 40) ** 2 <= 1
    image = np.full((N, N, 3), (205, 165, 145), np.uint8)
    image[mask] = (190, 105, 105)
    return image, mask


def test_dice_and_labels() -> None:
    a = np.zeros((10, 10), bool)
    a[:5] = True
    b = np.zeros((10, 10), bool)
    b[:4] = True
    assert dice(a, b) == pytest.approx(2 * 40 / 90)
    assert dice(a, a) == 1.0
    assert dice(np.zeros_like(a), np.zeros_like(a)) == 1.0
    assert label_for(0.85) == "acceptable"
    assert label_for(0.849) is None
    assert label_for(0.70) is None
    assert label_for(0.699) == "unacceptable"


def test_lesion_width_of_a_strip() -> None:
    strip = np.zeros((100, 200), bool)
    strip[40:50, 20:180] = True  # 10 px wide, 160 long: 2A/P = 3200/~336 ~ 9.5
    assert lesion_width(strip) == pytest.approx(10, rel=0.1)


@pytest.mark.parametrize("mode", sorted(PERTURBATIONS))
def test_severity_is_graded(scene, mode: str) -> None:
    image, mask = scene
    low = dice(perturb(image, mask, mode, 0.2, np.random.default_rng(1)), mask)
    high = dice(perturb(image, mask, mode, 1.0, np.random.default_rng(1)), mask)
    assert high < low <= 1.0


def test_modes_change_the_right_thing(scene) -> None:
    image, mask = scene
    rng = np.random.default_rng(0)
    eroded = perturb(image, mask, "erosion", 0.8, rng)
    assert eroded.sum() < mask.sum()
    assert not (eroded & ~mask).any()
    dilated = perturb(image, mask, "dilation", 0.8, rng)
    assert dilated.sum() > mask.sum()
    assert not (mask & ~dilated).any()
    shifted = perturb(image, mask, "shift", 1.0, rng)
    assert abs(int(shifted.sum()) - int(mask.sum())) < 0.05 * mask.sum()
    holed = perturb(image, mask, "holes", 1.0, rng)
    assert holed.sum() < mask.sum()
    border = perturb(image, mask, "leakage_border", 0.5, rng)
    assert border[0].any() or border[-1].any() or border[:, 0].any() or border[:, -1].any()
    from scipy import ndimage

    pieces = perturb(image, mask, "fragmentation", 0.4, rng)
    assert ndimage.label(pieces, structure=np.ones((3, 3)))[1] >= 2


def test_failure_masks_cover_every_mode_and_are_deterministic(scene) -> None:
    image, mask = scene
    distractor = np.zeros_like(mask)
    distractor[10:20, 10:20] = True
    first = failure_masks(image, mask, {"mole_0": distractor}, np.random.default_rng(5))
    second = failure_masks(image, mask, {"mole_0": distractor}, np.random.default_rng(5))
    assert {m.mode for m in first} == set(MODES)
    assert [m.dice for m in first] == [m.dice for m in second]
    assert all(np.array_equal(a.mask, b.mask) for a, b in zip(first, second, strict=True))
    wrong = [m for m in first if m.mode == "wrong_structure"]
    assert wrong[0].detail == "mole"
    assert wrong[0].label == "unacceptable"
    assert all(m.label == label_for(m.dice) for m in first)


def test_bad_arguments_name_the_problem(scene) -> None:
    image, mask = scene
    rng = np.random.default_rng(0)
    with pytest.raises(DataError, match="Unknown perturbation mode 'melt'"):
        perturb(image, mask, "melt", 0.5, rng)
    with pytest.raises(DataError, match="severity"):
        perturb(image, mask, "erosion", 1.5, rng)
    with pytest.raises(DataError, match="empty"):
        perturb(image, np.zeros_like(mask), "erosion", 0.5, rng)
