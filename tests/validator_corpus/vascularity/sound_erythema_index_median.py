"""Vascularity: erythema index EI = 100*log10(R/G), median inside minus median in a dilation ring 4-20 px.

Empty mask: NaN.
"""

import numpy as np
from scipy import ndimage


def extract(image, mask):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return {"redness_contrast": float("nan")}
    outer = ndimage.binary_dilation(mask, iterations=20)
    inner = ndimage.binary_dilation(mask, iterations=4)
    ring = outer & ~inner
    if not ring.any():
        ring = ~mask
    if not ring.any():
        return {"redness_contrast": 0.0}
    rgb = image.astype(np.float64) + 1.0
    ei = 100.0 * np.log10(rgb[..., 0] / rgb[..., 1])
    return {"redness_contrast": float(np.median(ei[mask]) - np.median(ei[ring]))}
