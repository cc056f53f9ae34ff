"""PNG encodings used for --vision and the report."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from scafe.judge.overlay import CANDIDATE_RGB, TRUTH_RGB, overlay_png, png_bytes


def test_png_roundtrip_keeps_rgb_order() -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    image[..., 0] = 200  # pure red must stay red (OpenCV writes BGR internally)
    back = np.array(Image.open(io.BytesIO(png_bytes(image))))
    assert np.array_equal(back, image)
    mask = np.zeros((20, 30), bool)
    mask[5:9, 5:9] = True
    assert np.array_equal(np.array(Image.open(io.BytesIO(png_bytes(mask)))) > 0, mask)


def test_overlay_draws_candidate_and_truth() -> None:
    image = np.full((40, 40, 3), 128, np.uint8)
    mask = np.zeros((40, 40), bool)
    mask[10:20, 10:20] = True
    truth = np.zeros((40, 40), bool)
    truth[22:32, 22:32] = True
    drawn = np.array(Image.open(io.BytesIO(overlay_png(image, mask, truth=truth))))
    assert tuple(drawn[10, 15]) == CANDIDATE_RGB
    assert tuple(drawn[22, 25]) == TRUTH_RGB
    assert tuple(drawn[0, 0]) == (128, 128, 128)
