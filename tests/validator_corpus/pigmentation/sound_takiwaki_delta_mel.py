"""Pigmentation (signed): Takiwaki melanin contrast -1.06*da* - 1.44*dL*... sign flipped so darker is positive: -(1.44 dL* + 0.44 da*) using medians, ring 4-20 px.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage
from skimage import color


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"pigment_contrast": float("nan")}
    outer = ndimage.binary_dilation(mask, iterations=20)
    inner = ndimage.binary_dilation(mask, iterations=4)
    ring = outer & ~inner
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"pigment_contrast": 0.0}
    lab = color.rgb2lab(image)
    dl = np.median(lab[..., 0][mask]) - np.median(lab[..., 0][ring])
    da = np.median(lab[..., 1][mask]) - np.median(lab[..., 1][ring])
    return {"pigment_contrast": float(-1.44 * dl + 0.44 * da)}
